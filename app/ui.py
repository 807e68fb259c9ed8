"""Rendering helpers shared by the report's pages: tables with their "View SQL" panel and CSV
download, the sidebar filters (kept in session state and in the URL), drill-through links and the
downloads. No SQL and no business logic: every figure comes from billready.report.
"""
from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from billready import export
from billready import formatting as fmt
from billready.errors import BillreadyError, FilterError
from billready.report import LIST_LIMIT, Panel, Report
from billready.semantic import DIALECTS, Warehouse, transpile

DETAIL_PAGE = "views/detail.py"
DETAIL_PARAMS = ("view", "id")
"""URL parameters naming the drill-through target (``?view=rule&id=...``)."""

# Filter widgets: session-state key -> (ReportFilters attribute, URL parameter).
FILTER_FIELDS = {
    "filter_company": ("company_ids", "company"),
    "filter_project": ("project_ids", "project"),
    "filter_contract": ("contract_ids", "contract"),
    "filter_stage": ("stages", "stage"),
    "filter_rule": ("rule_codes", "rule"),
    "filter_due_from": ("due_from", "due_from"),
    "filter_due_to": ("due_to", "due_to"),
}
FILTER_PARAMS = tuple(param for _, param in FILTER_FIELDS.values())
_URL_WRITTEN = "_billready_url_filters"


@dataclass
class Context:
    """What a page renders: the report (already filtered and scoped) and how it was asked for."""

    report: Report
    directory: Path
    filters: Any  # billready.filters.ReportFilters
    scope: Any  # billready.access.Scope
    options: Any  # billready.filters.FilterOptions | None
    built: str
    freshness: Any  # billready.report.Freshness


CURRENT: ContextVar[Context] = ContextVar("billready_context")


def context() -> Context:
    """The context Home.py set for this run."""
    return CURRENT.get()


def header(title: str) -> None:
    """A page's title, when its data was built (and a warning when that is too long ago), and
    the filters and scope its figures are under."""
    current = context()
    st.title(title)
    st.caption(f"Warehouse: {current.directory} · {current.built}")
    warning = current.freshness.warning()
    if warning:
        st.warning(warning)
    filters_caption()


# --- formatting ---------------------------------------------------------------------------

def _date(value: Any) -> str | None:
    plain = fmt.plain(value)
    return None if plain is None else str(plain)[:10]


def _listed(value: Any) -> str:
    if value is None or (not hasattr(value, "__len__") and pd.isna(value)):
        return ""
    return ", ".join(str(item) for item in list(value))


def _text(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, tuple)) and not hasattr(value, "__len__") and pd.isna(value)):
        return "—"
    return value


FORMATS: dict[str, Callable[[Any], Any]] = {
    "money": fmt.money,
    "share": fmt.share,
    "count": fmt.count,
    "days": fmt.days,
    "date": _date,
    "list": _listed,
    "text": _text,
    "yesno": lambda v: "yes" if bool(v) else "no",
}


NUMBER_FORMATS: dict[str, tuple[float, int, str]] = {
    "share": (100.0, 1, "%.1f%%"),
    "count": (1.0, 0, "%,d"),
    "days": (1.0, 1, "%,.1f days"),
}
"""Numeric kinds a table keeps as numbers, so that a click on the column header sorts by value:
(scale, decimals, printf format Streamlit renders). Values are rounded to the decimals shown,
and a share is scaled to percent (0.6596 -> 66.0, shown ``66.0%``): screen readers get a cell's
value, not its display, so they read 66 rather than 0.6595744680851064. Money is ``dollar``
(``$28,500``, ``-$5``), with cents only in a column that has any."""


def _numbers(values: list[Any], scale: float = 1.0, decimals: int = 2) -> pd.Series:
    return pd.Series(
        [None if value is None or pd.isna(value) else round(float(value) * scale, decimals) for value in values],
        dtype="float64",
    )


def _number_column(rule: str, label: str, values: list[Any]) -> tuple[pd.Series, Any]:
    """A numeric column and its Streamlit column config (format) for a money/share/count/days kind."""
    if rule == "money":
        numbers = _numbers(values)
        whole = bool((numbers.dropna() % 1 == 0).all())
        return numbers, st.column_config.NumberColumn(label, format="dollar", step=1 if whole else 0.01)
    scale, decimals, printf = NUMBER_FORMATS[rule]
    numbers = _numbers(values, scale, decimals)
    if rule == "count":  # an unknown count is none (fmt.count)
        numbers = numbers.fillna(0).astype("int64")
    return numbers, st.column_config.NumberColumn(label, format=printf)


def formatted(
    frame: pd.DataFrame, columns: Mapping[str, str], formats: Mapping[str, str | Callable[[Any], Any]] | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The frame's ``columns`` (source -> label) as shown, and their Streamlit column config.

    ``money``, ``share``, ``count`` and ``days`` columns stay numbers with a display format
    (NUMBER_FORMATS), so they sort by value; ``date``, ``list``, ``text``, ``yesno`` and callables
    become text. Missing columns are skipped."""
    formats = formats or {}
    shown: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for source, label in columns.items():
        if source not in frame.columns:
            continue
        rule = formats.get(source)
        values = frame[source].tolist()
        if rule == "money" or rule in NUMBER_FORMATS:
            shown[label], config[label] = _number_column(str(rule), label, values)
            continue
        function = FORMATS[rule] if isinstance(rule, str) else rule
        shown[label] = [function(value) for value in values] if function else values
    return pd.DataFrame(shown), config


def first_column(frame: pd.DataFrame, *names: str) -> str:
    """The first of ``names`` the frame has (e.g. the tenant's stage label, else the stage)."""
    return next((name for name in names if name in frame.columns), names[-1])


# --- panels -------------------------------------------------------------------------------

def load(produce: Callable[[], Panel], what: str) -> Panel | None:
    """Run one panel; when its input is missing or broken, say so in place and carry on."""
    try:
        return produce()
    except BillreadyError as exc:
        st.info(f"{what} is not available for this warehouse: {exc}".split("\n")[0])
        return None


def view_sql(panel: Panel) -> None:
    """The "View SQL" expander: the semantic request, exactly the SQL that ran with its bound
    parameters, and that SQL transpiled to another warehouse's dialect on request."""
    result = panel.result
    with st.expander(f"View SQL — {panel.title}"):
        if result.semantic is not None:
            st.caption("Semantic request (MetricFlow)")
            st.code(json.dumps(result.semantic, indent=2), language="json")
        st.caption(
            f"SQL that ran (DuckDB) · {len(result.frame)} row(s) · {result.elapsed_ms:.0f} ms · {context().built}"
        )
        st.code(result.sql, language="sql")
        parameters = getattr(result, "parameters", None)
        if parameters:
            st.caption("Bound parameters (values are never part of the SQL text)")
            st.code(json.dumps(parameters, indent=2, default=fmt.plain), language="json")
        dialect = st.selectbox("Dialect", list(DIALECTS), key=f"dialect-{panel.key}")
        if dialect != "DuckDB":
            st.caption(f"The same query for {dialect} (transpiled by sqlglot; not run here)")
            st.code(transpile(result.sql, dialect), language="sql")


def csv_button(panel: Panel) -> None:
    st.download_button(
        "CSV",
        data=export.panel_csv(panel),
        file_name=f"billready-{panel.key}.csv",
        mime="text/csv",
        key=f"csv-{panel.key}",
        icon=":material/download:",
        help=f"Download {panel.title} as CSV (every column, the rows shown)",
        on_click="ignore",
    )


def table(
    panel: Panel,
    columns: Mapping[str, str],
    formats: Mapping[str, str | Callable[[Any], Any]] | None = None,
    *,
    empty: str | None = None,
    empty_ok: bool = False,
    frame: pd.DataFrame | None = None,
) -> None:
    """A panel as a table of formatted values, then its CSV download and View SQL.

    ``empty`` is said instead of an empty table (as st.success when ``empty_ok``); ``frame``
    shows the panel's rows with display-only columns added (the CSV keeps the panel's rows).
    """
    frame = panel.result.frame if frame is None else frame
    if frame.empty and empty:
        (st.success if empty_ok else st.info)(empty)
    else:
        shown, config = formatted(frame, columns, formats)
        st.dataframe(shown, column_config=config, hide_index=True)
    footer(panel)


def limit_caption(frame: pd.DataFrame, order: str, everything: str) -> None:
    """Say so under a list the report cut at LIST_LIMIT rows: in what order its first rows are,
    and which command lists every one."""
    if len(frame) >= LIST_LIMIT:
        st.caption(f"The first {LIST_LIMIT:,} {order}; {everything} lists every one.")


def footer(panel: Panel) -> None:
    """The CSV download and the View SQL expander under a panel."""
    csv_button(panel)
    view_sql(panel)


# --- filters ------------------------------------------------------------------------------

def _url_filters() -> dict[str, list[str]]:
    return {param: st.query_params.get_all(param) for param in FILTER_PARAMS if param in st.query_params}


def adopt_url_filters() -> None:
    """Load filters from the URL into the sidebar when the URL carries filters this session did
    not write (a shared link, a bookmark, the browser's back button)."""
    from billready.filters import ReportFilters

    url = _url_filters()
    if not url or url == st.session_state.get(_URL_WRITTEN):
        return
    try:
        filters = ReportFilters.from_query_params(st.query_params)
    except FilterError as exc:
        st.warning(f"The filters in this link were ignored: {exc}")
        return
    for key, (attribute, _) in FILTER_FIELDS.items():
        value = getattr(filters, attribute)
        st.session_state[key] = list(value) if isinstance(value, tuple) else value


def _clear_filters() -> None:
    for key in FILTER_FIELDS:
        st.session_state[key] = None if key.startswith("filter_due") else []


def _names(frame: pd.DataFrame | None, key: str, label: str) -> dict[Any, str]:
    if frame is None or frame.empty:
        return {}
    return {row[0]: str(row[1]) for row in frame[[key, label]].itertuples(index=False, name=None)}


def _multiselect(label: str, key: str, choices: dict[Any, str], placeholder: str) -> list[Any]:
    # Keep only values that are still choices (a link may name a company outside the scope).
    kept = [value for value in st.session_state.get(key) or [] if value in choices]
    st.session_state[key] = kept
    return st.multiselect(label, list(choices), format_func=lambda value: choices.get(value, str(value)), key=key, placeholder=placeholder)


def sidebar_filters(options: Any) -> Any:
    """The filter widgets; returns the ReportFilters they describe (invalid input is explained
    and ignored, never passed on)."""
    from billready.filters import ReportFilters

    companies = _names(options.companies, "company_id", "company_name")
    chosen_companies = _multiselect("Company", "filter_company", companies, "All companies")

    def within(frame: pd.DataFrame, key: str, label: str) -> dict[Any, str]:
        if chosen_companies and frame is not None and not frame.empty and "company_id" in frame.columns:
            frame = frame[frame["company_id"].isin(chosen_companies)]
        return _names(frame, key, label)

    _multiselect("Project", "filter_project", within(options.projects, "project_id", "project_name"), "All projects")
    _multiselect("Contract", "filter_contract", within(options.contracts, "contract_id", "contract_name"), "All contracts")
    _multiselect("Billing stage", "filter_stage", _names(options.stages, "stage", "stage_label"), "All stages")
    _multiselect("Rule", "filter_rule", _names(options.rules, "rule_code", "title"), "All rules")
    help_range = None
    if options.due_min and options.due_max:
        help_range = f"Milestones are due between {fmt.plain(options.due_min)} and {fmt.plain(options.due_max)}"
    columns = st.columns(2)
    bounds = {"min_value": datetime.date(2000, 1, 1), "max_value": datetime.date(2100, 12, 31)}
    with columns[0]:
        st.date_input("Due from", value=None, key="filter_due_from", help=help_range, **bounds)
    with columns[1]:
        st.date_input("Due to", value=None, key="filter_due_to", help=help_range, **bounds)
    st.button("Clear filters", on_click=_clear_filters, key="filter_clear", icon=":material/filter_alt_off:")
    values = {attribute: st.session_state.get(key) for key, (attribute, _) in FILTER_FIELDS.items()}
    try:
        return ReportFilters(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if v not in (None, [])})
    except FilterError as exc:
        st.warning(f"Filter ignored: {exc}")
        values["due_from"] = values["due_to"] = None
        return ReportFilters(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if v not in (None, [])})


def sync_url(filters: Any, keep_detail: bool) -> None:
    """Write the filters (and, on the detail page, its target) into the URL, so a link or the
    browser's back button brings the same view back."""
    wanted = filters.to_query_params()
    if keep_detail:
        wanted.update({param: st.query_params.get_all(param) for param in DETAIL_PARAMS if param in st.query_params})
    current = {param: st.query_params.get_all(param) for param in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[_URL_WRITTEN] = filters.to_query_params()


def filter_params() -> dict[str, list[str]]:
    """The current filters as URL parameters (for links that keep them)."""
    return context().filters.to_query_params()


# --- drill-through ------------------------------------------------------------------------

def open_detail(kind: str, key: Any, origin: str) -> None:
    """Go to the detail page for a rule, project or milestone, keeping the filters."""
    if origin != DETAIL_PAGE:  # deeper drill-throughs keep the page the first one came from
        st.session_state["detail_origin"] = origin
    st.switch_page(DETAIL_PAGE, query_params={**filter_params(), "view": kind, "id": str(key)})


def drill_button(kind: str, key: Any, label: str, origin: str, *, widget_key: str | None = None) -> None:
    if st.button(label, key=widget_key or f"drill-{kind}-{key}", icon=":material/zoom_in:"):
        open_detail(kind, key, origin)


def drill_picker(kind: str, frame: pd.DataFrame, id_column: str, label: Callable[[Any], str], origin: str, *, key: str, prompt: str) -> None:
    """A chooser of the rows' rule, project or milestone and an "Open" button to its detail."""
    if frame is None or frame.empty or id_column not in frame.columns:
        return
    rows = frame.dropna(subset=[id_column]).drop_duplicates(subset=[id_column])
    if rows.empty:
        return
    labels = {row[id_column]: label(row) for _, row in rows.iterrows()}
    columns = st.columns([4, 1], vertical_alignment="bottom")
    with columns[0]:
        chosen = st.selectbox(prompt, list(labels), format_func=lambda value: labels[value], key=f"pick-{key}")
    with columns[1]:
        if st.button("Open detail", key=f"open-{key}", icon=":material/zoom_in:"):
            open_detail(kind, int(chosen) if kind != "rule" else chosen, origin)


# --- downloads ----------------------------------------------------------------------------

def _deferred(build: Callable[[Report], Any]) -> Callable[[], Any]:
    """A download generated on click, over its own read-only connection, under the same
    filters and scope as the page."""
    current = context()
    directory, filters, scope = current.directory, current.filters, current.scope

    def produce() -> Any:
        with Warehouse(directory) as warehouse:
            return build(Report(warehouse, filters=filters, scope=scope))

    return produce


def report_downloads() -> None:
    """The whole report as an Excel workbook and a printable one-page summary."""
    st.download_button(
        "Excel workbook (every section)",
        data=_deferred(export.report_workbook),
        file_name="billready-report.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="download-workbook",
        icon=":material/table_view:",
        on_click="ignore",
    )
    st.download_button(
        "Printable summary (HTML)",
        data=_deferred(export.summary_html),
        file_name="billready-summary.html",
        mime="text/html",
        key="download-summary",
        icon=":material/print:",
        help="One page: KPIs, stages, top actions, filters and build time. Open it and print (Ctrl+P).",
        on_click="ignore",
    )


def workbook_button(panels: list[Panel], name: str, key: str) -> None:
    """A workbook of the given panels (the detail view's), built from the rows on screen."""
    current = context()
    describe = current.filters.describe(current.options) if not current.filters.is_empty() else []
    scope = current.scope.label if current.scope.is_restricted else None
    st.download_button(
        "Excel workbook",
        data=export.workbook(panels, filters_description=describe, built=current.built, scope_description=scope),
        file_name=name,
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=key,
        icon=":material/table_view:",
        on_click="ignore",
    )


def filters_caption() -> None:
    """Which filters and scope the figures on this page are under."""
    current = context()
    parts = []
    if not current.filters.is_empty():
        parts.append("Filtered: " + " · ".join(current.filters.describe(current.options)))
    if current.scope.is_restricted:
        parts.append(f"Scope: {current.scope.label}")
    if parts:
        st.info(" — ".join(parts), icon=":material/filter_alt:")


def pretty(name: str) -> str:
    """A column name as a heading: ``contract_resolved_from`` -> ``Contract resolved from``."""
    text = name.replace("__", " ").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def auto_table(panel: Panel, *, empty: str | None = None, empty_ok: bool = False) -> None:
    """Every column of a panel, headed and formatted by its kind (money, share, date, list)."""
    frame = panel.result.frame
    kinds = {"money": "money", "share": "share", "date": "date", "datetime": "text", "list": "list"}
    formats: dict[str, str | Callable[[Any], Any]] = {}
    for column in frame.columns:
        kind = export.column_kind(str(column), frame[column])
        if kind in kinds:
            formats[column] = kinds[kind]
        elif frame[column].dtype == bool:
            formats[column] = "yesno"
    table(panel, {column: pretty(str(column)) for column in frame.columns}, formats, empty=empty, empty_ok=empty_ok)


PROSE_FIELDS = ("cause", "fix_title", "fix_steps")
"""Summary fields shown as text under the table rather than squeezed into a cell."""


def summary_table(summary: Mapping[str, Any]) -> None:
    """A drill-through subject's fields as a two-column table."""
    rows, prose = [], []
    for name, value in summary.items():
        if name == "title":
            continue
        if name in PROSE_FIELDS and isinstance(value, str):
            prose.append((name, value))
            continue
        kind = export.column_kind(name, pd.Series([value]))
        shown = FORMATS.get({"money": "money", "share": "share", "date": "date"}.get(kind, "text"))(value)
        rows.append({"Field": pretty(name), "Value": str(shown)})
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    for name, value in prose:
        st.markdown(f"**{pretty(name)}:** {value}")
