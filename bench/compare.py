"""The equal-results check: billready's figures against a peer's, exactly.

Compared: the four KPIs of ``billready check`` (total milestones, conflicts found, revenue at risk,
charges conflicts), the pipeline milestones breaking each allocation rule (the report's
``conflict_causes`` section) and the charges by allocation target. Counts must be equal; revenue at
risk must be equal to the cent (billready sums DECIMAL amounts, pandas sums floats).
"""
from __future__ import annotations

from typing import Any

KPI_NAMES = ("total_milestones", "conflicts_found", "revenue_at_risk", "charges_conflicts")


class ResultMismatch(AssertionError):
    """billready and a peer disagree; the message lists every difference."""


def _normal(name: str, value: Any) -> Any:
    if value is None:
        return 0
    if name == "revenue_at_risk":
        return round(float(value), 2)
    return int(value)


def normalise(figures: dict[str, Any]) -> dict[str, Any]:
    """Figures in the comparable form: KPIs, per-rule counts and the allocation split."""
    return {
        "kpis": {name: _normal(name, figures["kpis"].get(name)) for name in KPI_NAMES},
        "rules": {rule: int(count) for rule, count in sorted(figures["rules"].items())},
        "charges_by_allocation": {
            target: int(count) for target, count in sorted(figures["charges_by_allocation"].items())
        },
    }


def differences(billready: dict[str, Any], peer: dict[str, Any]) -> list[str]:
    """Every figure on which the two disagree, as ``section.name: billready X, peer Y``."""
    ours, theirs = normalise(billready), normalise(peer)
    found = []
    for section in ("kpis", "rules", "charges_by_allocation"):
        for name in sorted(set(ours[section]) | set(theirs[section])):
            mine, other = ours[section].get(name), theirs[section].get(name)
            if mine != other:
                found.append(f"{section}.{name}: billready {mine!r}, peer {other!r}")
    return found


def assert_equal_results(billready: dict[str, Any], peer: dict[str, Any], *, peer_name: str = "pandas") -> None:
    """Raise :class:`ResultMismatch` unless the peer's figures equal billready's exactly."""
    found = differences(billready, peer)
    if found:
        raise ResultMismatch(f"{peer_name} peer disagrees with billready:\n  " + "\n  ".join(found))
