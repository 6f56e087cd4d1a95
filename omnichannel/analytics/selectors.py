"""Reads for the analytics pages: sums over the daily roll-ups, one query per report.

Rates are returned as fractions (None when there is nothing to divide by) and money as
Decimal; the pages and the CSV export format them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from fulfilment.routing.candidates import routing_policy_for
from fulfilment.routing.policy import RoutingPolicy
from fulfilment.simulation import orders_for_replay, replay_policies, stock_snapshot
from inventory.models import Channel, Location

from .models import DailyChannelRollup, DailyReturnRollup, DailyStockRollup, RollupRun


@dataclass(frozen=True)
class AnalyticsFilters:
    start: date
    end: date  # included
    channel: Channel | None = None
    location: Location | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The first instant of ``day`` and of the next one, in the project's time zone."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=1)


def share(part, whole) -> float | None:
    return float(part) / float(whole) if whole else None


def _channel_rows(filters: AnalyticsFilters, *, by_location: bool = False):
    """Channel roll-up rows in the period: the network rows, or one location's, or every location's."""
    rows = DailyChannelRollup.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.channel is not None:
        rows = rows.filter(channel=filters.channel)
    if filters.location is not None:
        return rows.filter(location=filters.location)
    return rows.filter(location__isnull=not by_location)


def _sums(*fields: str) -> dict:
    return {name: Sum(name) for name in fields}


@dataclass(frozen=True)
class ChannelSummary:
    code: str
    name: str
    orders: int
    revenue: Decimal
    split_rate: float | None
    mean_distance_km: float | None
    return_rate: float | None


def channel_summary(*, filters: AnalyticsFilters) -> list[ChannelSummary]:
    """Orders, revenue, split rate, mean shipping distance and return rate per channel."""
    rows = (
        _channel_rows(filters)
        .values("channel__code", "channel__name")
        .annotate(**_sums("orders", "revenue", "routed_orders", "split_orders", "shipments", "shipment_km"))
        .annotate(returned=Sum("returned_orders"))
        .order_by("channel__code")
    )
    return [
        ChannelSummary(
            code=row["channel__code"],
            name=row["channel__name"],
            orders=row["orders"],
            revenue=row["revenue"] or Decimal(0),
            split_rate=share(row["split_orders"], row["routed_orders"]),
            mean_distance_km=share(row["shipment_km"], row["shipments"]),
            return_rate=share(row["returned"], row["orders"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class MixDay:
    day: date
    ship_from_warehouse: int
    ship_from_store: int
    click_and_collect: int
    split_rate: float | None
    mean_distance_km: float | None


def fulfilment_mix(*, filters: AnalyticsFilters) -> list[MixDay]:
    """Fulfilments per method, split rate and mean shipping distance per day (days without orders included)."""
    fields = ("ship_from_warehouse", "ship_from_store", "click_and_collect", "routed_orders", "split_orders")
    by_day = {
        row["day"]: row
        for row in _channel_rows(filters)
        .values("day")
        .annotate(**_sums(*fields, "shipments", "shipment_km"))
        .order_by("day")
    }
    result = []
    for offset in range(filters.days):
        day = filters.start + timedelta(days=offset)
        row = by_day.get(day, {})
        result.append(
            MixDay(
                day=day,
                ship_from_warehouse=row.get("ship_from_warehouse", 0),
                ship_from_store=row.get("ship_from_store", 0),
                click_and_collect=row.get("click_and_collect", 0),
                split_rate=share(row.get("split_orders", 0), row.get("routed_orders", 0)),
                mean_distance_km=share(row.get("shipment_km", 0), row.get("shipments", 0)),
            )
        )
    return result


@dataclass(frozen=True)
class StorePerformance:
    code: str
    name: str
    fulfilments: int
    acceptance_rate: float | None
    decline_rate: float | None
    mean_hours_to_ready: float | None
    pickup_expiry_rate: float | None
    capacity_use: float | None


def store_performance(*, filters: AnalyticsFilters) -> list[StorePerformance]:
    """Per store: how much of the work routed there it took on, how fast, and how full it ran."""
    rows = (
        _channel_rows(filters, by_location=True)
        .filter(location__kind=Location.Kind.STORE)
        .values("location__code", "location__name", "location__daily_capacity")
        .annotate(**_sums("fulfilments", "accepted", "declined", "ready", "ready_seconds", "collected", "expired"))
        .order_by("location__code")
    )
    return [
        StorePerformance(
            code=row["location__code"],
            name=row["location__name"],
            fulfilments=row["fulfilments"],
            acceptance_rate=share(row["accepted"], row["fulfilments"]),
            decline_rate=share(row["declined"], row["fulfilments"]),
            mean_hours_to_ready=share(row["ready_seconds"] / 3600, row["ready"]),
            pickup_expiry_rate=share(row["expired"], row["collected"] + row["expired"]),
            capacity_use=share(row["fulfilments"], (row["location__daily_capacity"] or 0) * filters.days),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ReturnsMatrix:
    purchase_channels: list[str]
    return_channels: list[str]
    counts: dict[tuple[str, str], int]  # (purchase, return) -> returns

    def row(self, purchase: str) -> list[int]:
        return [self.counts.get((purchase, returned), 0) for returned in self.return_channels]


def returns_matrix(*, filters: AnalyticsFilters) -> ReturnsMatrix:
    """Returns requested in the period: the channel of purchase against the channel of return."""
    rows = DailyReturnRollup.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.channel is not None:
        rows = rows.filter(purchase_channel=filters.channel)
    if filters.location is not None:
        rows = rows.filter(location=filters.location)
    counts = {
        (row["purchase_channel__code"], row["return_channel__code"]): row["n"]
        for row in rows.values("purchase_channel__code", "return_channel__code").annotate(n=Sum("returns"))
    }
    return ReturnsMatrix(
        purchase_channels=sorted({p for p, _ in counts}),
        return_channels=sorted({r for _, r in counts}),
        counts=counts,
    )


@dataclass(frozen=True)
class StockHealth:
    code: str
    name: str
    out_of_stock_rate: float | None
    units_dispatched: int
    stock_turn: float | None


def inventory_health(*, filters: AnalyticsFilters) -> list[StockHealth]:
    """Per location: the share of SKUs with nothing to promise, and dispatched units over average stock.

    Stock is a daily snapshot, so the channel filter does not apply here.
    """
    rows = DailyStockRollup.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.location is not None:
        rows = rows.filter(location=filters.location)
    rows = (
        rows.values("location__code", "location__name")
        .annotate(**_sums("skus_tracked", "skus_out_of_stock", "units_on_hand", "units_dispatched"))
        .annotate(snapshots=Count("pk"))
        .order_by("location__code")
    )
    return [
        StockHealth(
            code=row["location__code"],
            name=row["location__name"],
            out_of_stock_rate=share(row["skus_out_of_stock"], row["skus_tracked"]),
            units_dispatched=row["units_dispatched"],
            stock_turn=share(row["units_dispatched"], row["units_on_hand"] / row["snapshots"]),
        )
        for row in rows
    ]


def last_rollup() -> RollupRun | None:
    return RollupRun.objects.first()


# --- routing policy lab ------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyComparison:
    orders: int
    current_versions: dict[str, int]  # channel code -> its live policy version
    measures: list[tuple[str, str, object, object]]  # label, kind, current, candidate
    load: list[tuple[str, int, int]]  # location code, current, candidate


def routing_comparison(
    *, start: date, end: date, channel: Channel | None, candidate: RoutingPolicy
) -> PolicyComparison:
    """Replay the orders placed from ``start`` to ``end`` (included) under each channel's policy and ``candidate``.

    Nothing is written: the replay runs on today's stock (fulfilment/simulation.py).
    """
    begin, _ = day_bounds(start)
    _, finish = day_bounds(end)
    orders = orders_for_replay(start=begin, end=finish, channel=channel)
    channels = Channel.objects.in_bulk({o.channel_id for o in orders})
    current = {pk: routing_policy_for(channel=c) for pk, c in channels.items()}
    results = replay_policies(
        orders=orders, snapshot=stock_snapshot(orders=orders), current=current, candidate=candidate
    )
    now, then = results["current"], results["candidate"]
    measures = [
        ("Orders replayed", "int", now.orders, then.orders),
        ("Fulfilments", "int", sum(now.load.values()), sum(then.load.values())),
        ("Delivery shipments", "int", now.shipments, then.shipments),
        ("Split rate", "rate", share(now.split, now.routed), share(then.split, then.routed)),
        (
            "Mean distance (km)",
            "decimal",
            share(now.shipment_km, now.shipments),
            share(then.shipment_km, then.shipments),
        ),
        ("Ship-from-store share", "rate", share(now.from_store, now.shipments), share(then.from_store, then.shipments)),
        (
            "Mean shipping cost",
            "money",
            share(now.shipment_cost, now.shipments),
            share(then.shipment_cost, then.shipments),
        ),
        ("Capacity breaches", "int", now.capacity_breaches, then.capacity_breaches),
        ("Unfillable orders", "int", now.unfillable, then.unfillable),
    ]
    codes = dict(Location.objects.filter(pk__in=set(now.load) | set(then.load)).values_list("pk", "code"))
    load = sorted((codes[pk], now.load[pk], then.load[pk]) for pk in codes)
    return PolicyComparison(
        orders=len(orders),
        current_versions={channels[pk].code: policy.version for pk, policy in sorted(current.items())},
        measures=measures,
        load=load,
    )
