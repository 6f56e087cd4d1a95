"""Reads for routing: the channel's policy, candidate locations with their ATP, capacity and cost, alternatives."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, time

from django.db.models import Case, Count, F, Min, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from inventory.atp import network_atp
from inventory.availability import incoming_lines, stock_availability
from inventory.exceptions import Shortfall
from inventory.models import Channel, Location, Sku
from inventory.nearby import nearest_locations_with_stock, stock_near
from oms.models import Order

from ..models import Fulfilment, RoutingPolicyVersion, ShippingCost
from .policy import Candidate, RoutingPolicy

ROUTING_CANDIDATES_NEAR = 100
_POSTCODE_AREA = re.compile(r"[A-Z]+")


def routing_policy_for(*, channel: Channel | None) -> RoutingPolicy:
    """The channel's newest active policy version, else the default one, else built-in defaults.

    ``channel=None`` asks for the default policy (the routing lab's "all channels").
    Callers that route many orders read it once and pass it along.
    """
    mine = Q(channel__isnull=True) if channel is None else Q(channel=channel) | Q(channel__isnull=True)
    found = (
        RoutingPolicyVersion.objects.filter(mine, active=True)
        .order_by(F("channel").asc(nulls_last=True), "-version")
        .values_list("version", "data")
        .first()
    )
    if found is None:
        return RoutingPolicy(version=0)
    version, data = found
    return RoutingPolicy.from_dict({**data, "version": version})


def destination_zones(address: Mapping) -> tuple[str, ...]:
    """The shipping-cost zones of an address, most specific first: country and postcode area, then country."""
    country = str(address.get("country") or "").replace(" ", "").upper()
    if not country:
        return ()
    area = _POSTCODE_AREA.match(str(address.get("postcode") or "").replace(" ", "").upper())
    return (f"{country}-{area.group()}", country) if area else (country,)


def location_candidates(
    *, stock: Mapping[tuple[int, int], int], pickup_location_id: int | None, zones: tuple[str, ...] = ()
) -> list[Candidate]:
    """Routing's view of the pickup store and of the active locations with ATP in ``stock`` (sku, location → ATP).

    One statement, today's fulfilment counts and each location's shipping cost to the
    most specific of ``zones`` (else its cost to any destination, else 0) included: it runs
    for every order.
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
    taken_today = (
        Fulfilment.objects.filter(location=OuterRef("pk"), created_at__gte=start)
        .exclude(status=Fulfilment.Status.CANCELLED)
        .order_by()
        .values("location")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Each zone extends the next ("GB-SW", "GB", "" for any destination), so the greatest
    # matching one is the most specific.
    cost = ShippingCost.objects.filter(location=OuterRef("pk"), zone__in=[*zones, ""]).order_by("-zone").values("cost")
    rows = (
        Location.objects.filter(active=True, pk__in=ids)
        .order_by("pk")
        .values_list("pk", "code", "kind", "lat", "lon", "ships", "pickup", "priority", "daily_capacity")
        .annotate(
            # Counted only where a capacity is set: elsewhere nothing weighs it.
            used=Case(When(daily_capacity__isnull=False, then=Subquery(taken_today)), default=Value(0)),
            shipping_cost=Subquery(cost[:1]),
        )
    )
    return [
        Candidate(
            location_id=pk,
            code=code,
            kind=kind,
            lat=lat,
            lon=lon,
            ships=ships,
            pickup=pickup,
            priority=priority,
            capacity_left=None if daily is None else max(0, daily - (used or 0)),
            stock=by_location.get(pk, {}),
            cost=float(shipping_cost or 0),
            daily_capacity=daily,
        )
        for pk, code, kind, lat, lon, ships, pickup, priority, daily, used, shipping_cost in rows
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
    zones: tuple[str, ...] = (),
) -> list[Candidate]:
    """The locations holding ATP of any wanted SKU for the channel (and the pickup store), as routing sees it.

    With ``near`` (the destination) only the ``limit`` best-placed are kept: those filling
    the most lines in full (``quantities``), then holding the most wanted SKUs, nearest
    first; with ``whole_only`` only those filling every line, when any does (see
    ``stock_near``). Routing wants the fewest shipments, then the shortest distance, so the
    winners are among them; over a thousand stores this keeps loading and routing an order
    to a few milliseconds. Two statements either way: the stock (ranked and cut by the
    database), then the locations with their cost of shipping to ``zones``.
    """
    if near is None:
        stock = stock_availability(sku_ids=sku_ids, channel=channel)
    else:
        stock = stock_near(
            sku_ids=sku_ids, channel=channel, near=near, limit=limit, quantities=quantities, whole_only=whole_only
        ).available
    return location_candidates(stock=stock, pickup_location_id=pickup_location_id, zones=zones)


def order_shortfall_alternatives(*, order: Order, unfilled: dict[int, int]) -> list[Shortfall]:
    """Per short SKU: what the channel has network-wide, the nearest stores that have some, and the next arrival."""
    skus = Sku.objects.in_bulk(list(unfilled))
    available = network_atp(sku_ids=list(unfilled), channel=order.channel)
    nearby = nearest_locations_with_stock(
        lines=unfilled, lat=order.lat, lon=order.lon, channel=order.channel, limit=20, filters=Q(pickup=True)
    )
    arrivals = dict(
        incoming_lines()
        .filter(sku_id__in=list(unfilled))
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
