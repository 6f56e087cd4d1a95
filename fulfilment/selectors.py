"""Reads for routing: candidate locations with their ATP and capacity, the channel's policy, alternatives."""

from __future__ import annotations

from datetime import datetime, time

from django.db.models import Count, Q
from django.utils import timezone

from inventory.exceptions import Shortfall
from inventory.models import Channel, Location, Sku, TransferLine
from inventory.selectors import nearest_locations_with_stock, network_atp, stock_availability
from oms.models import Order

from .models import Fulfilment, RoutingPolicyVersion
from .routing import Candidate, RoutingPolicy


def routing_policy_for(*, channel: Channel) -> RoutingPolicy:
    """The channel's newest active policy version, else the default one, else built-in defaults."""
    row = (
        RoutingPolicyVersion.objects.filter(Q(channel=channel) | Q(channel__isnull=True), active=True)
        .order_by("channel_id", "-version")  # a channel's own policy sorts before the default (NULL last)
        .first()
    )
    if row is None:
        return RoutingPolicy(version=0)
    return RoutingPolicy.from_dict({**row.data, "version": row.version})


def fulfilments_created_today(*, location_ids) -> dict[int, int]:
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    rows = (
        Fulfilment.objects.filter(location_id__in=list(location_ids), created_at__gte=start)
        .exclude(status=Fulfilment.Status.CANCELLED)
        .values_list("location_id")
        .annotate(n=Count("pk"))
    )
    return dict(rows)


def routing_candidates(
    *, channel: Channel, sku_ids: list[int], pickup_location_id: int | None = None
) -> list[Candidate]:
    """Every location holding ATP of any wanted SKU for the channel (and the pickup store), as routing sees it."""
    atp = stock_availability(sku_ids=sku_ids, channel=channel)
    stock: dict[int, dict[int, int]] = {}
    for (sku_id, location_id), available in atp.items():
        if available > 0:
            stock.setdefault(location_id, {})[sku_id] = available
    ids = set(stock) | ({pickup_location_id} if pickup_location_id else set())
    locations = list(
        Location.objects.filter(pk__in=ids, active=True).only(
            "id", "code", "kind", "lat", "lon", "ships", "pickup", "priority", "daily_capacity"
        )
    )
    used = fulfilments_created_today(location_ids=[loc.pk for loc in locations if loc.daily_capacity is not None])
    return [
        Candidate(
            location_id=loc.pk,
            code=loc.code,
            kind=loc.kind,
            lat=loc.lat,
            lon=loc.lon,
            ships=loc.ships,
            pickup=loc.pickup,
            priority=loc.priority,
            capacity_left=None if loc.daily_capacity is None else max(0, loc.daily_capacity - used.get(loc.pk, 0)),
            stock=stock.get(loc.pk, {}),
            daily_capacity=loc.daily_capacity,
        )
        for loc in locations
    ]


def order_shortfall_alternatives(*, order: Order, unfilled: dict[int, int]) -> list[Shortfall]:
    """Per short SKU: what the channel has network-wide, the nearest stores that have some, and the next arrival."""
    skus = Sku.objects.in_bulk(list(unfilled))
    available = network_atp(sku_ids=list(unfilled), channel=order.channel)
    nearby = nearest_locations_with_stock(
        lines=unfilled, lat=order.lat, lon=order.lon, channel=order.channel, limit=20, filters=Q(pickup=True)
    )
    shortfalls = []
    for sku_id, quantity in sorted(unfilled.items()):
        options = [
            {"store": n.location.code, "available": n.available[sku_id], "distance_km": n.distance_km}
            for n in nearby
            if n.available.get(sku_id, 0) > 0
        ][:3]
        arrival = (
            TransferLine.objects.filter(sku_id=sku_id, transfer__status="in_transit")
            .order_by("transfer__expected_at")
            .values_list("transfer__expected_at", flat=True)
            .first()
        )
        if arrival is not None:
            options.append({"ready_by": arrival.isoformat()})
        total = sum(q for s, q in _requested(order).items() if s == sku_id)
        shortfalls.append(
            Shortfall(skus[sku_id].code, None, total, available.get(sku_id, 0), alternatives=tuple(options))
        )
    return shortfalls


def _requested(order: Order) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for line in order.lines.all():
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.open_quantity
    return wanted
