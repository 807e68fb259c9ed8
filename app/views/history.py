"""History: conflicts, revenue at risk and unbilled approved work over refreshes, and how fast
conflicts get resolved."""
from __future__ import annotations

import charts
import streamlit as st
import ui

from billready import formatting as fmt

current = ui.context()
report = current.report
ui.header("History over refreshes")

history = ui.load(report.history_summary, "The resolution and cycle-time summary")
if history is not None:
    frame = history.result.frame
    row = frame.iloc[0] if len(frame) else {}
    columns = st.columns(3)
    columns[0].metric("Conflicts resolved", fmt.count(row.get("resolved_conflicts")))
    columns[1].metric("Average time to resolve", fmt.days(row.get("avg_days_to_resolve")))
    columns[2].metric("Completion-to-posting cycle", fmt.days(row.get("avg_cycle_days")))
    ui.footer(history)

trend = ui.load(report.refresh_trend, "The trend over refreshes")
if trend is not None:
    frame = trend.result.frame
    if len(frame) < 2:
        st.info("History builds up with every `billready refresh`: the trend appears from the second refresh on.")
    else:
        charts.refresh_trend(frame)
    ui.table(
        trend,
        {
            "refresh_milestone__refreshed_at_label": "Refresh",
            "history_conflicts": "Conflicts",
            "history_revenue_at_risk": "Revenue at risk",
            "unbilled_approved_amount": "Approved, not yet billed",
        },
        {"history_conflicts": "count", "history_revenue_at_risk": "money", "unbilled_approved_amount": "money"},
        empty="No refresh recorded yet.",
    )
