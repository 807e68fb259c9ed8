"""Number formats as the reference report prints them: $28,500 and 66.0%."""
from __future__ import annotations

from typing import Any

import pandas as pd


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


def count(value: Any) -> str:
    """``1,092``."""
    if value is None or pd.isna(value):
        return "0"
    return f"{int(value):,}"
