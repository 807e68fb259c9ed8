"""A small client for the Autotask PSA REST API: the calls ``billready pull`` makes, within limits.

What it does (the facts are in docs/pull.md):

- authenticates every request with the ``UserName``, ``Secret`` and ``ApiIntegrationCode``
  headers, and never puts the secret or the integration code in a message, log line or error;
- finds the tenant's zone (``GET /V1.0/ZoneInformation?user=``) unless given the REST root;
- queries an entity (``POST /V1.0/{Entity}/query``, ``MaxRecords`` 500) and follows
  ``pageDetails.nextPageUrl`` until it is null, re-sending the query body (only to the same host);
  counts (``query/count``), reads field definitions and picklists (``entityInformation/fields``);
- keeps at most 3 requests in flight per endpoint (entity);
- retries a request that got 429 or 5xx, or whose connection dropped, a bounded number of times,
  backing off exponentially or for as long as ``Retry-After`` says;
- reads ``ThresholdInformation`` every so many requests and, once half of the hourly budget is
  used, spaces requests so that the rest lasts a whole window.

Built on ``requests`` (one session per thread). Delays go through injectable ``sleep`` and
``clock`` functions so tests run without waiting.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from billready.autotask import Entity
from billready.errors import ApiAuthError, ApiError, UsageError

__all__ = [
    "API_VERSION",
    "AutotaskClient",
    "BASE_URL_ENV",
    "Credentials",
    "Limits",
    "MAX_RECORDS",
    "RetryPolicy",
    "ZONE_LOOKUP_ROOT",
    "connect",
    "normalise_base_url",
    "resolve_base_url",
]

logger = logging.getLogger(__name__)

USERNAME_ENV = "AUTOTASK_USERNAME"
SECRET_ENV = "AUTOTASK_SECRET"
INTEGRATION_CODE_ENV = "AUTOTASK_INTEGRATION_CODE"
BASE_URL_ENV = "AUTOTASK_BASE_URL"
#: Where the zone of a user is looked up (the REST root of the zone-less host).
ZONE_LOOKUP_ROOT = "https://webservices.autotask.net/ATServicesRest"
API_VERSION = "V1.0"
MAX_RECORDS = 500  # the most records the API returns in one page
_RETRYABLE_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_REDACTED = "[redacted]"


@dataclass(frozen=True)
class Credentials:
    """An API user's credentials. ``repr`` and messages never show the secret or the code."""

    username: str
    secret: str = field(repr=False)
    integration_code: str = field(repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``AUTOTASK_USERNAME``, ``AUTOTASK_SECRET`` and ``AUTOTASK_INTEGRATION_CODE``."""
        environ = os.environ if environ is None else environ
        names = (USERNAME_ENV, SECRET_ENV, INTEGRATION_CODE_ENV)
        missing = [name for name in names if not environ.get(name, "").strip()]
        if missing:
            raise UsageError(
                f"set {', '.join(missing)}: the Autotask API user's name and secret, and the "
                "API integration (tracking) code; see docs/pull.md"
            )
        return cls(*(environ[name].strip() for name in names))

    def headers(self) -> dict[str, str]:
        """The authentication headers of every request."""
        return {
            "UserName": self.username,
            "Secret": self.secret,
            "ApiIntegrationCode": self.integration_code,
        }

    def redact(self, text: str) -> str:
        """``text`` with the secret and the integration code blanked out."""
        for value in (self.secret, self.integration_code):
            if value:
                text = text.replace(value, _REDACTED)
        return text


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed request (429, 5xx, dropped connection) is retried.

    ``attempts`` counts the first try. Without ``Retry-After`` the n-th retry waits
    ``backoff * 2**(n-1)`` seconds, at most ``max_backoff``; a ``Retry-After`` is honoured up to
    ``max_retry_after`` seconds. ``timeout`` bounds connecting and each read, in seconds.
    """

    attempts: int = 6
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 900.0
    timeout: float = 60.0

    def delay(self, retry: int, retry_after: float | None) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return min(self.backoff * 2 ** (retry - 1), self.max_backoff)


@dataclass(frozen=True)
class Limits:
    """The API's documented limits, as the client keeps them.

    ``per_endpoint`` requests in flight per endpoint (entity); ``ThresholdInformation`` read every
    ``check_every`` requests; from ``slow_above`` of the hourly budget used, requests are spaced
    ``window / remaining`` seconds apart (at most ``max_pace``), so the rest lasts a window.
    ``workers`` is how many entities ``billready pull`` reads at once.
    """

    per_endpoint: int = 3
    workers: int = 3
    check_every: int = 50
    slow_above: float = 0.5
    max_pace: float = 120.0


class _Budget:
    """Spaces requests out once the tenant's hourly request budget is half used (thread-safe)."""

    def __init__(self, limits: Limits, clock: Callable[[], float], sleep: Callable[[float], None]):
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._interval = 0.0
        self._next_slot = 0.0
        self._since_check = limits.check_every  # check before the first request
        self.enabled = True
        self.last: tuple[int, int] | None = None  # (used, threshold) as last read

    def due(self) -> bool:
        """Whether it is time to read ThresholdInformation (claims the check for this caller)."""
        with self._lock:
            if not self.enabled or self._since_check < self._limits.check_every:
                self._since_check += 1
                return False
            self._since_check = 0
            return True

    def observe(self, threshold: int, used: int, timeframe_minutes: int) -> None:
        """Set the pace from one ThresholdInformation reading."""
        remaining = threshold - used
        interval = 0.0
        if threshold > 0 and used / threshold >= self._limits.slow_above:
            window = max(timeframe_minutes, 1) * 60.0
            interval = min(window / max(remaining, 1), self._limits.max_pace)
        with self._lock:
            changed = interval != self._interval
            self._interval = interval
            self.last = (used, threshold)
        if changed and interval:
            logger.warning(
                "Autotask API: %s of %s requests of this hour's budget used; "
                "spacing requests %.1f s apart",
                f"{used:,}",
                f"{threshold:,}",
                interval,
            )

    def wait(self) -> None:
        """Wait for this request's slot when requests are being spaced out."""
        with self._lock:
            if not self._interval:
                return
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


class AutotaskClient:
    """Requests to one tenant's REST root (``https://webservicesN.autotask.net/ATServicesRest``).

    Use :func:`connect` to build one from credentials (it finds the zone). Thread-safe: entity
    pulls run in parallel, within :class:`Limits`. Close it (or use ``with``) when done.
    """

    def __init__(
        self,
        credentials: Credentials,
        base_url: str,
        *,
        retry: RetryPolicy = RetryPolicy(),
        limits: Limits = Limits(),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.base_url = normalise_base_url(base_url)
        self.retry = retry
        self.limits = limits
        self._sleep = sleep
        self._budget = _Budget(limits, clock, sleep)
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self.requests_sent = 0
        self.retries = 0

    # -- the API calls --------------------------------------------------------------------------

    def query(
        self,
        entity: Entity,
        filters: Sequence[Mapping[str, Any]],
        *,
        include_fields: Sequence[str] | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the records of a query, page by page (``nextPageUrl`` until it is null)."""
        body: dict[str, Any] = {"MaxRecords": MAX_RECORDS, "filter": list(filters)}
        if include_fields:
            body["IncludeFields"] = list(include_fields)
        url: str | None = self._url(entity.name, "query")
        seen: set[str] = set()
        while url:
            seen.add(url)
            page = self._request("POST", url, endpoint=entity.name, body=body)
            items, next_url = _page_parts(page, f"POST /{API_VERSION}/{entity.name}/query")
            yield items
            url = self._same_origin(next_url) if next_url else None
            if url in seen:
                raise ApiError(f"{entity.name}/query: the API sent the same nextPageUrl twice")

    def count(self, entity: Entity, filters: Sequence[Mapping[str, Any]]) -> int:
        """The number of records a query matches (``query/count``)."""
        what = f"POST /{API_VERSION}/{entity.name}/query/count"
        data = self._request(
            "POST", self._url(entity.name, "query/count"), endpoint=entity.name,
            body={"filter": list(filters)},
        )
        count = _key(data, "queryCount")
        if not isinstance(count, int) or isinstance(count, bool):
            raise ApiError(f"{what} returned no queryCount")
        return count

    def fields(self, entity: Entity) -> dict[str, Any]:
        """The ``entityInformation/fields`` response: field definitions and picklist values."""
        what = f"GET /{API_VERSION}/{entity.name}/entityInformation/fields"
        data = self._request(
            "GET", self._url(entity.name, "entityInformation/fields"), endpoint=entity.name
        )
        fields = _key(data, "fields")
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise ApiError(f"{what} returned no list of fields")
        return {"fields": fields}

    def check_budget(self) -> None:
        """Read ``ThresholdInformation`` and pace requests by it (skipped if unavailable)."""
        try:
            data = self._request(
                "GET", self._url("ThresholdInformation"), endpoint="ThresholdInformation",
                paced=False,
            )
        except ApiAuthError:
            raise
        except ApiError as exc:
            logger.warning("Autotask API: cannot read ThresholdInformation (%s); not pacing", exc)
            self._budget.enabled = False
            return
        values = [
            _key(data, name)
            for name in (
                "externalRequestThreshold", "currentTimeframeRequestCount",
                "requestThresholdTimeframe",
            )
        ]
        if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            threshold, used, timeframe = values
            logger.debug("Autotask API budget: %s of %s requests used", used, threshold)
            self._budget.observe(threshold, used, timeframe)

    @property
    def budget(self) -> tuple[int, int] | None:
        """(requests used, hourly threshold) as last read from ThresholdInformation."""
        return self._budget.last

    # -- plumbing -------------------------------------------------------------------------------

    def _url(self, *parts: str) -> str:
        return "/".join((self.base_url, API_VERSION, *parts))

    def _same_origin(self, url: str) -> str:
        """Refuse to send credentials to a host other than the REST root's."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme.lower(), theirs.netloc.lower()) != (ours.scheme.lower(), ours.netloc.lower()):
            raise ApiError(
                f"the API sent a nextPageUrl on another host ({theirs.scheme}://{theirs.hostname}); "
                "billready does not send credentials there"
            )
        return url

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers.update(self.credentials.headers())
            session.headers["Accept"] = "application/json"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    @contextmanager
    def _slot(self, endpoint: str) -> Iterator[None]:
        """Hold one of the endpoint's ``per_endpoint`` request slots."""
        with self._lock:
            slot = self._slots.setdefault(
                endpoint.lower(), threading.BoundedSemaphore(self.limits.per_endpoint)
            )
        with slot:
            yield

    def _request(
        self,
        method: str,
        url: str,
        *,
        endpoint: str,
        body: Mapping[str, Any] | None = None,
        paced: bool = True,
    ) -> Any:
        """Send one request, retrying 429, 5xx and dropped connections; return its JSON."""
        what = f"{method} {urlsplit(url).path.removeprefix(urlsplit(self.base_url).path)}"
        for attempt in range(1, self.retry.attempts + 1):
            if paced:
                if self._budget.due():
                    self.check_budget()
                self._budget.wait()
            try:
                return self._attempt(method, url, endpoint, body, what)
            except _Transient as failure:
                if attempt == self.retry.attempts:
                    raise ApiError(
                        f"{what} failed {attempt} times (last: {failure.problem}); giving up",
                        status=failure.status,
                    ) from None
                problem = failure.problem
                wait = self.retry.delay(attempt, failure.retry_after)
            with self._lock:
                self.retries += 1
            logger.warning(
                "Autotask API: %s: %s; retry %d of %d in %.1f s",
                what, problem, attempt, self.retry.attempts - 1, wait,
            )
            self._sleep(wait)
        raise AssertionError("unreachable")

    def _attempt(
        self, method: str, url: str, endpoint: str, body: Mapping[str, Any] | None, what: str
    ) -> Any:
        """One try: the response's JSON; raises :class:`_Transient` when worth retrying."""
        with self._lock:
            self.requests_sent += 1
        with self._slot(endpoint):
            try:
                response = self._session().request(
                    method, url, json=body, timeout=self.retry.timeout
                )
                content = response.content  # read it all here: a dropped connection raises
            except _RETRYABLE_ERRORS as exc:
                raise _Transient(f"connection failed ({type(exc).__name__})") from None
            except requests.RequestException as exc:
                raise ApiError(f"{what}: cannot send the request ({type(exc).__name__})") from None
        status = response.status_code
        if status in (401, 403):
            raise ApiAuthError(
                f"the Autotask API refused the credentials (HTTP {status} on {what}): check "
                f"{USERNAME_ENV}, {SECRET_ENV} and {INTEGRATION_CODE_ENV}",
                status=status,
            )
        if status == 429 or status >= 500:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            raise _Transient(f"HTTP {status}", status, retry_after)
        if status >= 400:
            raise ApiError(
                f"{what} was refused (HTTP {status}){self._errors(content)}", status=status
            )
        try:
            return json.loads(content)
        except ValueError:
            raise ApiError(f"{what} returned a response that is not JSON", status=status) from None

    def _errors(self, content: bytes) -> str:
        """The API's ``errors`` list as ``: a; b`` (redacted, shortened), or nothing."""
        try:
            errors = _key(json.loads(content), "errors")
        except ValueError:
            return ""
        if not isinstance(errors, list) or not errors:
            return ""
        text = self.credentials.redact("; ".join(str(e) for e in errors))
        return f": {text[:300]}"

    def close(self) -> None:
        """Close every thread's HTTP session."""
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> AutotaskClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def connect(
    credentials: Credentials,
    base_url: str | None = None,
    *,
    zone_lookup_root: str = ZONE_LOOKUP_ROOT,
    **options: Any,
) -> AutotaskClient:
    """A client for the tenant: at ``base_url`` if given, else in the zone the API names.

    ``options`` (``retry``, ``limits``, ``sleep``, ``clock``) go to :class:`AutotaskClient`.
    Raises :class:`ApiError` when the zone is unknown, :class:`ApiAuthError` on bad credentials.
    """
    if base_url:
        return AutotaskClient(credentials, base_url, **options)
    with AutotaskClient(credentials, zone_lookup_root, **options) as lookup:
        url = f"{lookup.base_url}/{API_VERSION}/ZoneInformation?user={quote(credentials.username)}"
        try:
            data = lookup._request("GET", url, endpoint="ZoneInformation", paced=False)
        except ApiAuthError:
            raise
        except ApiError as exc:
            if exc.status is None:  # not answered at all: a network problem, not the zone
                raise
            raise _unknown_zone(f"the zone lookup failed: {exc}") from None
    zone = _key(data, "url")
    if not isinstance(zone, str) or not zone.strip():
        raise _unknown_zone("the zone lookup returned no url")
    try:
        root = normalise_base_url(zone)
    except UsageError as exc:
        raise _unknown_zone(f"the zone lookup returned an unusable url ({exc})") from None
    logger.info("Autotask zone: %s", root)
    return AutotaskClient(credentials, root, **options)


def resolve_base_url(explicit: str | None = None) -> str | None:
    """The REST root to use: ``explicit`` (``--base-url``), else ``$AUTOTASK_BASE_URL``, else
    None (find the zone); normalised, so a bad URL is refused before anything starts."""
    chosen = (explicit or os.environ.get(BASE_URL_ENV, "")).strip()
    return normalise_base_url(chosen) if chosen else None


def _unknown_zone(detail: str) -> ApiError:
    return ApiError(
        f"unknown Autotask zone for {USERNAME_ENV}: {detail}. Check the user name, or name the "
        f"REST root with --base-url or {BASE_URL_ENV} (e.g. "
        "https://webservices5.autotask.net/ATServicesRest)"
    )


def normalise_base_url(url: str) -> str:
    """The REST root (the part before ``/V1.0/``), without a trailing slash.

    Refuses credentials in the URL, a query string, and plain ``http`` to anything but this
    machine (the secret would travel unencrypted).
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"not an http(s) URL: {text!r}")
    if parts.username or parts.password:
        raise UsageError(
            f"the base URL must not carry credentials; set {USERNAME_ENV}, {SECRET_ENV} and "
            f"{INTEGRATION_CODE_ENV} instead"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"the base URL takes no query string: {parts.scheme}://{parts.netloc}{parts.path}")
    if parts.scheme.lower() == "http" and not _is_loopback(parts.hostname):
        raise UsageError("use https:// for a remote Autotask API (http is for 127.0.0.1 only)")
    path = parts.path.rstrip("/")
    if path.lower().endswith("/" + API_VERSION.lower()):
        path = path[: -len(API_VERSION) - 1]
    return f"{parts.scheme.lower()}://{parts.netloc}{path}"


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _key(data: Any, name: str) -> Any:
    """``data[name]``, matching the key ignoring case (the swagger spells keys in PascalCase,
    the API's JSON in camelCase); None when absent."""
    if not isinstance(data, dict):
        return None
    if name in data:
        return data[name]
    lower = name.lower()
    return next((value for key, value in data.items() if key.lower() == lower), None)


def _page_parts(page: Any, what: str) -> tuple[list[dict[str, Any]], str | None]:
    """The records and ``nextPageUrl`` of a query response."""
    items = _key(page, "items")
    if not isinstance(items, list):
        raise ApiError(f"{what} returned no items list")
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise ApiError(f"{what}: record {number} is not a JSON object")
    next_url = _key(_key(page, "pageDetails"), "nextPageUrl")
    if next_url is not None and not isinstance(next_url, str):
        raise ApiError(f"{what}: pageDetails.nextPageUrl is not a URL")
    return items, next_url or None


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max((moment - datetime.now(timezone.utc)).total_seconds(), 0.0)


class _Transient(Exception):
    """A try that is worth repeating: 429, 5xx, or a connection that failed or dropped."""

    def __init__(
        self, problem: str, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status
        self.retry_after = retry_after
