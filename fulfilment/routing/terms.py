"""The score terms of routing, each declared once.

A term says what it measures on a candidate, which weight of the policy multiplies it,
how the stored explanation and the routing lab's form name it, and why a location lost
on it. Scoring (``scoring.py``), the explanation (``explain.py``), the lab's form and the
table in docs/routing.md all read ``TERMS``; a test keeps the docs and the form in step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .policy import Candidate

MAX_WEIGHT = 10_000.0  # beyond it scores lose their meaning (a weight of 1e308 makes every score infinite)


def capacity_load(c: Candidate) -> float:
    """Share of the day's capacity already used (0 when the location has no daily capacity)."""
    if not c.daily_capacity or c.capacity_left is None:
        return 0.0
    return min(1.0, max(0.0, 1 - c.capacity_left / c.daily_capacity))


@dataclass(frozen=True)
class Term:
    """One weighted part of a candidate's score; lower scores win."""

    key: str  # its name in the explanation's ``score``
    weight_field: str  # the RoutingPolicy field that weighs it
    default: float  # that field's default
    explain_key: str  # its name in the explanation's ``policy.weights``
    label: str  # the lab form's label
    help: str  # what it measures, for the form and docs/routing.md
    lost_reason: str  # "<lost_reason> than X" when a location lost on this term
    measure: Callable[[Candidate, float], float]  # (candidate, km) -> the figure the weight multiplies
    formula: str  # its part of the score, as docs/routing.md writes it
    # Terms that existed before a term could be switched off are always explained, so stored
    # explanations keep one shape; a newer term appears only when its weight is not 0.
    always_explained: bool = False
    form_min: float = 0.0  # the lab refuses weights below this
    form_required: bool = True  # optional fields left empty weigh 0

    def weight(self, policy) -> float:
        return getattr(policy, self.weight_field)

    def explained(self, policy) -> bool:
        return self.always_explained or self.weight(policy) != 0


DISTANCE = Term(
    key="distance",
    formula="weight_distance × km",
    weight_field="weight_distance",
    default=1.0,
    explain_key="distance_per_km",
    label="Weight: distance (per km)",
    help="geodesic km from the customer (or from the pickup store, for transfers); must not be negative",
    lost_reason="farther",
    measure=lambda c, km: km,
    always_explained=True,
)

TERMS: tuple[Term, ...] = (
    DISTANCE,
    Term(
        key="priority",
        formula="− weight_priority × priority",
        weight_field="weight_priority",
        default=10.0,
        explain_key="priority",
        label="Weight: location priority",
        help="the location's priority points, subtracted: a higher priority lowers the score",
        lost_reason="lower priority",
        measure=lambda c, km: -c.priority,
        always_explained=True,
    ),
    Term(
        key="cost",
        formula="+ weight_cost × cost",
        weight_field="weight_cost",
        default=1.0,
        explain_key="cost",
        label="Weight: shipping cost",
        help="the shipping cost of one shipment from the location to the destination zone (shipping costs)",
        lost_reason="higher cost",
        measure=lambda c, km: c.cost,
        always_explained=True,
    ),
    Term(
        key="load",
        formula="+ weight_load × load",
        weight_field="weight_load",
        default=20.0,
        explain_key="load",
        label="Weight: capacity load",
        help="share of the location's daily capacity already used today (0 without a daily capacity)",
        lost_reason="busier",
        measure=lambda c, km: capacity_load(c),
        always_explained=True,
    ),
    Term(
        key="store",
        formula="+ weight_store × is_store",
        weight_field="weight_store",
        default=0.0,
        explain_key="store",
        label="Weight: store vs warehouse (negative prefers stores)",
        help="1 for a store, 0 for a warehouse: a negative weight prefers stores, a positive one warehouses",
        lost_reason="less preferred location kind",
        measure=lambda c, km: 1.0 if c.kind == "store" else 0.0,
        form_min=-MAX_WEIGHT,
        form_required=False,
    ),
)

# Terms that do not depend on the distance: scored once per candidate, before any re-measuring.
FIXED_TERMS = tuple(t for t in TERMS if t is not DISTANCE)


def terms_formula() -> str:
    """The score as docs/routing.md writes it."""
    return "`" + " ".join(t.formula for t in TERMS) + "`"


def terms_table() -> str:
    """The docs' table of score terms, one row per term, in registry order."""
    rows = ["| Term | Policy weight | Default | Explanation key | What it measures |", "|---|---|---|---|---|"]
    rows += [f"| `{t.key}` | `{t.weight_field}` | {t.default:g} | `{t.explain_key}` | {t.help} |" for t in TERMS]
    return "\n".join(rows)
