"""Per-client access: which companies a viewer of the report may see.

Two settings, both read from the environment of the process serving the report:

``BILLREADY_SCOPE_COMPANIES="12,15"``
    The whole deployment shows these companies only (one report per client, no login needed).

``BILLREADY_ACCESS_FILE=/etc/billready/access.toml``
    Signed-in viewers (Streamlit's OIDC login, ``st.user``) are mapped to companies::

        [viewers."alice@harbor.example"]
        companies = [12]

        [viewers."*@our-msp.example"]     # shell-style patterns match e-mail addresses
        companies = "all"

    With a mapping, a viewer who is not signed in, or whose address matches no entry, is denied.
    An exact address wins over a pattern; among patterns the first listed wins. When both
    settings are present a viewer sees the intersection: the file cannot widen the deployment.

Without either setting every viewer sees every company (a single-tenant installation).
A scope only ever narrows: billready.filters applies it to every tenant table a query reads.
"""
from __future__ import annotations

import fnmatch
import logging
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billready.errors import AccessDenied, BillreadyError

logger = logging.getLogger(__name__)

SCOPE_ENV = "BILLREADY_SCOPE_COMPANIES"
ACCESS_FILE_ENV = "BILLREADY_ACCESS_FILE"


@dataclass(frozen=True)
class Scope:
    """The companies a viewer may see; ``company_ids=None`` means every company."""

    company_ids: frozenset[int] | None = None
    user: str | None = None
    label: str = "all companies"

    def __post_init__(self) -> None:
        if self.company_ids is not None and not self.company_ids:
            raise AccessDenied(f"{self.user or 'this viewer'} is mapped to no company")
        if self.company_ids is not None and self.label == "all companies":
            object.__setattr__(self, "label", "companies " + ", ".join(str(i) for i in sorted(self.company_ids)))

    @classmethod
    def everything(cls, user: str | None = None) -> Scope:
        return cls(None, user, "all companies")

    @property
    def is_restricted(self) -> bool:
        return self.company_ids is not None

    def allows(self, company_id: int | None) -> bool:
        return self.company_ids is None or (company_id is not None and int(company_id) in self.company_ids)

    def narrowed(self, company_ids: frozenset[int] | None, label: str) -> Scope:
        """This scope intersected with another set of companies."""
        if company_ids is None:
            return self
        if self.company_ids is None:
            return Scope(frozenset(company_ids), self.user, label)
        return Scope(self.company_ids & company_ids, self.user, f"{self.label} and {label}")


def _parse_ids(text: str, where: str) -> frozenset[int]:
    try:
        ids = frozenset(int(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        raise BillreadyError(f"{where}: {text!r} is not a comma-separated list of company ids") from None
    if not ids:
        raise BillreadyError(f"{where} is set but names no company id")
    return ids


def _companies(entry: Any, where: str) -> frozenset[int] | None:
    value = entry.get("companies") if isinstance(entry, dict) else None
    if value == "all":
        return None
    if isinstance(value, list) and value and all(isinstance(item, int) for item in value):
        return frozenset(value)
    raise BillreadyError(f'{where}: companies must be a non-empty list of company ids or "all"')


def load_mapping(path: Path) -> dict[str, frozenset[int] | None]:
    """The viewer mapping of an access file: address or pattern -> company ids (None = all)."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise BillreadyError(f"{ACCESS_FILE_ENV} names {path}, which does not exist") from None
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise BillreadyError(f"{path} is not a readable TOML access file ({exc})") from exc
    viewers = data.get("viewers")
    if not isinstance(viewers, dict) or not viewers:
        raise BillreadyError(f'{path}: no [viewers."address"] entries')
    return {
        pattern.lower(): _companies(entry, f'{path}, [viewers."{pattern}"]')
        for pattern, entry in viewers.items()
    }


def _match(mapping: dict[str, frozenset[int] | None], user: str) -> tuple[str, frozenset[int] | None] | None:
    address = user.lower()
    if address in mapping:
        return address, mapping[address]
    for pattern, companies in mapping.items():
        if fnmatch.fnmatchcase(address, pattern):
            return pattern, companies
    return None


def resolve_scope(user: str | None, environ: dict[str, str] | None = None) -> Scope:
    """The scope of a viewer (their e-mail address when signed in, else None)."""
    env = os.environ if environ is None else environ
    scope = Scope.everything(user)
    deployment = env.get(SCOPE_ENV, "").strip()
    if deployment:
        scope = scope.narrowed(_parse_ids(deployment, SCOPE_ENV), f"companies {deployment}")
    access_file = env.get(ACCESS_FILE_ENV, "").strip()
    if access_file:
        mapping = load_mapping(Path(access_file))
        if not user:
            raise AccessDenied("sign in to see this report (viewers are mapped to companies)")
        matched = _match(mapping, user)
        if matched is None:
            raise AccessDenied(f"{user} has no access to this report; ask an administrator to map you to your companies")
        pattern, companies = matched
        scope = scope.narrowed(companies, f"{user}")
        logger.info("viewer %s scoped by %r to %s", user, pattern, scope.label)
    return scope
