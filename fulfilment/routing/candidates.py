"""Reads for routing: the channel's policy, candidate locations with their ATP, capacity and cost, alternatives."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime, time

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from inventory.atp import channel_location_ids, network_atp
from inventory.availability import stock_availability, supply_lots
from inventory.exceptions import Shortfall
from inventory.models import Channel, Sku
from inventory.nearby import nearest_locations_with_stock, stock_near
from oms.models import Order

from ..models import RoutingPolicyVersion
from ..sql import candidate_locations
from .policy import Candidate, RoutingPolicy

ROUTING_CANDIDATES_NEAR = 100
_POSTCODE_AREA = re.compile(r"[A-Z]+")


POLICIES_KEY = "routing-policies:v1"
POLICIES_SECONDS = 300


def _active_policies() -> dict[int | None, tuple[int, dict]]:
    """Channel id (None: the default policy) → its newest active version and data: one cached
    value, rebuilt after any change to a policy version or every few minutes, because every
    order asks."""
    policies = cache.get(POLICIES_KEY)
    if policies is None:
        rows = RoutingPolicyVersion.objects.filter(active=True).order_by("version")
        policies = {channel_id: (version, data) for channel_id, version, data in rows.values_list(
            "channel_id", "version", "data"
        )}  # fmt: skip
        cache.set(POLICIES_KEY, policies, POLICIES_SECONDS)
    return policies


def policies_changed(**_kwargs) -> None:
    """Forget the cached policies now and again once the change commits, so no reader keeps the old ones."""
    cache.delete(POLICIES_KEY)
    transaction.on_commit(lambda: cache.delete(POLICIES_KEY))


post_save.connect(policies_changed, sender=RoutingPolicyVersion, dispatch_uid="routing-policies-save")
post_delete.connect(policies_changed, sender=RoutingPolicyVersion, dispatch_uid="routing-policies-delete")


def routing_policy_for(*, channel: Channel | None) -> RoutingPolicy:
    """The channel's newest active policy version, else the default one, else built-in defaults.

    ``channel=None`` asks for the default policy (the routing lab's "all channels").
    """
    policies = _active_policies()
    found = (policies.get(channel.pk) if channel is not None else None) or policies.get(None)
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
    *,
    stock: Mapping[tuple[int, int], int],
    pickup_location_id: int | None,
    zones: tuple[str, ...] = (),
    include: Collection[int] = (),
) -> list[Candidate]:
    """Routing's view of the pickup store, of the active locations with ATP in ``stock`` (sku, location → ATP)
    and of the locations in ``include``.

    One hand-written statement (``fulfilment.sql``), today's fulfilment counts and each
    location's shipping cost to the most specific of ``zones`` (else its cost to any
    destination, else 0) included: it runs for every order.
    """
    by_location: dict[int, dict[int, int]] = {}
    for (sku_id, location_id), available in stock.items():
        if available > 0:
            by_location.setdefault(location_id, {})[sku_id] = available
    ids = set(by_location) | set(include)
    if pickup_location_id is not None:
        ids.add(pickup_location_id)
    if not ids:
        return []
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    rows = candidate_locations(ids=sorted(ids), zones=zones, since=start)
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
    sells_from = channel_location_ids(channel=order.channel)
    arrivals: dict[int, datetime] = {}  # the next supply the channel may sell, inbound or in transit
    for lot in supply_lots(sku_ids=unfilled):
        if sells_from is None or lot.location_id in sells_from:
            arrivals.setdefault(lot.sku_id, lot.at)
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
