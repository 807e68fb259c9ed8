"""The Streamlit report, driven by Streamlit's AppTest: every page renders, every "View SQL" panel
shows exactly the SQL that produced its figure, filters narrow every section and survive a
drill-through and the way back, hostile input is harmless, and a scoped viewer sees no other
company's rows anywhere."""
from __future__ import annotations

import datetime
import importlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from billready import settings
from billready.access import ACCESS_FILE_ENV, SCOPE_ENV
from billready.report import Report
from billready.semantic import Warehouse

APP = str(settings.project_dir() / "app" / "Home.py")
PAGES = ("views/overview.py", "views/rules.py", "views/companies.py", "views/history.py")
MERIDIAN = 198  # Meridian Logistics Inc.: 4 pipeline milestones, 1 conflicted ($7,500)
TRI_COUNTY_MILESTONE = 29687046  # Tri-County Credit Union's conflicted milestone


@pytest.fixture(autouse=True)
def _no_access_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (SCOPE_ENV, ACCESS_FILE_ENV):
        monkeypatch.delenv(name, raising=False)


def _app(monkeypatch: pytest.MonkeyPatch, warehouse: Path, *, query: dict | None = None, user: dict | None = None) -> AppTest:
    monkeypatch.setenv(settings.HOME_ENV, str(warehouse))
    app = AppTest.from_file(APP, default_timeout=60)
    if query:
        app.query_params = dict(query)
    if user is not None:
        app.user = user
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _visit(app: AppTest, page: str) -> AppTest:
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _open_link(app: AppTest, page: str, query: dict) -> AppTest:
    """Open a page by a link carrying these URL parameters (as a shared link or bookmark does)."""
    app.query_params = dict(query)
    return _visit(app, page)


def _metrics(app: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def _column_formats(element: Any) -> dict[str, str | None]:
    """A table's display format per column label (Streamlit's column config)."""
    config = json.loads(element.proto.columns or "{}")
    return {entry.get("label") or name: (entry.get("type_config") or {}).get("format") for name, entry in config.items()}


def _texts(app: AppTest) -> Iterator[str]:
    """Every piece of text the page shows: tables, markdown, titles, expanders, alerts, choices."""
    for frame in app.dataframe:
        for column in frame.value.columns:
            yield str(column)
            yield from (str(value) for value in frame.value[column].tolist())
    for kind in (app.markdown, app.caption, app.title, app.header, app.subheader, app.info, app.warning, app.success, app.error):
        yield from (str(element.value) for element in kind)
    yield from (expander.label for expander in app.expander)
    yield from (m.value for m in app.metric)
    for widget in (*app.selectbox, *app.multiselect):
        yield from (str(option) for option in widget.options)


@pytest.fixture(scope="module")
def company_names(demo_warehouse: Path) -> dict[int, str]:
    with Warehouse(demo_warehouse) as warehouse:
        frame = warehouse.query("select company_id, company_name from staging.stg_autotask__companies").frame
    return dict(zip(frame["company_id"], frame["company_name"]))


def test_every_section_renders(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _app(monkeypatch, demo_warehouse)
    assert [h.value for h in app.header] == [
        "01 · KPI overview",
        "02 · Milestone status breakdown",
        "03 · What causes allocation conflicts",
        "04 · How to resolve conflicts",
        "05 · Billing readiness beyond allocation",
    ]
    assert any("data built 20" in caption.value for caption in app.caption)
    metrics = _metrics(app)
    assert {label: metrics[label] for label in ("Total milestones", "Conflicts found", "Revenue at risk", "Charges conflicts")} == {
        "Total milestones": "47",
        "Conflicts found": "5",
        "Revenue at risk": "$28,500",
        "Charges conflicts": "3",
    }
    assert any("Conflict rate 10.6%" in caption.value for caption in app.caption)
    status = next(frame for frame in app.dataframe if "Billing implication" in frame.value.columns)
    # Shares are numbers in percent, shown with one decimal and a % sign: 66.0%, 25.5%, 8.5%.
    assert dict(zip(status.value["Status"], status.value["Share"])) == {"Incompleted": 66.0, "Completed": 25.5, "Approved for Billing": 8.5}
    assert _column_formats(status)["Share"] == "%.1f%%"

    assert [h.value for h in _visit(app, "views/rules.py").header] == [
        "Every rule: what it catches and how to fix it",
        "Prioritized action list (all findings)",
    ]
    assert [h.value for h in _visit(app, "views/companies.py").header] == [
        "Revenue at risk by company",
        "FAQ · Conflicts by project",
        "Pipeline by due month",
    ]
    _visit(app, "views/history.py")
    assert [t.value for t in app.title] == ["History over refreshes"]
    assert {"Conflicts resolved", "Average time to resolve", "Completion-to-posting cycle"} <= set(_metrics(app))
    _visit(app, "views/detail.py")
    assert any("Choose a rule or a project" in info.value for info in app.info)


def _shown_sql(app: AppTest) -> list[str]:
    shown = []
    for page in PAGES:
        _visit(app, page)
        shown += [block.value for block in app.code if block.language == "sql"]
    return shown


def test_numeric_columns_sort_by_value(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    """Money, shares and counts reach the table as numbers with a display format, so a click on
    a column header sorts $28,500 above $7,500 (as text, "$7,500" sorts above "$28,500")."""
    app = _app(monkeypatch, demo_warehouse)
    formatted_columns = 0
    for page in PAGES:
        _visit(app, page)
        for element in app.dataframe:
            for label, display in _column_formats(element).items():
                if label not in element.value.columns or display is None:
                    continue
                formatted_columns += 1
                assert pd.api.types.is_numeric_dtype(element.value[label]), (page, label, display)
                if label in ("Amount", "Revenue at risk", "Pipeline amount"):
                    assert display == "dollar", (page, label)
    assert formatted_columns >= 20
    _visit(app, "views/companies.py")
    companies = next(element for element in app.dataframe if "Company" in element.value.columns)
    assert companies.value["Revenue at risk"].sum() == 28_500  # the published revenue at risk, by company


def test_table_values_keep_their_order_and_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(Path(APP).parent))
    ui = importlib.import_module("ui")
    frame = pd.DataFrame({
        "amount": [Decimal("7500"), Decimal("28500"), None],
        "priced": [Decimal("1234.50"), Decimal("-5"), Decimal("0")],
        "share": [0.6595744680851064, 0.255, None],
        "findings": [1092, None, 3],
        "days": [3.25, None, 12.0],
        "due": [datetime.date(2026, 1, 31), None, datetime.date(2025, 12, 1)],
    })
    labels = {"amount": "Amount", "priced": "Priced", "share": "Share", "findings": "Findings", "days": "Days", "due": "Due"}
    formats = {"amount": "money", "priced": "money", "share": "share", "findings": "count", "days": "days", "due": "date"}
    shown, config = ui.formatted(frame, labels, formats)
    assert list(shown.columns) == list(labels.values())
    assert list(shown.sort_values("Amount", ascending=False)["Amount"].head(2)) == [28500.0, 7500.0]
    assert shown["Amount"].isna().tolist() == [False, False, True]
    assert (config["Amount"]["type_config"]["format"], config["Amount"]["type_config"].get("step")) == ("dollar", 1)
    assert (config["Priced"]["type_config"]["format"], config["Priced"]["type_config"].get("step")) == ("dollar", 0.01)
    assert shown["Share"].tolist()[:2] == [66.0, 25.5] and config["Share"]["type_config"]["format"] == "%.1f%%"
    assert shown["Findings"].tolist() == [1092, 0, 3] and config["Findings"]["type_config"]["format"] == "%,d"
    assert shown["Days"].tolist()[2] == 12.0 and shown["Days"].isna().tolist() == [False, True, False]
    assert config["Days"]["type_config"]["format"] == "%,.1f days"
    assert [shown["Due"][0], shown["Due"][2]] == ["2026-01-31", "2025-12-01"] and "Due" not in config  # ISO text sorts by date


def test_sql_panels_show_the_sql_that_ran(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _app(monkeypatch, demo_warehouse)
    shown = _shown_sql(app)
    with Warehouse(demo_warehouse) as warehouse:
        expected = [panel.result.sql for panel in Report(warehouse).panels()]
    assert sorted(shown) == sorted(expected)
    with Warehouse(demo_warehouse) as warehouse:
        for sql in shown:
            warehouse.connection.execute(sql).fetchall()


def test_dialect_choice_shows_transpiled_sql(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    import sqlglot

    app = _app(monkeypatch, demo_warehouse)
    before = [block.value for block in app.code if block.language == "sql"]
    app.selectbox(key="dialect-status_breakdown").select("T-SQL").run()
    assert not app.exception
    after = [block.value for block in app.code if block.language == "sql"]
    assert len(after) == len(before) + 1
    added = after[after.index(before[2]) + 1]  # shown right below the status breakdown's SQL
    assert added != before[2]
    sqlglot.parse_one(added, read="tsql")


def test_readiness_shows_categories_and_every_rule(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _visit(_app(monkeypatch, demo_warehouse), "views/rules.py")
    labels = [expander.label for expander in app.expander]
    rule_labels = [label for label in labels if " · " in label and "finding(s)" in label]
    with Warehouse(demo_warehouse) as warehouse:
        catalogue = Report(warehouse).rule_findings().result.frame
    assert len(rule_labels) == len(catalogue) == 20
    for rule in catalogue.itertuples():
        assert any(label.startswith(f"{rule.title} · {rule.category} · {rule.severity} · {int(rule.findings)} finding(s)") for label in rule_labels)


def test_rules_without_their_input_show_as_not_evaluated(monkeypatch: pytest.MonkeyPatch, clean_warehouse: Path) -> None:
    app = _app(monkeypatch, clean_warehouse)
    overview = next(frame.value for frame in app.dataframe if "Rules evaluated" in frame.value.columns)
    by_category = dict(zip(overview["Category"], overview["Rules evaluated"]))
    assert by_category["Allocation conflicts"] == "4 of 4"
    assert sorted(v for v in by_category.values() if v.startswith("0 of")) == ["0 of 1", "0 of 3", "0 of 3"]
    _visit(app, "views/rules.py")
    labels = [expander.label for expander in app.expander]
    not_evaluated = [label for label in labels if "not evaluated: not landed" in label]
    assert len(not_evaluated) == 7  # schedule (3), split (1), agreement (3)
    assert all("finding(s)" not in label for label in not_evaluated)


def test_empty_states_are_friendly(monkeypatch: pytest.MonkeyPatch, clean_warehouse: Path) -> None:
    app = _app(monkeypatch, clean_warehouse)
    successes = [s.value for s in app.success]
    assert "No allocation conflicts in the pipeline." in successes
    assert "Nothing to fix: no pipeline milestone carries a conflict." in successes
    _visit(app, "views/history.py")
    assert any("History builds up with every `billready refresh`" in info.value for info in app.info)


def test_no_warehouse_is_a_friendly_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    app = _app(monkeypatch, tmp_path / "nothing-here")
    assert any("billready demo" in w.value for w in app.warning)


def test_a_filter_narrows_every_page_and_lands_in_the_url(
    monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path, company_names: dict[int, str]
) -> None:
    app = _app(monkeypatch, demo_warehouse)
    app.multiselect(key="filter_company").set_value([MERIDIAN]).run()
    assert not app.exception
    metrics = _metrics(app)
    assert (metrics["Total milestones"], metrics["Conflicts found"], metrics["Revenue at risk"]) == ("4", "1", "$7,500")
    assert app.query_params.get("company") in ("198", ["198"])
    assert any("Filtered: Company: Meridian Logistics Inc." in info.value for info in app.info)
    # The value is a bound parameter, shown beside the SQL; never part of the SQL text.
    assert any('"company_ids"' in block.value and "198" in block.value for block in app.code if block.language == "json")
    assert not any("198" in block.value for block in app.code if block.language == "sql")
    others = {name for cid, name in company_names.items() if cid != MERIDIAN}
    for page in PAGES:
        _visit(app, page)
        shown = set(_texts(app)) - {str(o) for o in app.multiselect(key="filter_company").options}
        leaked = {name for name in others for text in shown if name in text}
        assert not leaked, (page, leaked)
    _visit(app, "views/companies.py")
    companies = next(frame.value for frame in app.dataframe if "Company" in frame.value.columns)
    assert list(companies["Company"]) == ["Meridian Logistics Inc."]


def test_filters_come_from_the_url(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _app(monkeypatch, demo_warehouse, query={"company": str(MERIDIAN), "stage": "approved"})
    assert app.multiselect(key="filter_company").value == [MERIDIAN]
    assert app.multiselect(key="filter_stage").value == ["approved"]
    assert _metrics(app)["Total milestones"] == "1"


@pytest.mark.parametrize(
    "query",
    [
        {"company": "1; drop table marts.bi_findings; --"},
        {"due_from": "2026-13-45"},
        {"due_from": "2027-01-01", "due_to": "2026-01-01"},
        {"rule": "x' or '1'='1", "stage": "approved'); select 1; --", "project": "-1"},
    ],
)
def test_hostile_filters_are_harmless(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path, query: dict) -> None:
    app = _app(monkeypatch, demo_warehouse, query=query)
    if "rule" not in query:  # an invalid value is named, and the report shows unfiltered
        assert any("ignored" in w.value for w in app.warning), [w.value for w in app.warning]
    assert _metrics(app)["Total milestones"] == "47"
    with Warehouse(demo_warehouse) as warehouse:  # nothing was changed
        assert warehouse.query("select count(*) as n from marts.bi_findings").frame["n"][0] > 0


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"view": "rule", "id": "'; drop table marts.bi_findings; --"}, "Nothing to show"),
        ({"view": "milestone", "id": "1 or 1=1"}, "not a valid id"),
        ({"view": "project", "id": "999999999"}, "Nothing to show"),
        ({"view": "nonsense", "id": "1"}, "does not name a rule, project or milestone"),
    ],
)
def test_hostile_drill_through_targets_are_harmless(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path, query: dict, says: str) -> None:
    app = _open_link(_app(monkeypatch, demo_warehouse), "views/detail.py", query)
    assert any(says in w.value for w in app.warning), [w.value for w in app.warning]


def test_drill_through_to_a_rule_and_back_keeps_the_filters(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _app(monkeypatch, demo_warehouse)
    app.multiselect(key="filter_company").set_value([MERIDIAN]).run()
    app.button(key="drill-rule-contract_reference_mismatch").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert [t.value for t in app.title] == ["Rule: Contract reference mismatch"]
    assert app.query_params.get("view") in ("rule", ["rule"])
    assert [h.value for h in app.header] == [
        "Findings and how to fix them",
        "Milestones",
        "Charges (resolved contract and allocation)",
        "Contracts",
        "Billing items",
    ]
    milestones = next(frame.value for frame in app.dataframe if "Priority rank" in frame.value.columns)
    assert set(milestones["Company name"]) == {"Meridian Logistics Inc."}  # the filter holds here too
    fixes = [expander.label for expander in app.expander if not expander.label.startswith("View SQL")]
    assert fixes and all(label.startswith("Contract reference mismatch · ") for label in fixes)
    assert any(m.value.startswith("**Fix: ") for m in app.markdown)
    charges = next(frame.value for frame in app.dataframe if "Charge source" in frame.value.columns)
    assert {"Contract name", "Contract resolved from", "Allocation target"} <= set(charges.columns)

    app.button(key="detail-back-top").click().run()
    assert not app.exception
    assert app.header[0].value == "01 · KPI overview"
    assert _metrics(app)["Total milestones"] == "4"
    assert app.query_params.get("company") in ("198", ["198"])
    assert "view" not in app.query_params


def test_drill_through_from_the_action_list_to_a_milestone(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _app(monkeypatch, demo_warehouse)
    picker = app.selectbox(key="pick-actions")
    picker.select(picker.options[0] if isinstance(picker.options[0], int) else picker.value).run()
    app.button(key="open-actions").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value.startswith("Milestone: ")
    summary = next(frame.value for frame in app.dataframe if "Field" in frame.value.columns)
    assert "Amount" in set(summary["Field"])
    assert app.button(key="detail-back-top")


def test_the_detail_chooser_opens_a_milestone_by_id(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _visit(_app(monkeypatch, demo_warehouse), "views/detail.py")
    assert app.button(key="open-detail-milestone").disabled  # no id typed yet
    first = _app(monkeypatch, demo_warehouse).selectbox(key="pick-actions").value
    app.number_input(key="detail-milestone-id").set_value(int(first)).run()
    app.button(key="open-detail-milestone").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value.startswith("Milestone: ")
    assert app.query_params.get("id") in (str(first), [str(first)])


def test_project_drill_through(monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path) -> None:
    app = _visit(_app(monkeypatch, demo_warehouse), "views/companies.py")
    app.button(key="open-projects").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value.startswith("Project: ")
    app.button(key="detail-back-top").click().run()
    assert [t.value for t in app.title] == ["Companies and projects"]


def _assert_only(app: AppTest, company_names: dict[int, str], allowed: set[int]) -> None:
    """No page shows another company's name; the scope reaches SQL as a bound parameter."""
    others = {name for cid, name in company_names.items() if cid not in allowed}
    for page in PAGES:
        _visit(app, page)
        texts = list(_texts(app))
        leaked = {name for name in others for text in texts if name in text}
        assert not leaked, (page, leaked)
        if page == "views/overview.py":
            assert any('"scope_company_ids"' in block.value for block in app.code if block.language == "json")


def test_a_deployment_scope_hides_every_other_company(
    monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path, company_names: dict[int, str]
) -> None:
    monkeypatch.setenv(SCOPE_ENV, str(MERIDIAN))
    app = _app(monkeypatch, demo_warehouse)
    metrics = _metrics(app)
    assert (metrics["Total milestones"], metrics["Revenue at risk"]) == ("4", "$7,500")
    assert app.multiselect(key="filter_company").options == ["Meridian Logistics Inc."]
    _assert_only(app, company_names, {MERIDIAN})
    # Another company's milestone is not in view, even by a crafted link.
    _open_link(app, "views/detail.py", {"view": "milestone", "id": str(TRI_COUNTY_MILESTONE), "company": "210"})
    assert any("Nothing to show" in w.value for w in app.warning)
    assert not any("Tri-County" in text for text in _texts(app))


def test_a_signed_in_viewer_sees_only_their_companies(
    monkeypatch: pytest.MonkeyPatch, demo_warehouse: Path, company_names: dict[int, str], tmp_path: Path
) -> None:
    access = tmp_path / "access.toml"
    access.write_text(f'[viewers."alice@meridian.example"]\ncompanies = [{MERIDIAN}]\n\n[viewers."*@msp.example"]\ncompanies = "all"\n')
    monkeypatch.setenv(ACCESS_FILE_ENV, str(access))

    alice = _app(monkeypatch, demo_warehouse, user={"is_logged_in": True, "email": "alice@meridian.example"})
    assert _metrics(alice)["Total milestones"] == "4"
    assert any("alice@meridian.example" in caption.value for caption in alice.sidebar.caption)
    _assert_only(alice, company_names, {MERIDIAN})

    staff = _app(monkeypatch, demo_warehouse, user={"is_logged_in": True, "email": "bob@msp.example"})
    assert _metrics(staff)["Total milestones"] == "47"

    stranger = _app(monkeypatch, demo_warehouse, user={"is_logged_in": True, "email": "eve@elsewhere.example"})
    assert not stranger.metric and not stranger.dataframe
    assert any("no access" in e.value for e in stranger.error)

    anonymous = _app(monkeypatch, demo_warehouse, user={"is_logged_in": False})
    assert not anonymous.metric and not anonymous.dataframe
    assert any("sign in" in e.value.lower() for e in (*anonymous.error, *anonymous.info))
