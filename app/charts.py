"""Altair charts of the report's panels (rendering only: the rows are the panel's rows)."""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

MONEY_AXIS = "$,.0f"
RISK_COLOUR = "#d1495b"
PIPELINE_COLOUR = "#3b6ea5"


def _show(chart: alt.Chart, title: str) -> None:
    # The title is Streamlit text, not the chart's own: with Streamlit's theme an Altair title
    # counts against a small chart's height and squeezes the bars to nothing.
    st.markdown(f"**{title}**")
    st.altair_chart(chart, width="stretch")


def stage_breakdown(frame: pd.DataFrame) -> None:
    """Pipeline milestones per billing stage (tenant labels), conflicted ones highlighted."""
    if frame.empty:
        return
    rows = []
    for row in frame.itertuples():
        total, conflicts = int(row.total_milestones or 0), int(row.conflicts_found or 0)
        rows.append({"stage": row.stage_label, "order": row.Index, "kind": "With a conflict", "milestones": conflicts})
        rows.append({"stage": row.stage_label, "order": row.Index, "kind": "No conflict", "milestones": total - conflicts})
    data = pd.DataFrame(rows)
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("stage:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelLimit=240)),
            x=alt.X("sum(milestones):Q", title="Milestones", stack="zero"),
            color=alt.Color(
                "kind:N",
                scale=alt.Scale(domain=["No conflict", "With a conflict"], range=[PIPELINE_COLOUR, RISK_COLOUR]),
                legend=alt.Legend(title=None, orient="right"),
            ),
            order=alt.Order("kind:N", sort="descending"),
            tooltip=["stage:N", "kind:N", alt.Tooltip("milestones:Q", format=",")],
        )
        .properties(height=max(160, 56 * len(frame)))
    )
    _show(chart, "Pipeline milestones by billing stage")


def revenue_by(frame: pd.DataFrame, label_column: str, amount_column: str, count_column: str, title: str, label: str) -> None:
    """Revenue at risk per rule, company or project, largest first (rows without any left out)."""
    if frame.empty:
        return
    data = pd.DataFrame({
        label: frame[label_column].fillna(f"(no {label.lower()})").astype(str),
        "Revenue at risk": frame[amount_column].fillna(0).astype(float),
        "Milestones": frame[count_column].fillna(0).astype(int),
    })
    data = data[data["Revenue at risk"] > 0]
    if data.empty:
        st.success(f"No revenue at risk by {label.lower()}.")
        return
    chart = (
        alt.Chart(data)
        .mark_bar(color=RISK_COLOUR)
        .encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=280)),
            x=alt.X("Revenue at risk:Q", axis=alt.Axis(format=MONEY_AXIS)),
            tooltip=[f"{label}:N", alt.Tooltip("Revenue at risk:Q", format=MONEY_AXIS), alt.Tooltip("Milestones:Q", format=",")],
        )
        .properties(height=max(160, 48 * len(data)))
    )
    _show(chart, title)


def due_month(frame: pd.DataFrame) -> None:
    """Pipeline amount and revenue at risk by due month."""
    data = frame.assign(month=pd.to_datetime(frame["metric_time__month"]).dt.strftime("%Y-%m"))
    data = data.melt(
        id_vars=["month"],
        value_vars=["pipeline_amount", "revenue_at_risk"],
        var_name="measure",
        value_name="amount",
    )
    data["measure"] = data["measure"].map({"pipeline_amount": "Pipeline amount", "revenue_at_risk": "Revenue at risk"})
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Due month"),
            xOffset="measure:N",
            y=alt.Y("amount:Q", title=None, axis=alt.Axis(format=MONEY_AXIS)),
            color=alt.Color(
                "measure:N",
                scale=alt.Scale(domain=["Pipeline amount", "Revenue at risk"], range=[PIPELINE_COLOUR, RISK_COLOUR]),
                legend=alt.Legend(title=None, orient="bottom"),
            ),
            tooltip=["month:O", "measure:N", alt.Tooltip("amount:Q", format=MONEY_AXIS)],
        )
        .properties(height=260)
    )
    _show(chart, "Pipeline by due month")


def refresh_trend(frame: pd.DataFrame) -> None:
    """Conflicts and money at risk at each refresh."""
    label = "refresh_milestone__refreshed_at_label"
    data = frame.reset_index(drop=True).assign(order=lambda f: range(len(f)))
    conflicts = (
        alt.Chart(data)
        .mark_line(point=True, color=RISK_COLOUR)
        .encode(
            x=alt.X(f"{label}:O", sort=alt.SortField("order"), title="Refresh"),
            y=alt.Y("history_conflicts:Q", title="Conflicts"),
            tooltip=[f"{label}:O", alt.Tooltip("history_conflicts:Q", format=",")],
        )
    )
    _show(conflicts.properties(height=220), "Conflicts at each refresh")
    money = data.melt(
        id_vars=[label, "order"],
        value_vars=["history_revenue_at_risk", "unbilled_approved_amount"],
        var_name="measure",
        value_name="amount",
    )
    money["measure"] = money["measure"].map({
        "history_revenue_at_risk": "Revenue at risk",
        "unbilled_approved_amount": "Approved, not yet billed",
    })
    amounts = (
        alt.Chart(money)
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{label}:O", sort=alt.SortField("order"), title="Refresh"),
            y=alt.Y("amount:Q", title=None, axis=alt.Axis(format=MONEY_AXIS)),
            color=alt.Color("measure:N", legend=alt.Legend(title=None, orient="bottom")),
            tooltip=[f"{label}:O", "measure:N", alt.Tooltip("amount:Q", format=MONEY_AXIS)],
        )
    )
    _show(amounts.properties(height=220), "Money at risk at each refresh")
