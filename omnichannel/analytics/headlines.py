"""The figures the analytics page opens with, each against the previous period of the same length.

All of them come from the daily channel roll-up in one query covering both periods; a
rate's change is in percentage points, a count's or an amount's in percent of before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from django.db.models import Q, Sum

from .reports import display
from .selectors import AnalyticsFilters, _channel_rows, share

FIELDS = (
    "orders",
    "revenue",
    "ship_from_warehouse",
    "ship_from_store",
    "click_and_collect",
    "routed_orders",
    "split_orders",
    "returned_orders",
    "finished",
    "on_time",
)


@dataclass(frozen=True)
class Headline:
    slug: str
    label: str
    kind: str  # int | money | rate
    value: int | Decimal | float | None
    previous: int | Decimal | float | None
    explains: str
    better: str = "up"  # which way is good news: up | down | "" (neither)

    @property
    def change(self) -> float | None:
        """Rates: the difference in points (as a fraction); counts and money: the relative change."""
        if self.value is None or self.previous is None:
            return None
        if self.kind == "rate":
            return self.value - self.previous
        return float(self.value - self.previous) / float(self.previous) if self.previous else None

    @property
    def value_text(self) -> str:
        return display(self.value, self.kind)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "no figure to compare" if self.previous in (None, 0) else "–"
        if self.kind == "rate":
            return f"{change * 100:+.1f} pts"
        return f"{change:+.1%}"

    @property
    def direction(self) -> str:
        change = self.change
        return "flat" if not change else ("up" if change > 0 else "down")

    @property
    def tone(self) -> str:
        """good, bad or neutral: a falling return rate is good news, a falling revenue is not."""
        if self.direction == "flat" or not self.better:
            return "neutral"
        return "good" if self.direction == self.better else "bad"


def previous_period(filters: AnalyticsFilters) -> AnalyticsFilters:
    """The same number of days just before ``filters.start``."""
    return replace(filters, start=filters.start - timedelta(days=filters.days), end=filters.start - timedelta(days=1))


def _figures(totals: dict) -> dict:
    live = totals["ship_from_warehouse"] + totals["ship_from_store"] + totals["click_and_collect"]
    return {
        "orders": totals["orders"],
        "revenue": totals["revenue"],
        "ship_from_store": share(totals["ship_from_store"], live),
        "click_and_collect": share(totals["click_and_collect"], live),
        "split_rate": share(totals["split_orders"], totals["routed_orders"]),
        "on_time": share(totals["on_time"], totals["finished"]),
        "return_rate": share(totals["returned_orders"], totals["orders"]),
    }


HEADLINES = (
    ("orders", "Orders", "int", "Orders placed in the period.", "up"),
    ("revenue", "Revenue", "money", "Value of the units ordered and not cancelled.", "up"),
    ("ship_from_store", "Ship-from-store share", "rate", "Live fulfilments shipped from a store.", ""),
    ("click_and_collect", "Click-and-collect share", "rate", "Live fulfilments collected at a store.", ""),
    ("split_rate", "Split rate", "rate", "Routed orders sent from more than one location.", "down"),
    ("on_time", "On-time rate", "rate", "Fulfilments dispatched or ready for pickup by their due time.", "up"),
    ("return_rate", "Return rate", "rate", "Orders placed in the period that have a return.", "down"),
)


def headline_figures(*, filters: AnalyticsFilters) -> list[Headline]:
    """The headline figures for the period and the one before it, in one query."""
    before = previous_period(filters)
    now_q, before_q = Q(day__gte=filters.start), Q(day__lte=before.end)
    sums = {}
    for name in FIELDS:
        sums[f"now_{name}"] = Sum(name, filter=now_q, default=0)
        sums[f"before_{name}"] = Sum(name, filter=before_q, default=0)
    totals = _channel_rows(replace(filters, start=before.start)).aggregate(**sums)
    now = _figures({name: totals[f"now_{name}"] for name in FIELDS})
    then = _figures({name: totals[f"before_{name}"] for name in FIELDS})
    return [
        Headline(slug, label, kind, now[slug], then[slug], explains, better)
        for slug, label, kind, explains, better in HEADLINES
    ]
