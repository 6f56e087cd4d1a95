"""Reads for routing: candidate locations with their ATP and capacity, the channel's policy, alternatives."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time

from django.db import connection
from django.db.models import Min, Q
from django.utils import timezone

from inventory.exceptions import Shortfall
from inventory.models import Channel, Location, Sku, TransferLine
from inventory.selectors import nearest_locations_with_stock, network_atp, stock_availability, stock_near
from oms.models import Order
from oms.selectors import column_reader

from .models import Fulfilment, RoutingPolicyVersion
from .routing import Candidate, RoutingPolicy

_POLICY_SQL = f"""
    SELECT version, data FROM {RoutingPolicyVersion._meta.db_table}
    WHERE active AND (channel_id = %s OR channel_id IS NULL)
    ORDER BY channel_id IS NULL, version DESC LIMIT 1"""


def routing_policy_for(*, channel: Channel | None) -> RoutingPolicy:
    """The channel's newest active policy version, else the default one, else built-in defaults.

    ``channel=None`` asks for the default policy (the routing lab's "all channels").

    One hand-written statement: every availability request and every order reads it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_POLICY_SQL, [channel.pk if channel is not None else None])
        row = cursor.fetchone()
    if row is None:
        return RoutingPolicy(version=0)
    version, data = row
    return RoutingPolicy.from_dict(
        {**column_reader(RoutingPolicyVersion._meta.get_field("data"))(data), "version": version}
    )


# The locations routing may use, with the fulfilments each took today when it has a daily capacity.
_CANDIDATES_SQL = f"""
    SELECT l.id, l.code, l.kind, l.lat, l.lon, l.ships, l.pickup, l.priority, l.daily_capacity,
        CASE WHEN l.daily_capacity IS NULL THEN 0 ELSE (
            SELECT COUNT(*) FROM {Fulfilment._meta.db_table} f
            WHERE f.location_id = l.id AND f.created_at >= %s AND f.status <> %s
        ) END
    FROM {Location._meta.db_table} l WHERE l.active AND l.id IN ({{ids}}) ORDER BY l.id"""

ROUTING_CANDIDATES_NEAR = 100


def _candidates(*, stock: Mapping[tuple[int, int], int], pickup_location_id: int | None) -> list[Candidate]:
    """Routing's view of the pickup store and of the active locations with ATP in ``stock`` (sku, location → ATP).

    One hand-written statement, today's fulfilment counts included: it runs for every order.
    """
    by_location: dict[int, dict[int, int]] = {}
    for (sku_id, location_id), available in stock.items():
        if available > 0:
            by_location.setdefault(location_id, {})[sku_id] = available
    ids = set(by_location)
    if pickup_location_id is not None:
        ids.add(pickup_location_id)
    if not ids:
        return []
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    params = [connection.ops.adapt_datetimefield_value(start), Fulfilment.Status.CANCELLED, *sorted(ids)]
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL.format(ids=", ".join(["%s"] * len(ids))), params)
        rows = cursor.fetchall()
    return [
        Candidate(
            location_id=pk,
            code=code,
            kind=kind,
            lat=lat,
            lon=lon,
            ships=bool(ships),  # SQLite hands booleans back as 0 and 1
            pickup=bool(pickup),
            priority=priority,
            capacity_left=None if daily is None else max(0, daily - used),
            stock=by_location.get(pk, {}),
            daily_capacity=daily,
        )
        for pk, code, kind, lat, lon, ships, pickup, priority, daily, used in rows
    ]


def routing_candidates(
    *,
    channel: Channel,
    sku_ids: list[int],
    pickup_location_id: int | None = None,
    near: tuple[float, float] | None = None,
    limit: int = ROUTING_CANDIDATES_NEAR,
    quantities: Mapping[int, int] | None = None,
    whole_only: bool = False,
) -> list[Candidate]:
    """The locations holding ATP of any wanted SKU for the channel (and the pickup store), as routing sees it.

    With ``near`` (the destination) only the ``limit`` best-placed are kept: those filling
    the most lines in full (``quantities``), then holding the most wanted SKUs, nearest
    first; with ``whole_only`` only those filling every line, when any does (see
    ``stock_near``). Routing wants the fewest shipments, then the shortest distance, so the
    winners are among them; over a thousand stores this keeps loading and routing an order
    to a few milliseconds. Two statements either way: the stock (ranked and cut by the
    database), then the locations.
    """
    if near is None:
        stock = stock_availability(sku_ids=sku_ids, channel=channel)
    else:
        stock = stock_near(
            sku_ids=sku_ids, channel=channel, near=near, limit=limit, quantities=quantities, whole_only=whole_only
        ).available
    return _candidates(stock=stock, pickup_location_id=pickup_location_id)


def order_shortfall_alternatives(*, order: Order, unfilled: dict[int, int]) -> list[Shortfall]:
    """Per short SKU: what the channel has network-wide, the nearest stores that have some, and the next arrival."""
    skus = Sku.objects.in_bulk(list(unfilled))
    available = network_atp(sku_ids=list(unfilled), channel=order.channel)
    nearby = nearest_locations_with_stock(
        lines=unfilled, lat=order.lat, lon=order.lon, channel=order.channel, limit=20, filters=Q(pickup=True)
    )
    arrivals = dict(
        TransferLine.objects.filter(sku_id__in=list(unfilled), transfer__status="in_transit")
        .values_list("sku_id")
        .annotate(first=Min("transfer__expected_at"))
    )
    requested: dict[int, int] = {}
    for line in order.lines.all():
        requested[line.sku_id] = requested.get(line.sku_id, 0) + line.open_quantity
    shortfalls = []
    for sku_id in sorted(unfilled):
        options = [
            {"store": n.location.code, "available": n.available[sku_id], "distance_km": n.distance_km}
            for n in nearby
            if n.available.get(sku_id, 0) > 0
        ][:3]
        if sku_id in arrivals:
            options.append({"ready_by": arrivals[sku_id].isoformat()})
        shortfalls.append(
            Shortfall(skus[sku_id].code, None, requested[sku_id], available.get(sku_id, 0), alternatives=tuple(options))
        )
    return shortfalls
