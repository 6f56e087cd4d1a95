"""Reads for routing: candidate locations with their ATP and capacity, the channel's policy, alternatives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.utils import timezone

from inventory.exceptions import InvalidInput, Shortfall
from inventory.models import Channel, Location, Sku, TransferLine
from inventory.selectors import nearest_locations_with_stock, network_atp, skus_resolve, stock_availability
from oms.geo import coordinates_for
from oms.models import Customer, Order, OrderLine
from oms.services import normalise_email, normalise_phone

from .models import Fulfilment, FulfilmentLine, RoutingPolicyVersion
from .routing import DELIVERY, PICKUP, ROUTED, Candidate, RoutingPolicy, RoutingRequest, route


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
    # Plain tuples, not model instances: over a thousand stores this halves the cost of the read.
    locations = list(
        Location.objects.filter(pk__in=ids, active=True).values_list(
            "id", "code", "kind", "lat", "lon", "ships", "pickup", "priority", "daily_capacity"
        )
    )
    used = fulfilments_created_today(location_ids=[loc[0] for loc in locations if loc[-1] is not None])
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
            capacity_left=None if daily is None else max(0, daily - used.get(pk, 0)),
            stock=stock.get(pk, {}),
            daily_capacity=daily,
        )
        for pk, code, kind, lat, lon, ships, pickup, priority, daily in locations
    ]


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


# --- orders as a channel sees them ------------------------------------------------------


def order_list(*, channel: Channel | None) -> QuerySet[Order]:
    """Orders with their lines and fulfilments prefetched: a channel's own, or every one (channel None)."""
    orders = Order.objects.select_related("channel").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("sku")),
        Prefetch(
            "fulfilments",
            queryset=Fulfilment.objects.select_related("location").prefetch_related(
                Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku"))
            ),
        ),
    )
    return orders if channel is None else orders.filter(channel=channel)


def order_get(*, pk: int, channel: Channel | None) -> Order:
    """One order the caller may see; another channel's order is as unknown as a missing one."""
    return order_list(channel=channel).get(pk=pk)


def fulfilment_get(*, pk: int, channel: Channel | None) -> Fulfilment:
    """One fulfilment of an order the caller may see."""
    fulfilments = Fulfilment.objects.select_related("order", "location")
    if channel is not None:
        fulfilments = fulfilments.filter(order__channel=channel)
    return fulfilments.get(pk=pk)


# --- availability for a checkout ------------------------------------------------------


@dataclass(frozen=True)
class LineAvailability:
    sku: str
    quantity: int
    available: int


@dataclass(frozen=True)
class DeliveryAvailability:
    can_fulfil: bool
    shipments: int
    summary: str


@dataclass(frozen=True)
class PickupStore:
    store: str
    name: str
    distance_km: float
    all_available: bool
    ready_by: datetime | None


@dataclass(frozen=True)
class Availability:
    lines: list[LineAvailability]
    delivery: DeliveryAvailability
    pickup_stores: list[PickupStore]


def _destination_point(*, lat, lon, postcode: str, country: str) -> tuple[float, float]:
    if lat is not None and lon is not None:
        return lat, lon
    point = coordinates_for(postcode=postcode, country=country) if postcode else None
    if point is None:
        raise InvalidInput(
            "The destination is unknown: send lat and lon, or a known postcode.",
            errors={"destination.postcode": ["Unknown postcode; send lat and lon."]},
        )
    return point


def availability_for(
    *,
    channel: Channel,
    lines: list[tuple[str, int]],
    lat: float | None = None,
    lon: float | None = None,
    postcode: str = "",
    country: str = "GB",
    pickup_radius_km: float = 25.0,
    store_limit: int = 20,
) -> Availability:
    """What a checkout can promise: network ATP per line, delivery, and the pickup stores near the customer.

    Delivery and every store's ready time come from the same routing engine and
    candidates as order placement, so the promise matches what placing the order does.
    """
    skus = skus_resolve(codes=[code for code, _ in lines], channel=channel)
    unknown = {f"lines[{i}].sku": [f"Unknown SKU {code!r}."] for i, (code, _) in enumerate(lines) if code not in skus}
    if unknown:
        missing = ", ".join(code for code, _ in lines if code not in skus)
        raise InvalidInput(f"Unknown SKUs: {missing}.", errors=unknown)
    wanted: dict[int, int] = {}
    for code, quantity in lines:
        wanted[skus[code].pk] = wanted.get(skus[code].pk, 0) + quantity
    point = _destination_point(lat=lat, lon=lon, postcode=postcode, country=country)
    atp = network_atp(sku_ids=list(wanted), channel=channel)
    policy = routing_policy_for(channel=channel)
    candidates = routing_candidates(channel=channel, sku_ids=list(wanted))
    now = timezone.now()
    plan = route(RoutingRequest(lines=wanted, method=DELIVERY, destination=point, now=now), candidates, policy)
    delivery = DeliveryAvailability(
        can_fulfil=plan.status == ROUTED,
        shipments=len(plan.groups) if plan.status == ROUTED else 0,
        summary=plan.explanation["summary"],
    )
    by_id = {c.location_id: c for c in candidates}
    stores = []
    for nearby in nearest_locations_with_stock(
        lines=wanted, lat=point[0], lon=point[1], channel=channel, limit=store_limit,
        radius_km=pickup_radius_km, filters=Q(pickup=True),
    ):  # fmt: skip
        store = nearby.location
        own = by_id.get(store.pk) or Candidate(
            store.pk, store.code, store.kind, store.lat, store.lon, store.ships, store.pickup, store.priority, None, {}
        )
        others = [c for c in candidates if c.location_id != store.pk]
        request = RoutingRequest(lines=wanted, method=PICKUP, destination=None, now=now, pickup_location_id=store.pk)
        pickup = route(request, [*others, own], policy)
        ready_by = max(g.ready_by for g in pickup.groups) if pickup.status == ROUTED else None
        stores.append(PickupStore(store.code, store.name, nearby.distance_km, nearby.covers(wanted), ready_by))
    return Availability(
        lines=[LineAvailability(code, quantity, atp.get(skus[code].pk, 0)) for code, quantity in lines],
        delivery=delivery,
        pickup_stores=stores,
    )


# --- finding an order from whatever the person at the counter or on the phone has ------------

_PHONE_CHARS = re.compile(r"^[+\d][\d\s().-]{6,}$")


def orders_search(*, query: str, limit: int = 50) -> QuerySet[Order]:
    """Orders of every channel matching an order number, external reference, e-mail, phone
    (any format), member number, tracking number or pickup code of a parcel awaiting collection.

    Each identifier is looked up on its own index and the ids are unioned, which keeps the
    search fast on a large order table where one OR across joined tables would scan.
    """
    query = (query or "").strip()
    if not query:
        return Order.objects.none()
    ids: set[int] = set()
    ids.update(Order.objects.filter(number=query.upper()).values_list("pk", flat=True))
    ids.update(Order.objects.filter(external_id=query).values_list("pk", flat=True)[:limit])
    customer_match = Q(member_number=query)
    if "@" in query:
        customer_match |= Q(email=normalise_email(query))
    if _PHONE_CHARS.match(query):
        try:
            customer_match |= Q(phone=normalise_phone(query))
        except InvalidInput:
            pass
    customers = Customer.objects.filter(customer_match).values_list("pk", flat=True)
    ids.update(Order.objects.filter(customer__in=list(customers)).values_list("pk", flat=True)[:limit])
    ids.update(Fulfilment.objects.filter(tracking=query).values_list("order_id", flat=True)[:limit])
    ids.update(
        Fulfilment.objects.filter(pickup_code=query, status=Fulfilment.Status.READY_FOR_PICKUP).values_list(
            "order_id", flat=True
        )[:limit]
    )
    return order_list(channel=None).select_related("customer").filter(pk__in=ids).order_by("-created_at")[:limit]
