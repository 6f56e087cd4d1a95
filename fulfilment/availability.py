"""What a checkout can promise: per-line network ATP, delivery, and the pickup stores near the customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import Channel
from inventory.nearby import nearest_locations, stock_near, with_stock
from inventory.selectors import skus_resolve
from oms.geo import coordinates_for
from oms.promises import incoming

from .deadlines import routing_unavailable
from .routing.candidates import ROUTING_CANDIDATES_NEAR, location_candidates, routing_policy_for
from .routing.engine import pickup_ready_by, route
from .routing.policy import DELIVERY, PICKUP, ROUTED, Candidate, RoutingRequest
from .store_hours import Calendar, next_opening, opens_at, store_calendar


@dataclass(frozen=True)
class Incoming:
    on: date
    quantity: int


@dataclass(frozen=True)
class LineAvailability:
    sku: str
    quantity: int
    available: int
    incoming: list[Incoming]  # supply still to come the channel may promise, by day


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
    opens_at: datetime | None = None  # when a store closed now opens next


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
    """What a checkout can promise: network ATP and supply still to come per line, delivery, and the pickup
    stores near the customer.

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
    nearest = nearest_locations(
        lat=point[0], lon=point[1], limit=store_limit, radius_km=pickup_radius_km, filters=Q(pickup=True)
    )
    # One scan of the stock gives the delivery candidates, each SKU's network ATP and the pickup stores' ATP.
    found = stock_near(
        sku_ids=wanted,
        channel=channel,
        near=point,
        limit=ROUTING_CANDIDATES_NEAR,
        at=[n.location.pk for n in nearest],
        quantities=wanted,
    )
    policy = routing_policy_for(channel=channel)
    candidates = location_candidates(stock=found.available, pickup_location_id=None)
    now = timezone.now()
    unavailable = routing_unavailable(at=now)
    plan = route(
        RoutingRequest(lines=wanted, method=DELIVERY, destination=point, now=now, unavailable=unavailable),
        candidates,
        policy,
    )
    delivery = DeliveryAvailability(
        can_fulfil=plan.status == ROUTED,
        shipments=len(plan.groups) if plan.status == ROUTED else 0,
        summary=plan.explanation["summary"],
    )
    by_id = {c.location_id: c for c in candidates}
    nearby = with_stock(nearest, lines=wanted, atp=found.at)
    owns = [
        by_id.get(n.location.pk)
        or Candidate(
            n.location.pk,
            n.location.code,
            n.location.kind,
            n.location.lat,
            n.location.lon,
            n.location.ships,
            n.location.pickup,
            n.location.priority,
            None,
            {sku_id: units for sku_id, units in n.available.items() if units > 0},
        )
        for n in nearby
    ]
    collect = RoutingRequest(lines=wanted, method=PICKUP, destination=None, now=now, unavailable=unavailable)
    ready_by = pickup_ready_by(collect, candidates, owns, policy)
    calendar = store_calendar()
    stores = [
        PickupStore(
            n.location.code,
            n.location.name,
            n.distance_km,
            n.covers(wanted),
            _open_by(n.location.pk, ready_by[n.location.pk], calendar),
            opens_at(location_id=n.location.pk, at=now, cal=calendar),
        )
        for n in nearby
    ]
    coming = incoming(sku_ids=wanted, channel=channel)
    return Availability(
        lines=[
            LineAvailability(
                code,
                quantity,
                found.network[skus[code].pk],
                [Incoming(on, units) for on, units in coming[skus[code].pk]],
            )
            for code, quantity in lines
        ],
        delivery=delivery,
        pickup_stores=stores,
    )


def _open_by(location_id: int, ready: datetime | None, calendar: Calendar) -> datetime | None:
    """A ready time moved out of the store's closed hours (as placing the order would)."""
    if ready is None:
        return None
    return next_opening(location_id=location_id, at=ready, cal=calendar) or ready
