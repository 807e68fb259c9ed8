"""A local stand-in for the Autotask REST API, serving an export directory on 127.0.0.1.

It speaks the subset of the protocol ``billready pull`` uses, as the swagger describes it
(``shared/reference/autotask-rest-api-v1.swagger.json``):

- ``GET /V1.0/ZoneInformation?user=`` (its own REST root for the stand-in's user, 404 otherwise);
- ``POST|GET /V1.0/{Entity}/query`` (body or ``search=`` JSON: ``MaxRecords`` at most 500,
  ``IncludeFields``, ``filter`` with eq, noteq, gt, gte, lt, lte, beginsWith, endsWith, contains,
  in, notIn, exist, notExist and and/or groups), records in id order, pages linked by
  ``pageDetails.nextPageUrl`` (a ``/query`` URL with a ``paging`` parameter);
- ``POST|GET /V1.0/{Entity}/query/count``, ``GET /V1.0/{Entity}/entityInformation/fields``
  (the catalogue's fields with the export's picklist values) and ``GET /V1.0/ThresholdInformation``;
- header authentication (401 on bad credentials) and at most 3 requests in flight per endpoint
  (429 beyond);
- injectable :class:`Fault` s: 429 with ``Retry-After``, 500, and a connection dropped mid-page.

The tenant is any export directory ``billready ingest`` accepts: it is landed once, through the
same code, in a private DuckDB file, and served typed as the API's JSON (numbers, booleans, ISO
timestamps in UTC, user-defined fields as arrays). Tests change it with :meth:`update`,
:meth:`insert` and :meth:`delete`; an entity with a last-modified field gets it stamped.
"""

from __future__ import annotations

import hmac
import json
import logging
import socket
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import duckdb

from billready import settings
from billready.autotask import PICKLISTS, RAW_SCHEMA, REST_ENTITIES, Entity, Field
from billready.autotask_api import API_VERSION, MAX_RECORDS, Credentials
from billready.errors import UsageError
from billready.ingest import discover_exports, ingest_directory
from billready.pull import CURSOR_FIELDS, PullReport, pull_tenant

__all__ = ["DEMO_CREDENTIALS", "AutotaskStandIn", "Fault", "RecordedRequest", "pull_demo", "serve_standin"]

logger = logging.getLogger(__name__)

#: The stand-in's default API user (made-up values; they guard nothing real).
DEMO_CREDENTIALS = Credentials("standin@example.com", "standin-secret", "STANDIN-INTEGRATION")
REST_ROOT = "/ATServicesRest"
HOST = "127.0.0.1"
_METADATA = ("_loaded_at", "_source_file", "_deleted_at")


@dataclass
class Fault:
    """A failure to inject: ``kind`` is ``429``, ``500`` or ``drop`` (headers and half the body
    of the real response, then the connection is closed).

    It hits requests whose path and query contain ``path`` (ignoring case; every request when
    None), after letting ``after`` of them through, ``times`` times. A 429 carries
    ``Retry-After: retry_after`` unless that is None.
    """

    kind: str
    path: str | None = None
    after: int = 0
    times: int = 1
    retry_after: str | None = "1"
    hits: int = 0
    seen: int = 0

    def claims(self, target: str) -> bool:
        """Whether this fault hits a request for ``target`` (counts it either way)."""
        if self.path is not None and self.path.lower() not in target.lower():
            return False
        self.seen += 1
        if self.seen <= self.after or self.hits >= self.times:
            return False
        self.hits += 1
        return True


@dataclass(frozen=True)
class RecordedRequest:
    """A request the stand-in answered: method, path (below the host), query string, status,
    and the JSON body (None when there was none or it was not JSON)."""

    method: str
    path: str
    query: str
    status: int
    body: Any = None


class _Reply(Exception):
    """An error response: HTTP ``status`` with ``{"errors": [message]}``."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


class AutotaskStandIn:
    """An Autotask REST API over an export directory, on ``http://127.0.0.1:<port>``.

    Use as a context manager (or :meth:`start` / :meth:`stop`). ``port`` 0 picks a free one.
    ``used`` and ``threshold`` set what ThresholdInformation reports (every request adds one);
    ``latency`` delays every answer (seconds), to let requests overlap. ``on_response`` may
    rewrite every successful answer (called with the request path and the JSON document), to
    serve what a misbehaving API would.
    """

    def __init__(
        self,
        export_dir: Path,
        *,
        credentials: Credentials = DEMO_CREDENTIALS,
        port: int = 0,
        faults: Sequence[Fault] = (),
        threshold: int = 10_000,
        used: int = 0,
        timeframe_minutes: int = 60,
        latency: float = 0.0,
        max_in_flight: int = 3,
        on_response: Callable[[str, Any], Any] | None = None,
    ) -> None:
        self.credentials = credentials
        self.faults = list(faults)
        self.threshold = threshold
        self.used = used
        self.timeframe_minutes = timeframe_minutes
        self.latency = latency
        self.max_in_flight = max_in_flight
        self.on_response = on_response
        self.requests: list[RecordedRequest] = []
        self.peak_in_flight: dict[str, int] = {}
        self._in_flight: dict[str, int] = {}
        self._lock = threading.RLock()
        self._records, self._picklists = _load_export(Path(export_dir))
        self._clock = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The REST root, e.g. ``http://127.0.0.1:8580/ATServicesRest``."""
        if self._server is None:
            raise RuntimeError("the stand-in is not running")
        return f"http://{HOST}:{self._server.server_address[1]}{REST_ROOT}"

    @property
    def zone_lookup_root(self) -> str:
        """Where to look the zone up: the stand-in answers ZoneInformation itself."""
        return self.base_url

    def start(self) -> AutotaskStandIn:
        """Listen on 127.0.0.1 and serve from a background thread."""
        handler = type("_BoundHandler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer((HOST, self._port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns promptly
            name="autotask-standin",
            daemon=True,
        )
        self._thread.start()
        logger.debug("Autotask stand-in listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def serve_forever(self) -> None:
        """Block until interrupted, serving (starting first if needed), then stop."""
        if self._server is None:
            self.start()
        assert self._thread is not None
        try:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)
        finally:
            self.stop()

    def __enter__(self) -> AutotaskStandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the tenant -----------------------------------------------------------------------------

    def records(self, entity: str) -> list[dict[str, Any]]:
        """A copy of an entity's records, in id order."""
        with self._lock:
            return [dict(r) for r in self._table(entity).values()]

    def update(self, entity: str, record_id: int, **changes: Any) -> None:
        """Change fields of one record (stamping its last-modified field, if it has one)."""
        with self._lock:
            record = self._table(entity)[record_id]
            record.update(changes)
            self._touch(entity, record)

    def insert(self, entity: str, record: Mapping[str, Any]) -> None:
        """Add a record (stamping its last-modified field, if it has one)."""
        with self._lock:
            table = self._table(entity)
            new = {field.name: None for field in REST_ENTITIES[entity].fields}
            new.update(record)
            self._touch(entity, new)
            table[new["id"]] = new
            self._records[entity] = dict(sorted(table.items()))

    def delete(self, entity: str, record_id: int) -> None:
        """Remove a record."""
        with self._lock:
            del self._table(entity)[record_id]

    def _table(self, entity: str) -> dict[int, dict[str, Any]]:
        if entity not in self._records:
            raise KeyError(f"unknown entity {entity!r}")
        return self._records[entity]

    def _touch(self, entity: str, record: dict[str, Any]) -> None:
        """Stamp the last-modified field with the stand-in's clock (always moving forward)."""
        cursor = CURSOR_FIELDS.get(entity)
        if cursor is None:
            return
        self._clock = max(self._clock + timedelta(seconds=1), _utc_now())
        record[cursor] = _json_timestamp(self._clock)

    # -- answering ------------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        """Answer one request: ``(status, headers, JSON document)``; faults are the handler's."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.rstrip("/")
        prefix = f"{REST_ROOT}/{API_VERSION}/".lower()
        if not path.lower().startswith(prefix):
            raise _Reply(404, f"no such resource: {parts.path}")
        route = path[len(prefix):].split("/")
        if [r.lower() for r in route] == ["zoneinformation"] and method == "GET":
            return 200, {}, self._zone(query.get("user", ""))
        self._authenticate(headers)
        if [r.lower() for r in route] == ["thresholdinformation"] and method == "GET":
            with self._lock:
                used = self.used
            return 200, {}, {
                "externalRequestThreshold": self.threshold,
                "requestThresholdTimeframe": self.timeframe_minutes,
                "currentTimeframeRequestCount": used,
            }
        entity = _entity(route[0])
        action = "/".join(r.lower() for r in route[1:])
        if action in ("query", "query/count") and method in ("GET", "POST"):
            search = _search(method, query, body)
            if action == "query/count":
                return 200, {}, {"queryCount": len(self._select(entity, search))}
            return 200, {}, self._page(entity, search, query, method)
        if action == "entityinformation/fields" and method == "GET":
            return 200, {}, self._fields(entity)
        raise _Reply(405 if action in ("query", "query/count", "entityinformation/fields") else 404,
                     f"{method} {parts.path} is not supported by the stand-in")

    def _zone(self, user: str) -> dict[str, Any]:
        if user.strip().lower() != self.credentials.username.lower():
            raise _Reply(404, "Zone information could not be determined for this user")
        return {"zoneName": "Stand-in", "url": self.base_url + "/", "webUrl": self.base_url, "ci": 0}

    def _authenticate(self, headers: Mapping[str, str]) -> None:
        expected = self.credentials.headers()
        given = {name.lower(): value for name, value in headers.items()}
        for name, value in expected.items():
            if not hmac.compare_digest(given.get(name.lower(), "").encode(), value.encode()):
                raise _Reply(401, "Unauthorized: the UserName, Secret or ApiIntegrationCode is wrong")

    def _select(self, entity: Entity, search: Mapping[str, Any]) -> list[dict[str, Any]]:
        filters = _get(search, "filter")
        if not isinstance(filters, list) or not filters:
            raise _Reply(400, "a query needs at least one filter condition")
        with self._lock:
            records = [dict(r) for r in self._records[entity.name].values()]
        return [r for r in records if all(_matches(entity, r, f) for f in filters)]

    def _page(
        self, entity: Entity, search: Mapping[str, Any], query: Mapping[str, str], method: str
    ) -> dict[str, Any]:
        size = _get(search, "MaxRecords", MAX_RECORDS)
        if not isinstance(size, int) or not 1 <= size <= MAX_RECORDS:
            raise _Reply(400, f"MaxRecords must be 1 to {MAX_RECORDS}")
        after = _paging(query)
        matching = [r for r in self._select(entity, search) if after is None or r["id"] > after]
        items = matching[:size]
        include = _get(search, "IncludeFields")
        if include:
            wanted = {str(name).lower() for name in include} | {"id"}
            items = [{k: v for k, v in r.items() if k.lower() in wanted} for r in items]
        next_url = None
        if len(matching) > size:
            paging = json.dumps({"pageSize": size, "lastId": items[-1]["id"]}, separators=(",", ":"))
            next_url = f"{self.base_url}/{API_VERSION}/{entity.name}/query?paging={quote(paging)}"
            if method == "GET":
                next_url += f"&search={quote(json.dumps(search, separators=(',', ':')))}"
        return {
            "items": items,
            "pageDetails": {
                "count": len(items),
                "requestCount": size,
                "prevPageUrl": None,
                "nextPageUrl": next_url,
            },
        }

    def _fields(self, entity: Entity) -> dict[str, Any]:
        with self._lock:
            values = {
                field: list(rows) for (name, field), rows in self._picklists.items()
                if name == entity.name
            }
        fields = []
        for field in entity.fields:
            if field.json_text:
                continue  # user-defined fields have their own endpoint
            picks = values.pop(field.name, None)
            fields.append(_field_definition(field.name, _data_type(field), field.picklist or bool(picks), picks))
        for name, picks in values.items():  # picklists of fields the catalogue does not list
            fields.append(_field_definition(name, "integer", True, picks))
        return {"fields": fields}

    # -- bookkeeping for the handler ------------------------------------------------------------

    @contextmanager
    def in_flight(self, endpoint: str) -> Iterator[bool]:
        """Count a request in flight on ``endpoint``; yields False when over the limit."""
        key = endpoint.lower()
        with self._lock:
            self.used += 1
            self._in_flight[key] = self._in_flight.get(key, 0) + 1
            count = self._in_flight[key]
            self.peak_in_flight[key] = max(self.peak_in_flight.get(key, 0), count)
        try:
            yield count <= self.max_in_flight
        finally:
            with self._lock:
                self._in_flight[key] -= 1

    def fault_for(self, target: str) -> Fault | None:
        """The fault, if any, that hits this request."""
        with self._lock:
            return next((fault for fault in self.faults if fault.claims(target)), None)

    def record(self, method: str, target: str, status: int, body: bytes) -> None:
        """Keep a request for tests to inspect (:attr:`requests`)."""
        parts = urlsplit(target)
        try:
            document = json.loads(body) if body else None
        except ValueError:
            document = None
        with self._lock:
            self.requests.append(RecordedRequest(method, parts.path, parts.query, status, document))


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every answer is JSON with a Content-Length."""

    standin: AutotaskStandIn
    protocol_version = "HTTP/1.1"
    server_version = "AutotaskStandIn/1.0"
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stalls

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        standin = self.standin
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        endpoint = _endpoint(self.path)
        with standin.in_flight(endpoint) as within_limit:
            if standin.latency:
                threading.Event().wait(standin.latency)
            fault = standin.fault_for(f"{method} {self.path}")
            try:
                if not within_limit:
                    raise _Reply(429, "too many concurrent requests on this endpoint", {"Retry-After": "1"})
                if fault is not None and fault.kind in ("429", "500"):
                    extra = {"Retry-After": fault.retry_after} if fault.kind == "429" and fault.retry_after is not None else {}
                    raise _Reply(int(fault.kind), f"injected fault {fault.kind}", extra)
                status, headers, document = standin.answer(method, self.path, self.headers, body)
                if standin.on_response is not None:
                    document = standin.on_response(urlsplit(self.path).path, document)
            except _Reply as reply:
                status, headers, document = reply.status, reply.headers, {"errors": [str(reply)]}
            except Exception as exc:  # a bug in the stand-in: say so, as the API would
                logger.exception("stand-in failed on %s %s", method, self.path)
                status, headers, document = 500, {}, {"errors": [f"stand-in error: {type(exc).__name__}"]}
            payload = json.dumps(document).encode("utf-8")
            standin.record(method, self.path, status, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if fault is not None and fault.kind == "drop":
                self.wfile.write(payload[: len(payload) // 2])
                self.wfile.flush()
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
        logger.debug("stand-in: " + format, *args)


# ------------------------------------------------------------------------------------------------
# Loading the export and serving it as the API's JSON


def _load_export(directory: Path) -> tuple[dict[str, dict[int, dict[str, Any]]], dict[tuple[str, str], list[dict[str, Any]]]]:
    """Land the export in a private DuckDB file (as ``ingest`` would) and read it back as JSON."""
    quiet = logging.getLogger("billready.ingest")
    level = quiet.level
    with tempfile.TemporaryDirectory(prefix="billready-standin-") as tmp:
        database = Path(tmp) / "tenant.duckdb"
        quiet.setLevel(logging.WARNING)
        try:
            ingest_directory(directory, database)
        finally:
            quiet.setLevel(level)
        with duckdb.connect(str(database), read_only=True) as con:
            records = {
                entity.name: {r["id"]: _served(entity, r) for r in _rows(con, entity.table)}
                for entity in REST_ENTITIES.values()
            }
            picklists: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for row in _rows(con, PICKLISTS.table, order="entity, field, value"):
                picklists.setdefault((row["entity"], row["field"]), []).append(row)
    return records, picklists


def _rows(con: duckdb.DuckDBPyConnection, table: str, order: str = "id") -> list[dict[str, Any]]:
    cursor = con.execute(f'SELECT * FROM {RAW_SCHEMA}."{table}" ORDER BY {order}')
    names = [d[0] for d in cursor.description]
    return [
        {k: v for k, v in zip(names, row) if k not in _METADATA} for row in cursor.fetchall()
    ]


def _served(entity: Entity, row: Mapping[str, Any]) -> dict[str, Any]:
    """A landed row as the API's JSON: ISO UTC timestamps, user-defined fields as arrays."""
    out = {}
    for name, value in row.items():
        if isinstance(value, datetime):
            value = _json_timestamp(value)
        else:
            field = entity.field(name)
            if field is not None and field.json_text and isinstance(value, str):
                value = _json_or_text(value)
        out[name] = value
    return out


def _json_or_text(text: str) -> Any:
    """The JSON value of ``text`` when re-serialising gives it back exactly, else the text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if json.dumps(value, ensure_ascii=False, separators=(",", ":")) == text else text


def _json_timestamp(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def _data_type(field: Field) -> str:
    """The Autotask ``dataType`` name of a catalogue field."""
    if field.swagger_type == "integer":
        return "long" if field.swagger_format == "int64" else "integer"
    if field.swagger_type == "number":
        return "decimal" if field.swagger_format == "decimal" else "double"
    if field.swagger_type == "boolean":
        return "boolean"
    if field.swagger_format == "date-time":
        return "datetime"
    return "string"


def _field_definition(
    name: str, data_type: str, picklist: bool, picks: list[dict[str, Any]] | None
) -> dict[str, Any]:
    """One entry of an entityInformation/fields response."""
    values = None
    if picklist:
        values = [
            {
                "value": pick["value"],
                "label": pick["label"],
                "isDefaultValue": False,
                "sortOrder": order,
                "parentValue": "",
                "isActive": pick["isActive"],
                "isSystem": False,
            }
            for order, pick in enumerate(picks or [], 1)
        ]
    return {
        "name": name,
        "dataType": data_type,
        "length": 0,
        "isRequired": name == "id",
        "isReadOnly": name == "id",
        "isQueryable": True,
        "isReference": name.endswith("ID"),
        "referenceEntityType": "",
        "isPickList": picklist,
        "picklistValues": values,
        "picklistParentValueField": "",
        "isSupportedWebhookField": False,
    }


# ------------------------------------------------------------------------------------------------
# Requests: routing, search documents and filters


def _endpoint(target: str) -> str:
    """The endpoint a request counts against: the first path segment below ``/V1.0/``."""
    path = urlsplit(target).path.split("/")
    lowered = [part.lower() for part in path]
    if API_VERSION.lower() in lowered:
        index = lowered.index(API_VERSION.lower()) + 1
        if index < len(path):
            return path[index]
    return "-"


def _entity(name: str) -> Entity:
    for entity in REST_ENTITIES.values():
        if entity.name.lower() == name.lower():
            return entity
    raise _Reply(404, f"no such entity: {name}")


def _search(method: str, query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The query document: the POST body, else the ``search`` parameter."""
    text = body.decode("utf-8") if method == "POST" and body else query.get("search")
    if not text:
        raise _Reply(400, "a query needs a body (POST) or a search parameter (GET)")
    try:
        search = json.loads(text)
    except ValueError:
        raise _Reply(400, "the query is not JSON") from None
    if not isinstance(search, dict):
        raise _Reply(400, "the query is not a JSON object")
    return search


def _paging(query: Mapping[str, str]) -> int | None:
    """The last id of the previous page, from a nextPageUrl's ``paging`` parameter."""
    if "paging" not in query:
        return None
    try:
        last = json.loads(query["paging"])["lastId"]
    except (ValueError, KeyError, TypeError):
        raise _Reply(400, "bad paging parameter") from None
    if not isinstance(last, int):
        raise _Reply(400, "bad paging parameter")
    return last


def _get(document: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A key of a query document, ignoring case (``Filter`` or ``filter``)."""
    for key, value in document.items():
        if key.lower() == name.lower():
            return value
    return default


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "noteq": lambda a, b: a != b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "beginswith": lambda a, b: str(a).startswith(str(b)),
    "endswith": lambda a, b: str(a).endswith(str(b)),
    "contains": lambda a, b: str(b) in str(a),
}


def _matches(entity: Entity, record: Mapping[str, Any], condition: Any) -> bool:
    """Whether a record meets one filter condition (or and/or group)."""
    if not isinstance(condition, dict):
        raise _Reply(400, "a filter condition is not a JSON object")
    op = str(_get(condition, "op", "")).lower()
    if op in ("and", "or"):
        items = _get(condition, "items")
        if not isinstance(items, list) or not items:
            raise _Reply(400, f"an {op} group needs items")
        results = (_matches(entity, record, item) for item in items)
        return all(results) if op == "and" else any(results)
    if _get(condition, "udf"):
        raise _Reply(400, "user-defined field filters are not supported by the stand-in")
    name = str(_get(condition, "field", ""))
    key = next((k for k in record if k.lower() == name.lower()), None)
    if key is None and entity.field(name) is None:
        raise _Reply(400, f"unknown field {name!r} for {entity.name}")
    value = _typed(entity, name, record.get(key) if key else None)
    if op == "exist":
        return value is not None
    if op == "notexist":
        return value is None
    operand = _get(condition, "value")
    if op in ("in", "notin"):
        if not isinstance(operand, list):
            raise _Reply(400, f"{op} needs a list value")
        found = value is not None and value in [_typed(entity, name, v) for v in operand]
        return found if op == "in" else not found
    compare = _COMPARISONS.get(op)
    if compare is None:
        raise _Reply(400, f"unknown filter op {op!r}")
    operand = _typed(entity, name, operand)
    if value is None or operand is None:
        return op == "noteq" and value != operand
    try:
        return compare(value, operand)
    except TypeError:
        raise _Reply(400, f"cannot compare {name} with {operand!r}") from None


def _typed(entity: Entity, name: str, value: Any) -> Any:
    """A value comparable as its field's type; strings compare ignoring case, as the API's do."""
    if value is None or value == "":
        return None
    field = entity.field(name)
    kind = field.duckdb_type if field is not None else "VARCHAR"
    try:
        if kind in ("BIGINT", "DOUBLE"):
            return float(value)
        if kind == "BOOLEAN":
            return str(value).lower() in ("true", "1", "yes")
        if kind == "TIMESTAMP":
            moment = datetime.fromisoformat(str(value))
            return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
    except ValueError:
        raise _Reply(400, f"{value!r} is not a valid value for {name}") from None
    return str(value).casefold()


def pull_demo(database: Path, *, full: bool = False) -> PullReport:
    """Pull the demo export (``demo/autotask``) through a stand-in started for the purpose.

    The zone is looked up too (the stand-in answers ZoneInformation), so this exercises the
    whole path ``billready pull`` takes against a real tenant. The demo's optional inputs (not
    REST entities, so not served) land from their files in the same transaction, so the
    published figures are those of ``billready demo``.
    """
    directory = settings.demo_export_dir()
    optional = [export for export in discover_exports(directory) if export.target.optional]
    with AutotaskStandIn(directory) as standin:
        return pull_tenant(
            database,
            standin.credentials,
            full=full,
            zone_lookup_root=standin.zone_lookup_root,
            extra_sources=optional,
        )


def serve_standin(export_dir: Path, *, port: int = 8580) -> None:
    """Serve ``export_dir`` on 127.0.0.1 until interrupted (``billready standin``).

    The API user is the one ``AUTOTASK_USERNAME``, ``AUTOTASK_SECRET`` and
    ``AUTOTASK_INTEGRATION_CODE`` name when all three are set (never printed), else
    :data:`DEMO_CREDENTIALS` (printed: they guard nothing).
    """
    try:
        credentials = Credentials.from_env()
        shown = "the AUTOTASK_* credentials of this shell"
    except UsageError:
        credentials = DEMO_CREDENTIALS
        shown = (
            f"AUTOTASK_USERNAME={credentials.username} AUTOTASK_SECRET={credentials.secret} "
            f"AUTOTASK_INTEGRATION_CODE={credentials.integration_code}"
        )
    standin = AutotaskStandIn(Path(export_dir), credentials=credentials, port=port)
    standin.start()
    print(
        f"Autotask stand-in serving {export_dir} at {standin.base_url} (Ctrl+C to stop)\n"
        f"  pull from it with: AUTOTASK_BASE_URL={standin.base_url} billready pull\n"
        f"  credentials: {shown}",
        flush=True,
    )
    try:
        standin.serve_forever()
    finally:
        standin.stop()
