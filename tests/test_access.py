"""Per-client access settings: deployment scope, viewer mapping, denial."""
from __future__ import annotations

from pathlib import Path

import pytest

from billready.access import ACCESS_FILE_ENV, SCOPE_ENV, Scope, resolve_scope
from billready.errors import AccessDenied, BillreadyError

MAPPING = """
[viewers."alice@harbor.example"]
companies = [12, 15]

[viewers."*@our-msp.example"]
companies = "all"

[viewers."*@harbor.example"]
companies = [12]
"""


@pytest.fixture()
def access_file(tmp_path: Path) -> Path:
    path = tmp_path / "access.toml"
    path.write_text(MAPPING)
    return path


def test_no_setting_sees_everything() -> None:
    scope = resolve_scope(None, {})
    assert not scope.is_restricted and scope.allows(99)


def test_deployment_scope() -> None:
    scope = resolve_scope(None, {SCOPE_ENV: "12, 15"})
    assert scope.company_ids == frozenset({12, 15})
    assert scope.allows(12) and not scope.allows(13) and not scope.allows(None)


def test_deployment_scope_must_be_ids() -> None:
    with pytest.raises(BillreadyError, match=SCOPE_ENV):
        resolve_scope(None, {SCOPE_ENV: "12,harbor"})


def test_viewer_mapping(access_file: Path) -> None:
    env = {ACCESS_FILE_ENV: str(access_file)}
    assert resolve_scope("Alice@Harbor.example", env).company_ids == frozenset({12, 15})
    assert resolve_scope("bob@harbor.example", env).company_ids == frozenset({12})
    assert not resolve_scope("carol@our-msp.example", env).is_restricted


def test_unmapped_or_anonymous_viewers_are_denied(access_file: Path) -> None:
    env = {ACCESS_FILE_ENV: str(access_file)}
    with pytest.raises(AccessDenied, match="no access"):
        resolve_scope("mallory@elsewhere.example", env)
    with pytest.raises(AccessDenied, match="sign in"):
        resolve_scope(None, env)


def test_the_file_cannot_widen_the_deployment(access_file: Path) -> None:
    env = {ACCESS_FILE_ENV: str(access_file), SCOPE_ENV: "15"}
    assert resolve_scope("alice@harbor.example", env).company_ids == frozenset({15})
    assert resolve_scope("carol@our-msp.example", env).company_ids == frozenset({15})
    with pytest.raises(AccessDenied, match="no company"):
        resolve_scope("bob@harbor.example", env)


def test_bad_access_files_name_the_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(BillreadyError, match="does not exist"):
        resolve_scope("a@b.c", {ACCESS_FILE_ENV: str(missing)})
    bad = tmp_path / "bad.toml"
    bad.write_text('[viewers."a@b.c"]\ncompanies = ["twelve"]\n')
    with pytest.raises(BillreadyError, match=r'viewers\."a@b\.c"'):
        resolve_scope("a@b.c", {ACCESS_FILE_ENV: str(bad)})


def test_empty_scope_is_denied() -> None:
    with pytest.raises(AccessDenied):
        Scope(frozenset())
