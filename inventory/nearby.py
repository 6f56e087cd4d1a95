"""Where the stock is: locations ranked by distance, and a basket's ATP at the best-placed ones.

Distances are great circles (haversine), within 0.6% of the geodesic: plenty to order
stores on a map; the routing engine measures the few locations it chooses between
geodesically itself.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db.models import (
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cos, Power, Radians, Sin
from geopy.distance import EARTH_RADIUS

from .atp import available_stock, stock_availability, within_cap
from .models import Channel, ChannelCap, Location

KM_PER_DEGREE_LAT = 110.574


@dataclass(frozen=True)
class NearbyLocation:
    location: Location
    distance_km: float


def _bounding_box(lat: float, lon: float, radius_km: float) -> Q:
    dlat = radius_km / KM_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(lat)), 0.01)
    dlon = min(radius_km / (111.320 * cos_lat), 180.0)
    box = Q(lat__gte=lat - dlat, lat__lte=lat + dlat)
    if dlon < 180.0:
        west, east = lon - dlon, lon + dlon
        if west < -180:
            box &= Q(lon__gte=west + 360) | Q(lon__lte=east)
        elif east > 180:
            box &= Q(lon__gte=west) | Q(lon__lte=east - 360)
        else:
            box &= Q(lon__gte=west, lon__lte=east)
    return box


def _haversine(lat: str, lon: str, point: tuple[float, float]):
    """The haversine term between ``point`` and the fields ``lat``, ``lon``.

    The term grows with distance, so it ranks without a square root or arcsine; the sine
    of half the longitude gap handles the antimeridian.
    """
    lat_r, lon_r = math.radians(point[0]), math.radians(point[1])
    half = Value(2.0)
    return Power(Sin((Radians(lat) - Value(lat_r)) / half), 2) + Value(math.cos(lat_r)) * Cos(Radians(lat)) * Power(
        Sin((Radians(lon) - Value(lon_r)) / half), 2, output_field=FloatField()
    )


def haversine_term(lat: float, lon: float, point: tuple[float, float]) -> float:
    """``_haversine`` in Python, for rows already read."""
    lat_r, point_lat = math.radians(lat), math.radians(point[0])
    return (
        math.sin((lat_r - point_lat) / 2) ** 2
        + math.cos(point_lat) * math.cos(lat_r) * math.sin((math.radians(lon) - math.radians(point[1])) / 2) ** 2
    )


def _km(haversine: float) -> float:
    return 2 * EARTH_RADIUS * math.asin(math.sqrt(min(1.0, max(0.0, haversine))))


def nearest_locations(
    *,
    lat: float,
    lon: float,
    limit: int = 20,
    radius_km: float | None = None,
    filters: Q | None = None,
) -> list[NearbyLocation]:
    """The ``limit`` nearest active locations to a point, by great-circle distance.

    The database ranks every candidate (inside the radius's bounding box, when given) by
    the haversine term.
    """
    condition = filters or Q()
    if radius_km is not None:
        condition &= _bounding_box(lat, lon, radius_km)
    rows = Location.objects.filter(condition, active=True).annotate(haversine=_haversine("lat", "lon", (lat, lon)))
    nearby = [NearbyLocation(loc, _km(loc.haversine)) for loc in rows.order_by("haversine", "pk")[:limit]]
    if radius_km is not None:
        nearby = [n for n in nearby if n.distance_km <= radius_km]
    return nearby


@dataclass(frozen=True)
class LocationAvailability:
    location: Location
    distance_km: float
    available: dict[int, int] = field(default_factory=dict)

    def covers(self, lines: Mapping[int, int]) -> bool:
        return all(self.available.get(sku_id, 0) >= quantity for sku_id, quantity in lines.items())


def nearest_locations_with_stock(
    *,
    lines: Mapping[int, int],
    lat: float,
    lon: float,
    channel: Channel | None = None,
    limit: int = 20,
    radius_km: float | None = None,
    filters: Q | None = None,
) -> list[LocationAvailability]:
    """The nearest locations with their ATP for each SKU in ``lines`` (sku id → quantity)."""
    nearby = nearest_locations(lat=lat, lon=lon, limit=limit, radius_km=radius_km, filters=filters)
    atp = stock_availability(sku_ids=lines, location_ids=[n.location.pk for n in nearby], channel=channel)
    return with_stock(nearby, lines=lines, atp=atp)


def with_stock(
    nearby: Iterable[NearbyLocation], *, lines: Mapping[int, int], atp: Mapping[tuple[int, int], int]
) -> list[LocationAvailability]:
    """``nearby`` with the ATP of each SKU in ``lines`` from ``atp`` ((sku id, location id) → units; absent: none)."""
    return [
        LocationAvailability(
            n.location, round(n.distance_km, 2), {sku_id: atp.get((sku_id, n.location.pk), 0) for sku_id in lines}
        )
        for n in nearby
    ]


class StockNear(NamedTuple):
    """A basket's ATP at the best-placed locations, over the channel's whole network, and at locations asked for."""

    available: dict[tuple[int, int], int]  # (sku id, location id) -> ATP at the kept locations, positive only
    network: dict[int, int]  # sku id -> network ATP, as ``network_atp``
    at: dict[tuple[int, int], int]  # (sku id, location id) -> ATP at the ``at`` locations, positive only


def stock_near(
    *,
    sku_ids: Iterable[int],
    channel: Channel,
    near: tuple[float, float],
    limit: int,
    at: Iterable[int] = (),
    now: datetime | None = None,
    quantities: Mapping[int, int] | None = None,
    whole_only: bool = False,
) -> StockNear:
    """The ATP at the ``limit`` best-placed locations for the channel, each SKU's network ATP
    within the channel's caps, and the ATP at ``at``.

    Best placed: filling the most lines in full (``quantities``: sku id → units, one each by
    default), then holding the most of ``sku_ids``, then nearest to ``near``. With
    ``whole_only``, when some locations fill every line only they are kept: a single
    shipment beats any split, so routing needs no location that holds only part.
    One statement reads the channel's positive ATP rows of the SKUs (the rule's queryset)
    with each location's point and each SKU's cap; ranking and summing them here costs a
    fraction of what compiling the same ranking as one ORM statement did (see
    docs/performance.md, "Hand-written SQL that remains").
    """
    sku_ids, at = list(set(sku_ids)), set(at)
    found = StockNear({}, dict.fromkeys(sku_ids, 0), {})
    if not sku_ids:
        return found
    wanted = {sku_id: (quantities or {}).get(sku_id, 1) for sku_id in sku_ids}
    cap = ChannelCap.objects.filter(channel_id=channel.pk, sku_id=OuterRef("sku_id"))
    rows = (
        available_stock(channel=channel, now=now)
        .filter(sku_id__in=sku_ids, free__gt=0)
        .values_list(
            "sku_id", "location_id", "atp", "location__lat", "location__lon",
            Subquery(cap.values(left=F("quantity") - F("used"))[:1]),
        )
    )  # fmt: skip
    by_location: dict[int, dict[int, int]] = defaultdict(dict)
    points: dict[int, tuple[float, float]] = {}
    cap_left: dict[int, int] = {}
    for sku_id, location_id, atp, lat, lon, left in rows:
        by_location[location_id][sku_id] = atp
        points[location_id] = (lat, lon)
        found.network[sku_id] += atp
        if left is not None:
            cap_left[sku_id] = left
        if location_id in at:
            found.at[(sku_id, location_id)] = atp
    for sku_id, left in cap_left.items():
        found.network[sku_id] = within_cap(found.network[sku_id], left)

    def filled(location_id: int) -> int:
        return sum(atp >= wanted[s] for s, atp in by_location[location_id].items())

    def rank(location_id: int) -> tuple:
        stock = by_location[location_id]
        return (-filled(location_id), -len(stock), haversine_term(*points[location_id], near), location_id)

    best = sorted(by_location, key=rank)[:limit]
    if whole_only and best and filled(best[0]) == len(wanted):
        best = [loc for loc in best if filled(loc) == len(wanted)]
    for location_id in best:
        found.available.update({(sku_id, location_id): atp for sku_id, atp in by_location[location_id].items()})
    return found
