"""billready report: Milestone allocation conflicts, fix these before you invoice.

The entry point: who is viewing (and so which companies they may see), the sidebar filters, the
navigation and the downloads; the pages in views/ render the sections. Every figure comes from
billready.report, which returns the rows together with the SQL that produced them, already
filtered and scoped; nothing here or in the pages computes a figure.
"""
from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

APP_DIR = Path(__file__).resolve().parent
if str(APP_DIR) not in sys.path:
    sys.path.insert(0, str(APP_DIR))

import ui  # noqa: E402  (the app directory is on the path from here on)

from billready import settings  # noqa: E402
from billready.access import resolve_scope  # noqa: E402
from billready.errors import AccessDenied, BillreadyError  # noqa: E402
from billready.report import Report  # noqa: E402
from billready.semantic import Warehouse  # noqa: E402

st.set_page_config(page_title="billready · Milestone allocation conflicts", layout="wide")

PAGES = [
    st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    st.Page("views/rules.py", title="Rules & findings", icon=":material/rule:", url_path="rules"),
    st.Page("views/companies.py", title="Companies & projects", icon=":material/business:", url_path="companies"),
    st.Page("views/history.py", title="History", icon=":material/timeline:", url_path="history"),
    st.Page("views/detail.py", title="Detail", icon=":material/zoom_in:", url_path="detail"),
]


def _viewer() -> str | None:
    """The signed-in viewer's e-mail address (Streamlit's OIDC login), else None."""
    try:
        if st.user.get("is_logged_in"):
            return str(st.user.get("email") or "") or None
    except Exception:  # st.user is unavailable outside a Streamlit server context
        return None
    return None


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets.toml
        return False


def _denied(exc: AccessDenied) -> None:
    st.title("billready")
    if _viewer() is None and _auth_configured():
        st.info("Sign in to see the billing report for your companies.")
        st.button("Sign in", on_click=st.login, icon=":material/login:", key="login")
        return
    st.error(str(exc))
    if _viewer() is not None:
        st.button("Sign out", on_click=st.logout, key="logout")


def main() -> None:
    try:
        scope = resolve_scope(_viewer())
    except AccessDenied as exc:
        _denied(exc)
        return
    except BillreadyError as exc:
        st.title("billready")
        st.error(f"The report's access settings cannot be used: {exc}")
        return
    directory = settings.warehouse_dir()
    try:
        # Open read-only per render and close at once, so the report never holds the file
        # while a build wants to write it.
        with Warehouse(directory) as warehouse:
            page = st.navigation(PAGES, position="hidden")
            on_detail = page.url_path == "detail"
            ui.adopt_url_filters()
            unfiltered = Report(warehouse, scope=scope)
            options = unfiltered.filter_options()
            with st.sidebar:
                navigation = st.container()
                st.subheader("Filters")
                filters = ui.sidebar_filters(options)
            ui.sync_url(filters, keep_detail=on_detail)
            report = unfiltered.with_filters(filters)
            freshness = report.freshness()
            token = ui.CURRENT.set(
                ui.Context(
                    report=report,
                    directory=directory,
                    filters=filters,
                    scope=scope,
                    options=options,
                    built=freshness.describe(),
                    freshness=freshness,
                )
            )
            try:
                with navigation:
                    for listed in PAGES:
                        st.page_link(listed, query_params=filters.to_query_params())
                with st.sidebar:
                    if scope.is_restricted:
                        st.caption(f"Showing {scope.label} only.")
                    if scope.user:
                        st.caption(f"Signed in as {scope.user}")
                        st.button("Sign out", on_click=st.logout, key="logout")
                    st.subheader("Downloads")
                    ui.report_downloads()
                page.run()
            finally:
                ui.CURRENT.reset(token)
    except BillreadyError as exc:
        st.title("billready")
        st.warning(str(exc))


main()
