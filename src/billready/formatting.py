"""Number formats as the reference report prints them: $28,500 and 66.0%."""
from __future__ import annotations

import datetime
import json
from decimal import Decimal
from typing import Any

import pandas as pd

OUTPUT_FORMATS = ("table", "csv", "json")


def money(value: Any) -> str:
    """``$28,500``; cents only when there are any (``$1,234.50``)."""
    if value is None or pd.isna(value):
        return "—"
    amount = float(value)
    text = f"{abs(amount):,.2f}"
    if text.endswith(".00"):
        text = text[:-3]
    return f"-${text}" if amount < 0 else f"${text}"


def share(value: Any) -> str:
    """A fraction as a percentage with one decimal: 0.66 -> ``66.0%``."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value) * 100:.1f}%"


def days(value: Any) -> str:
    """A duration in days with one decimal (``3.5 days``); ``—`` when unknown."""
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.1f} days"


def count(value: Any) -> str:
    """``1,092``."""
    if value is None or pd.isna(value):
        return "0"
    return f"{int(value):,}"


def plain(value: Any) -> Any:
    """A JSON-friendly scalar: Decimal and numpy numbers to int/float, dates to ISO text."""
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):  # numpy arrays
        return plain(value.tolist())
    if value is None or pd.isna(value):
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def render_frame(frame: pd.DataFrame, output_format: str) -> str:
    """Rows as an aligned table, CSV, or a JSON list of records."""
    if output_format == "csv":
        return frame.map(plain).to_csv(index=False).rstrip("\n")
    if output_format == "json":
        records = [{key: plain(value) for key, value in row.items()} for row in frame.to_dict(orient="records")]
        return json.dumps(records, indent=2)
    if frame.empty:
        return "(no rows)"
    return frame.map(plain).to_string(index=False)
