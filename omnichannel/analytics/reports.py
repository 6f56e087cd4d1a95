"""The dashboard's reports: each one table (shown on the page and exported as CSV) and its chart.

One definition serves both outputs, so the page, its chart and the downloaded file can
never disagree about a number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from . import selectors
from .charts import Chart, bar_chart, stacked_columns
from .deadline_breaches import deadline_breaches
from .selectors import AnalyticsFilters, PolicyComparison


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # text | int | money | rate | decimal | ratio

    @property
    def numeric(self) -> bool:
        return self.kind != "text"

    @property
    def csv_label(self) -> str:
        return f"{self.label} (%)" if self.kind == "rate" else self.label


def display(value, kind: str) -> str:
    """Format a cell for the page; an undefined rate or mean shows as an en dash."""
    if value is None:
        return "–"
    return {
        "int": lambda v: f"{v:,}",
        "money": lambda v: f"{v:,.2f}",
        "rate": lambda v: f"{v:.1%}",
        "decimal": lambda v: f"{v:,.1f}",
        "ratio": lambda v: f"{v:,.2f}",
    }.get(kind, str)(value)


def exported(value, kind: str):
    """Format a cell for CSV: plain numbers a spreadsheet reads, rates in percent."""
    if value is None:
        return ""
    if kind == "money":
        return f"{Decimal(value):.2f}"
    if kind == "rate":
        return round(value * 100, 2)
    if kind in ("decimal", "ratio"):
        return round(value, 2)
    return value


@dataclass(frozen=True)
class Report:
    slug: str
    title: str
    columns: Sequence[Column]
    rows: list[list]
    chart: Chart
    note: str = ""

    def display_rows(self) -> list[list[tuple[str, str, bool, object]]]:
        """Cells as (text, column label, numeric, sort key) for the template; the key is the CSV value."""
        return [
            [
                (display(value, c.kind), c.label, c.numeric, exported(value, c.kind))
                for value, c in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]

    def csv_rows(self) -> list[list]:
        return [[c.csv_label for c in self.columns]] + [
            [exported(value, c.kind) for value, c in zip(row, self.columns, strict=True)] for row in self.rows
        ]


def _rate(value) -> str:
    return display(value, "rate")


def channels(filters: AnalyticsFilters) -> Report:
    rows = selectors.channel_summary(filters=filters)
    return Report(
        "channels",
        "Orders and revenue by channel",
        [
            Column("Channel"),
            Column("Orders", "int"),
            Column("Revenue", "money"),
            Column("Split rate", "rate"),
            Column("Mean distance (km)", "decimal"),
            Column("Return rate", "rate"),
        ],
        [[r.code, r.orders, r.revenue, r.split_rate, r.mean_distance_km, r.return_rate] for r in rows],
        bar_chart(
            "Revenue by channel",
            [r.code for r in rows],
            [("Revenue", [float(r.revenue) for r in rows])],
            lambda v: display(v, "money"),
        ),
        note="Split rate: orders with more than one live fulfilment. Distance: customer to shipping location, "
        "geodesic, per delivery shipment.",
    )


def fulfilment_mix(filters: AnalyticsFilters) -> Report:
    days = selectors.fulfilment_mix(filters=filters)
    methods = [
        ("Ship from warehouse", [d.ship_from_warehouse for d in days]),
        ("Ship from store", [d.ship_from_store for d in days]),
        ("Click and collect", [d.click_and_collect for d in days]),
    ]
    return Report(
        "fulfilment-mix",
        "Fulfilment mix over time",
        [
            Column("Day"),
            Column("Ship from warehouse", "int"),
            Column("Ship from store", "int"),
            Column("Click and collect", "int"),
            Column("Split rate", "rate"),
            Column("Mean distance (km)", "decimal"),
        ],
        [
            [
                d.day.isoformat(),
                d.ship_from_warehouse,
                d.ship_from_store,
                d.click_and_collect,
                d.split_rate,
                d.mean_distance_km,
            ]
            for d in days
        ],
        stacked_columns("Fulfilments per day by method", [d.day.strftime("%d %b") for d in days], methods),
        note="Live fulfilments (not declined or cancelled) of the orders placed each day.",
    )


def stores(filters: AnalyticsFilters) -> Report:
    rows = selectors.store_performance(filters=filters)
    return Report(
        "stores",
        "Store performance",
        [
            Column("Store"),
            Column("Fulfilments", "int"),
            Column("Acceptance rate", "rate"),
            Column("Decline rate", "rate"),
            Column("Mean hours to ready", "decimal"),
            Column("Pickup expiry rate", "rate"),
            Column("Capacity use", "rate"),
        ],
        [
            [
                r.code,
                r.fulfilments,
                r.acceptance_rate,
                r.decline_rate,
                r.mean_hours_to_ready,
                r.pickup_expiry_rate,
                r.capacity_use,
            ]
            for r in rows
        ],
        bar_chart(
            "Acceptance and decline rate by store",
            [r.code for r in rows],
            [("Accepted", [r.acceptance_rate for r in rows]), ("Declined", [r.decline_rate for r in rows])],
            _rate,
        ),
        note="Capacity use: fulfilments routed to the store over its daily capacity for the days of the period.",
    )


def deadlines(filters: AnalyticsFilters) -> Report:
    rows = deadline_breaches(filters=filters)
    return Report(
        "deadlines",
        "Deadline breaches per store",
        [
            Column("Store"),
            Column("Work with a deadline", "int"),
            Column("Accept deadlines missed", "int"),
            Column("Ready/dispatch deadlines missed", "int"),
            Column("On time", "rate"),
        ],
        [[r.code, r.with_deadline, r.accept_missed, r.ready_missed, r.on_time_rate] for r in rows],
        bar_chart(
            "Deadlines missed by store",
            [r.code for r in rows],
            [("Accept", [r.accept_missed for r in rows]), ("Ready/dispatch", [r.ready_missed for r in rows])],
            lambda v: display(v, "int"),
        ),
        note="Store work routed in the period. Accept missed: re-routed because the store did not accept "
        "in time. Ready/dispatch missed: ready for pickup or shipped after its deadline, or still open past it. "
        "On time: work whose deadlines are behind it that met them all.",
    )


def returns(filters: AnalyticsFilters) -> Report:
    matrix = selectors.returns_matrix(filters=filters)
    rates = {r.code: r.return_rate for r in selectors.channel_summary(filters=filters)}
    purchases = sorted(set(matrix.purchase_channels) | set(rates))
    return Report(
        "returns",
        "Returns: channel of purchase × channel of return",
        [
            Column("Bought via"),
            *[Column(f"Returned via {code}", "int") for code in matrix.return_channels],
            Column("Return rate", "rate"),
        ],
        [[code, *matrix.row(code), rates.get(code)] for code in purchases],
        bar_chart(
            "Return rate by channel of purchase", purchases, [("Return rate", [rates.get(c) for c in purchases])], _rate
        ),
        note="Returns requested in the period. Return rate: orders placed in the period that have a return.",
    )


def inventory(filters: AnalyticsFilters) -> Report:
    rows = selectors.inventory_health(filters=filters)
    return Report(
        "inventory",
        "Inventory health",
        [
            Column("Location"),
            Column("Out-of-stock rate", "rate"),
            Column("Units dispatched", "int"),
            Column("Stock turn", "ratio"),
        ],
        [[r.code, r.out_of_stock_rate, r.units_dispatched, r.stock_turn] for r in rows],
        bar_chart(
            "Out-of-stock rate by location",
            [r.code for r in rows],
            [("Out of stock", [r.out_of_stock_rate for r in rows])],
            _rate,
        ),
        note="Daily stock snapshots; the channel filter does not apply. Stock turn: units dispatched over "
        "average units on hand.",
    )


REPORTS: dict[str, Callable[[AnalyticsFilters], Report]] = {
    "channels": channels,
    "fulfilment-mix": fulfilment_mix,
    "stores": stores,
    "deadlines": deadlines,
    "returns": returns,
    "inventory": inventory,
}


def lab_report(comparison: PolicyComparison) -> dict:
    """The lab's side-by-side measures as display text, and its per-location load chart."""
    measures = [(label, display(now, kind), display(then, kind)) for label, kind, now, then in comparison.measures]
    codes = [code for code, _, _ in comparison.load]
    chart = bar_chart(
        "Fulfilments per location",
        codes,
        [("Current", [now for _, now, _ in comparison.load]), ("Candidate", [then for _, _, then in comparison.load])],
        lambda v: display(v, "int"),
    )
    return {"measures": measures, "load_chart": chart}
