"""The analytics roll-up: rewrite the daily tables for the days that changed since the last run.

An order's measures belong to the day it was placed, a return's to the day it was
requested. Every change to an order, its fulfilments or its returns writes an
``Activity`` row with the order, so the days to recompute are the placement days of
orders created or touched since the previous run, the request days of their returns,
and today. Each day is rewritten whole in its own transaction, so a run is safe to
repeat and a crash half-way leaves every day either old or new, never mixed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, DecimalField, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from geopy.distance import geodesic

from fulfilment.models import Fulfilment
from fulfilment.store_work import fulfilment_due_at
from inventory.models import StockLevel, StockMovement
from oms.models import Activity, Order
from returns.models import Return

from .models import DailyChannelRollup, DailyReturnRollup, DailyStockRollup, RollupRun
from .selectors import day_bounds

# Activity rows are stamped when inserted but seen only once committed: a change whose
# transaction was still open when the last run read would otherwise be missed.
COMMIT_LAG = timedelta(minutes=5)
MONEY = DecimalField(max_digits=14, decimal_places=2)
DEAD = [Fulfilment.Status.DECLINED, Fulfilment.Status.CANCELLED]


def _days(queryset, field: str) -> set[date]:
    return set(queryset.annotate(day=TruncDate(field)).values_list("day", flat=True).distinct())


def _touched_days(since: datetime | None) -> tuple[set[date], set[date]]:
    """Placement days of orders and request days of returns that changed since ``since`` (all when None)."""
    orders, returns = Order.objects.all(), Return.objects.all()
    if since is not None:
        touched = Activity.objects.filter(at__gte=since).values("order_id")
        orders = orders.filter(Q(created_at__gte=since) | Q(pk__in=touched))
        returns = returns.filter(Q(created_at__gte=since) | Q(order_id__in=touched))
    return _days(orders, "created_at"), _days(returns, "created_at")


def _channel_rows(day: date) -> list[DailyChannelRollup]:
    """Compute one day's channel roll-up rows: one per channel network-wide, one per channel and location."""
    start, end = day_bounds(day)
    orders = {
        row["pk"]: row
        for row in Order.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            revenue=Coalesce(
                Sum(
                    F("lines__unit_price") * (F("lines__quantity") - F("lines__cancelled_quantity")), output_field=MONEY
                ),
                Decimal(0),
                output_field=MONEY,
            ),
            returned=Exists(Return.objects.filter(order=OuterRef("pk")).exclude(status__in=Return.VOID)),
        )
        .values("pk", "channel_id", "lat", "lon", "revenue", "returned")
    }
    fulfilments = list(
        Fulfilment.objects.filter(order_id__in=list(orders))
        .annotate(due_at=fulfilment_due_at())
        .annotate(value=Sum(F("lines__quantity") * F("lines__order_line__unit_price"), output_field=MONEY))
        .values(
            "pk", "order_id", "location_id", "location__lat", "location__lon", "method", "status", "created_at",
            "ready_at", "value", "due_at", "dispatched_at",
        )
    )  # fmt: skip
    accepted = {
        int(subject.split(":", 1)[1])
        for subject in Activity.objects.filter(
            order_id__in=list(orders), subject__startswith="fulfilment:", to_state=Fulfilment.Status.ACCEPTED
        ).values_list("subject", flat=True)
    }
    totals: dict[tuple[int, int | None], Counter] = defaultdict(Counter)
    for order in orders.values():
        network = totals[(order["channel_id"], None)]
        network["orders"] += 1
        network["revenue"] += order["revenue"]
        network["returned_orders"] += order["returned"]

    live_by_order: dict[int, list[dict]] = defaultdict(list)
    for f in fulfilments:
        order = orders[f["order_id"]]
        for row in (totals[(order["channel_id"], None)], totals[(order["channel_id"], f["location_id"])]):
            row["fulfilments"] += 1
            row["accepted"] += f["pk"] in accepted
            row["declined"] += f["status"] == Fulfilment.Status.DECLINED
            row["collected"] += f["status"] == Fulfilment.Status.COLLECTED
            row["expired"] += f["status"] == Fulfilment.Status.EXPIRED
            if f["ready_at"] is not None:
                row["ready"] += 1
                row["ready_seconds"] += (f["ready_at"] - f["created_at"]).total_seconds()
            done_at = f["ready_at"] or f["dispatched_at"]  # the store's part is done: on the shelf or sent
            if done_at is not None:
                row["finished"] += 1
                row["on_time"] += done_at <= f["due_at"]
            if f["status"] in DEAD:
                continue
            row[f["method"]] += 1
            if f["method"] != Fulfilment.Method.CLICK_AND_COLLECT and order["lat"] is not None:
                row["shipments"] += 1
                row["shipment_km"] += geodesic(
                    (order["lat"], order["lon"]), (f["location__lat"], f["location__lon"])
                ).km
        if f["status"] not in DEAD:
            live_by_order[f["order_id"]].append(f)

    for order_id, live in live_by_order.items():
        order = orders[order_id]
        split = len(live) > 1
        totals[(order["channel_id"], None)]["routed_orders"] += 1
        totals[(order["channel_id"], None)]["split_orders"] += split
        value_at: Counter = Counter()
        for f in live:
            value_at[f["location_id"]] += f["value"] or Decimal(0)
        for location_id, value in value_at.items():
            row = totals[(order["channel_id"], location_id)]
            row["orders"] += 1
            row["revenue"] += value
            row["routed_orders"] += 1
            row["split_orders"] += split
            row["returned_orders"] += order["returned"]
    return [
        DailyChannelRollup(day=day, channel_id=channel_id, location_id=location_id, **measures)
        for (channel_id, location_id), measures in totals.items()
    ]


def _return_rows(day: date) -> list[DailyReturnRollup]:
    start, end = day_bounds(day)
    rows = (
        Return.objects.filter(created_at__gte=start, created_at__lt=end)
        .exclude(status__in=Return.VOID)
        .values(
            purchase=F("order__channel_id"),
            returned_via=Coalesce("channel_id", "order__channel_id"),
            received_here=F("received_location_id"),
        )
        .annotate(returns=Count("pk", distinct=True), units=Coalesce(Sum("lines__quantity"), 0))
    )
    return [
        DailyReturnRollup(
            day=day,
            purchase_channel_id=row["purchase"],
            return_channel_id=row["returned_via"],
            location_id=row["received_here"],
            returns=row["returns"],
            units=row["units"],
        )
        for row in rows
    ]


def _dispatched(day: date) -> dict[int, int]:
    start, end = day_bounds(day)
    return dict(
        StockMovement.objects.filter(kind=StockMovement.Kind.DISPATCH, created_at__gte=start, created_at__lt=end)
        .values_list("stock_level__location_id")
        .annotate(units=-Sum("on_hand_delta"))
    )


def _rollup_stock(*, today: date, since: datetime | None) -> None:
    """Snapshot today's stock per location; refresh dispatched units of the days since the last run."""
    snapshot = StockLevel.objects.values("location_id").annotate(
        tracked=Count("pk"),
        out=Count("pk", filter=Q(on_hand__lte=F("reserved"))),
        units=Sum("on_hand"),
    )
    dispatched = _dispatched(today)
    with transaction.atomic():
        for row in snapshot:
            DailyStockRollup.objects.update_or_create(
                day=today,
                location_id=row["location_id"],
                defaults={
                    "skus_tracked": row["tracked"],
                    "skus_out_of_stock": row["out"],
                    "units_on_hand": row["units"] or 0,
                    "units_dispatched": dispatched.get(row["location_id"], 0),
                },
            )
        # A run just after midnight closes the previous day's dispatches; its snapshot stays.
        day = since.date() if since is not None else today
        while day < today:
            for location_id, units in _dispatched(day).items():
                DailyStockRollup.objects.filter(day=day, location_id=location_id).update(units_dispatched=units)
            day += timedelta(days=1)


def analytics_rollup(*, now: datetime | None = None) -> RollupRun:
    """Recompute the roll-up days touched since the last run, today always; the first run builds every day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = RollupRun.objects.first()
    since = last.started_at - COMMIT_LAG if last else None
    order_days, return_days = _touched_days(since)
    order_days.add(today)
    return_days.add(today)
    for day in sorted(order_days):
        rows = _channel_rows(day)
        with transaction.atomic():  # readers see the old day or the new one, never a half-written day
            DailyChannelRollup.objects.filter(day=day).delete()
            DailyChannelRollup.objects.bulk_create(rows)
    for day in sorted(return_days):
        rows = _return_rows(day)
        with transaction.atomic():
            DailyReturnRollup.objects.filter(day=day).delete()
            DailyReturnRollup.objects.bulk_create(rows)
    _rollup_stock(today=today, since=since)
    return RollupRun.objects.create(started_at=now, days=len(order_days | return_days))
