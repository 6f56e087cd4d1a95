"""Reads of the catalogue and of available-to-promise stock.

ATP(sku, location, channel) = max(0, on_hand − reserved + expired holds − safety − buffer),
zero where the channel may not sell from the location; network ATP sums it over the
channel's locations and is capped by the channel's allocation for that SKU, if any.
Expired checkout holds count as free before the beat job releases them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Cos, Power, Radians, Sin
from django.utils import timezone
from geopy.distance import great_circle

from .models import (
    Barcode,
    Channel,
    ChannelCap,
    Location,
    Reservation,
    SafetyStock,
    Sku,
    SkuAlias,
    StockLevel,
    StockMovement,
    TransferLine,
)

KM_PER_DEGREE_LAT = 110.574


# --- catalogue -------------------------------------------------------------------------


def skus_resolve(*, codes: Iterable[str], channel: Channel | None = None) -> dict[str, Sku]:
    """Map each code to its SKU, trying the SKU code, then a barcode, then the channel's alias.

    Codes that match nothing are absent from the result. Without a channel an alias
    resolves only when exactly one channel uses it.
    """
    wanted = {c.strip() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    found: dict[str, Sku] = {sku.code: sku for sku in Sku.objects.filter(code__in=wanted)}
    rest = wanted - found.keys()
    if rest:
        found.update({b.code: b.sku for b in Barcode.objects.filter(code__in=rest).select_related("sku")})
        rest -= found.keys()
    if rest:
        aliases = SkuAlias.objects.filter(code__in=rest).select_related("sku")
        if channel is not None:
            aliases = aliases.filter(channel=channel)
        by_code: dict[str, dict[int, Sku]] = defaultdict(dict)
        for alias in aliases:
            by_code[alias.code][alias.sku_id] = alias.sku
        found.update({c: next(iter(s.values())) for c, s in by_code.items() if len(s) == 1})
    return found


def sku_resolve(*, code: str, channel: Channel | None = None) -> Sku | None:
    """Return the SKU a scanned or typed code means (SKU code, GTIN/EAN or channel alias)."""
    return skus_resolve(codes=[code], channel=channel).get(code.strip())


# --- channel policy --------------------------------------------------------------------


def channel_location_ids(*, channel: Channel) -> set[int] | None:
    """Locations the channel may sell from, or None when it may sell from all of them.

    Read once per Channel instance: an order's routing and reservation share the
    instance, and a request or task loads a fresh one.
    """
    if not hasattr(channel, "_location_ids"):
        channel._location_ids = set(channel.sells_from.values_list("id", flat=True)) or None
    return channel._location_ids


# --- ATP -------------------------------------------------------------------------------


def stock_availability(
    *,
    sku_ids: Iterable[int],
    location_ids: Iterable[int] | None = None,
    channel: Channel | None = None,
    now: datetime | None = None,
) -> dict[tuple[int, int], int]:
    """ATP of each (sku id, location id) that has a stock row at an active location the channel may use.

    Expired holds and SKU safety overrides come from correlated subqueries, so the whole
    basket costs one query (two with a channel's location list) however many rows it has.
    """
    sku_ids = list(set(sku_ids))
    rows = StockLevel.objects.filter(sku_id__in=sku_ids, location__active=True)
    allowed = channel_location_ids(channel=channel) if channel is not None else None
    if location_ids is not None:
        location_ids = set(location_ids)
        allowed = location_ids if allowed is None else allowed & location_ids
    if allowed is not None:
        rows = rows.filter(location_id__in=allowed)
    expired = (
        Reservation.objects.filter(
            stock_level=OuterRef("pk"), status=Reservation.Status.ACTIVE, expires_at__lt=now or timezone.now()
        )
        .values("stock_level")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    override = SafetyStock.objects.filter(sku=OuterRef("sku"), location=OuterRef("location")).values("quantity")
    rows = rows.annotate(
        expired=Coalesce(Subquery(expired), 0),
        safety=Coalesce(Subquery(override), "location__safety_stock"),
    )
    buffer = channel.buffer if channel is not None else 0
    return {
        (sku_id, location_id): max(0, on_hand - reserved + expired - safety - buffer)
        for sku_id, location_id, on_hand, reserved, expired, safety in rows.values_list(
            "sku_id", "location_id", "on_hand", "reserved", "expired", "safety"
        )
    }


def stock_available(*, sku: Sku, location: Location, channel: Channel | None = None) -> int:
    """ATP of one SKU at one location for a channel."""
    return stock_availability(sku_ids=[sku.pk], location_ids=[location.pk], channel=channel).get(
        (sku.pk, location.pk), 0
    )


def channel_cap_remaining(*, channel: Channel, sku_ids: Iterable[int]) -> dict[int, int]:
    """What is left of each capped SKU's allocation for the channel (uncapped SKUs are absent)."""
    caps = ChannelCap.objects.filter(channel=channel, sku_id__in=list(sku_ids))
    rows = caps.values_list("sku_id", "quantity", "used")
    return {sku_id: max(0, quantity - used) for sku_id, quantity, used in rows}


def network_atp(*, sku_ids: Iterable[int], channel: Channel) -> dict[int, int]:
    """ATP of each SKU summed over every location the channel may sell from, within its cap."""
    sku_ids = list(set(sku_ids))
    totals = dict.fromkeys(sku_ids, 0)
    for (sku_id, _), atp in stock_availability(sku_ids=sku_ids, channel=channel).items():
        totals[sku_id] += atp
    for sku_id, remaining in channel_cap_remaining(channel=channel, sku_ids=sku_ids).items():
        totals[sku_id] = min(totals[sku_id], remaining)
    return totals


# --- geography -------------------------------------------------------------------------


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


def _haversine(lat: float, lon: float):
    """SQL for the haversine term of each location's great-circle distance to a point.

    It grows with distance, so the database can rank by it without the square root and
    arcsine; the sine of half the longitude gap also handles the antimeridian.
    """
    lat_r, lon_r = math.radians(lat), math.radians(lon)
    return Power(Sin((Radians(F("lat")) - lat_r) / 2), 2) + math.cos(lat_r) * Cos(Radians(F("lat"))) * Power(
        Sin((Radians(F("lon")) - lon_r) / 2), 2
    )


def nearest_locations(
    *,
    lat: float,
    lon: float,
    limit: int = 20,
    radius_km: float | None = None,
    filters: Q | None = None,
) -> list[NearbyLocation]:
    """The ``limit`` nearest active locations to a point, by great-circle distance.

    The database ranks every candidate (inside the radius's bounding box, when given) in
    one query, and the distance is geopy's great circle, within 0.6% of the geodesic:
    plenty to order stores on a map; the routing engine measures the few locations it
    chooses between geodesically itself.
    """
    rows = Location.objects.filter(active=True)
    if filters is not None:
        rows = rows.filter(filters)
    if radius_km is not None:
        rows = rows.filter(_bounding_box(lat, lon, radius_km))
    ranked = rows.annotate(haversine=_haversine(lat, lon)).order_by("haversine", "pk")[:limit]
    nearby = [NearbyLocation(loc, great_circle((lat, lon), (loc.lat, loc.lon)).km) for loc in ranked]
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
    return [
        LocationAvailability(
            n.location, round(n.distance_km, 2), {sku_id: atp.get((sku_id, n.location.pk), 0) for sku_id in lines}
        )
        for n in nearby
    ]


# --- future ATP ------------------------------------------------------------------------


def inbound_by_date(*, sku_ids: Iterable[int], location: Location) -> list[tuple[datetime, int, int]]:
    """Units in transit to a location as (expected at, sku id, quantity), soonest first."""
    rows = TransferLine.objects.filter(
        sku_id__in=list(sku_ids), transfer__destination=location, transfer__status="in_transit"
    ).order_by("transfer__expected_at", "pk")
    return list(rows.values_list("transfer__expected_at", "sku_id", "quantity"))


def future_atp(*, sku: Sku, location: Location, channel: Channel | None = None) -> list[tuple[datetime, int]]:
    """ATP now, then after each inbound arrival: a list of (from when, units promisable)."""
    now = timezone.now()
    atp = stock_available(sku=sku, location=location, channel=channel)
    timeline = [(now, atp)]
    for expected_at, _, quantity in inbound_by_date(sku_ids=[sku.pk], location=location):
        atp += quantity
        timeline.append((max(expected_at, now), atp))
    return timeline


def ready_at(*, lines: Mapping[int, int], location: Location, channel: Channel | None = None) -> datetime | None:
    """The earliest time every line can be promised at ``location``, counting inbound transfers."""
    now = timezone.now()
    atp = stock_availability(sku_ids=lines, location_ids=[location.pk], channel=channel)
    have = {sku_id: atp.get((sku_id, location.pk), 0) for sku_id in lines}
    missing = {s for s, q in lines.items() if have[s] < q}
    if not missing:
        return now
    for expected_at, sku_id, quantity in inbound_by_date(sku_ids=missing, location=location):
        have[sku_id] += quantity
        if all(have[s] >= lines[s] for s in missing):
            return max(expected_at, now)
    return None


# --- ledger check ----------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    sku: str
    location: str
    field: str
    counter: int
    expected: int
    source: str


def inventory_discrepancies() -> list[Discrepancy]:
    """Every stock counter that disagrees with the ledger or with the live reservations."""
    ledger = {
        row["stock_level_id"]: row
        for row in StockMovement.objects.values("stock_level_id").annotate(
            on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
        )
    }
    live = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values_list("stock_level_id")
        .annotate(total=Sum("quantity"))
    )
    found = []
    levels = StockLevel.objects.values_list("id", "sku__code", "location__code", "on_hand", "reserved")
    for level_id, sku, location, on_hand, reserved in levels.iterator(chunk_size=5000):
        sums = ledger.get(level_id, {"on_hand": 0, "reserved": 0})
        checks = [
            ("on_hand", on_hand, sums["on_hand"] or 0, "ledger"),
            ("reserved", reserved, sums["reserved"] or 0, "ledger"),
            ("reserved", reserved, live.get(level_id, 0), "reservations"),
        ]
        found += [Discrepancy(sku, location, f, have, want, src) for f, have, want, src in checks if have != want]
    return found


# --- stock by location -----------------------------------------------------------------


@dataclass(frozen=True)
class LocationStock:
    location: str
    on_hand: int
    reserved: int
    available: int


def stock_by_location(
    *, sku: Sku, channel: Channel | None = None, location: Location | None = None
) -> list[LocationStock]:
    """On-hand, reserved and the channel's ATP of one SKU at every active location holding a stock row."""
    levels = StockLevel.objects.filter(sku=sku, location__active=True).select_related("location")
    if location is not None:
        levels = levels.filter(location=location)
    levels = list(levels.order_by("location__code"))
    atp = stock_availability(sku_ids=[sku.pk], location_ids=[lv.location_id for lv in levels], channel=channel)
    return [
        LocationStock(lv.location.code, lv.on_hand, lv.reserved, atp.get((sku.pk, lv.location_id), 0)) for lv in levels
    ]
