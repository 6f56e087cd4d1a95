"""Where the stock is: locations ranked by distance, and a basket's ATP at the best-placed ones.

Distances are great circles (haversine), within 0.6% of the geodesic: plenty to order
stores on a map; the routing engine measures the few locations it chooses between
geodesically itself.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from django.db.models import FloatField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from geopy.distance import EARTH_RADIUS

from .atp import within_cap
from .availability import stock_availability
from .models import Channel, Location
from .sql import haversine_point, haversine_sql, ranked_stock

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
    # The ranking term as SQL (``inventory.sql``, shared with the candidate read): built from
    # expression objects it cost more to compile than to run.
    table = Location._meta.db_table
    term = RawSQL(haversine_sql(f"{table}.lat", f"{table}.lon"), haversine_point(lat, lon), output_field=FloatField())
    rows = Location.objects.filter(condition, active=True).annotate(haversine=term)
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
    One hand-written statement (``inventory.sql.ranked_stock``, the rule rendered from
    ``inventory.atp``): over a thousand stores the database ranks and sums the stock rows
    and returns only those asked for; compiling the ORM's form cost more than running it
    (docs/performance.md, "Hand-written SQL that remains").
    """
    sku_ids, at = list(set(sku_ids)), sorted(set(at))
    found = StockNear({}, dict.fromkeys(sku_ids, 0), {})
    if not sku_ids:
        return found
    wanted = [(sku_id, (quantities or {}).get(sku_id, 1)) for sku_id in sku_ids]
    keep = len(wanted) if whole_only else 0  # locations filling fewer lines are kept when none fills them all
    rows = ranked_stock(
        wanted=wanted, channel=channel, near=near, limit=limit, keep=keep, at=at, now=now or timezone.now()
    )
    at = set(at)
    for sku_id, location_id, atp, kept, cap_left in rows:
        atp = int(atp)  # PostgreSQL hands some of these sums back as numeric
        if location_id is None:
            found.network[sku_id] = within_cap(atp, cap_left)
            continue
        if kept:
            found.available[(sku_id, location_id)] = atp
        if location_id in at:
            found.at[(sku_id, location_id)] = atp
    return found
