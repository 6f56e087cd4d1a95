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
from typing import NamedTuple

from django.db import connection
from django.db.models import Prefetch, Q, Sum
from django.db.models.functions import Upper
from django.utils import timezone
from geopy.distance import EARTH_RADIUS

from .ledger import ledger_totals
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
    Transfer,
    TransferLine,
)
from .sql import in_list

KM_PER_DEGREE_LAT = 110.574


# --- catalogue -------------------------------------------------------------------------


_SKU_COLUMNS = ["id", "code", "name", "category", "final_sale", "active"]


def _skus_by_code(codes: list[str]) -> dict[str, Sku]:
    """SKUs by their own code. Hand-written because every order line asks: the queryset
    cost several times the indexed read. ``attributes`` stays deferred on the instances."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(_SKU_COLUMNS)} FROM {Sku._meta.db_table} WHERE code IN ({in_list(codes)})", codes
        )
        rows = cursor.fetchall()
    return {  # SQLite hands booleans back as 0 and 1
        code: Sku.from_db(connection.alias, _SKU_COLUMNS, [pk, code, name, category, bool(final), bool(active)])
        for pk, code, name, category, final, active in rows
    }


def skus_resolve(*, codes: Iterable[str], channel: Channel | None = None) -> dict[str, Sku]:
    """Map each code to its SKU, trying the SKU code, then a barcode, then the channel's alias,
    then the SKU code in any case (people type "shirt-m" for SHIRT-M).

    Codes that match nothing are absent from the result. Without a channel an alias
    resolves only when exactly one channel uses it.
    """
    wanted = {c.strip() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    found = _skus_by_code(list(wanted))
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
        rest -= found.keys()
    if rest:
        found.update(_skus_by_code_any_case(rest))
    return found


def _skus_by_code_any_case(codes: set[str]) -> dict[str, Sku]:
    """SKUs whose code is one of ``codes`` but for case ("shirt-m" is SHIRT-M), on the upper-case index;
    a code two SKUs share but for case is left out as ambiguous."""
    by_upper: dict[str, dict[int, Sku]] = defaultdict(dict)
    for sku in Sku.objects.alias(code_upper=Upper("code")).filter(code_upper__in={c.upper() for c in codes}):
        by_upper[sku.code.upper()][sku.pk] = sku
    return {c: next(iter(s.values())) for c in codes if len(s := by_upper.get(c.upper(), {})) == 1}


def sku_resolve(*, code: str, channel: Channel | None = None) -> Sku | None:
    """Return the SKU a scanned or typed code means (SKU code, GTIN/EAN or channel alias)."""
    return skus_resolve(codes=[code], channel=channel).get(code.strip())


# --- channel policy --------------------------------------------------------------------


def channel_location_ids(*, channel: Channel) -> set[int] | None:
    """Locations the channel may sell from, or None when it may sell from all of them.

    Read once per Channel instance: an order's routing and reservation share the
    instance, and a request or task loads a fresh one. Hand-written: every API request
    that reserves asks, and the related manager's query cost ten times the read.
    """
    if not hasattr(channel, "_location_ids"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT location_id FROM {_SELLS_FROM} WHERE channel_id = %s", [channel.pk])
            channel._location_ids = {location_id for (location_id,) in cursor.fetchall()} or None
    return channel._location_ids


# --- ATP -------------------------------------------------------------------------------


# Stock rows with the safety stock that applies to each: the SKU's own, else the location's.
_STOCK_WITH_SAFETY = f"""
    FROM {StockLevel._meta.db_table} s
    JOIN {Location._meta.db_table} l ON l.id = s.location_id
    LEFT JOIN {SafetyStock._meta.db_table} o ON o.sku_id = s.sku_id AND o.location_id = s.location_id"""
_SAFETY = "COALESCE(o.quantity, l.safety_stock)"
_SELLS_FROM = Channel.sells_from.through._meta.db_table
# ATP before the channel's buffer, of the stock rows of some SKUs at active locations;
# {columns} may name the location's (l) too.
_ATP_SQL = f"""
    SELECT s.sku_id, s.location_id, s.on_hand - s.reserved + COALESCE(e.total, 0) - {_SAFETY} AS atp{{columns}}
    {_STOCK_WITH_SAFETY}
    LEFT JOIN (
        SELECT stock_level_id, SUM(quantity) AS total FROM {Reservation._meta.db_table}
        WHERE status = %s AND expires_at < %s GROUP BY stock_level_id
    ) e ON e.stock_level_id = s.id
    WHERE l.active AND s.sku_id IN ({{skus}})"""
# The same safety rule as ``_STOCK_WITH_SAFETY``, as scalar subqueries: PostgreSQL plans
# them in half the time of the joins, and every reservation runs them. Whether an expired
# hold sits on the row comes from the partial live-hold index once, not per row from every
# active reservation of the row. Both are fragments over a stock row ``s``: a reservation
# of one line puts them in its UPDATE instead of reading them first.
_GUARD_SAFETY_SQL = f"""COALESCE(
        (SELECT o.quantity FROM {SafetyStock._meta.db_table} o
         WHERE o.sku_id = s.sku_id AND o.location_id = s.location_id),
        (SELECT l.safety_stock FROM {Location._meta.db_table} l WHERE l.id = s.location_id)
    )"""
_GUARD_EXPIRED_HOLD_SQL = (
    f"s.id IN (SELECT r.stock_level_id FROM {Reservation._meta.db_table} r WHERE r.status = %s AND r.expires_at < %s)"
)
_GUARD_SQL = f"""
    SELECT s.id, s.sku_id, s.location_id, {_GUARD_SAFETY_SQL}, {_GUARD_EXPIRED_HOLD_SQL}
    FROM {StockLevel._meta.db_table} s
    WHERE s.sku_id IN ({{skus}}) AND s.location_id IN ({{locations}})"""


def _atp_statement(
    *,
    sku_ids: list[int],
    location_ids: Iterable[int] | None,
    channel: Channel | None,
    now: datetime | None,
    columns: str = "",
) -> tuple[str, list] | None:
    """The ATP statement and its parameters for ``stock_availability``'s arguments, or None when no row can match."""
    allowed = channel_location_ids(channel=channel) if channel is not None else None
    if location_ids is not None:
        location_ids = set(location_ids)
        allowed = location_ids if allowed is None else allowed & location_ids
    if not sku_ids or (allowed is not None and not allowed):
        return None
    expired_before = connection.ops.adapt_datetimefield_value(now or timezone.now())
    sql = _ATP_SQL.format(columns=columns, skus=in_list(sku_ids))
    params = [Reservation.Status.ACTIVE, expired_before, *sku_ids]
    if location_ids is None and allowed is not None:
        # The channel's whole list: a subquery plans far faster than a thousand parameters.
        sql += f" AND s.location_id IN (SELECT location_id FROM {_SELLS_FROM} WHERE channel_id = %s)"
        params.append(channel.pk)
    elif allowed is not None:
        sql += f" AND s.location_id IN ({in_list(list(allowed))})"
        params += list(allowed)
    return sql, params


def stock_availability(
    *,
    sku_ids: Iterable[int],
    location_ids: Iterable[int] | None = None,
    channel: Channel | None = None,
    now: datetime | None = None,
) -> dict[tuple[int, int], int]:
    """ATP of each (sku id, location id) that has a stock row at an active location the channel may use.

    One hand-written statement (two with a channel's location list): this is the hottest
    read of checkout, routing and reservation, and compiling the equivalent queryset
    cost several times what the database spends on it. Expired holds count as free and a
    SKU's own safety stock overrides the location's.
    """
    statement = _atp_statement(sku_ids=list(set(sku_ids)), location_ids=location_ids, channel=channel, now=now)
    if statement is None:
        return {}
    buffer = channel.buffer if channel is not None else 0
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        return {(sku_id, location_id): max(0, atp - buffer) for sku_id, location_id, atp in cursor.fetchall()}


class StockGuard(NamedTuple):
    """What a reservation needs to know of one stock row before its guarded UPDATE."""

    level_id: int
    safety: int
    has_expired_hold: bool


def stock_guards(*, pairs: Iterable[tuple[int, int]], now: datetime) -> dict[tuple[int, int], StockGuard]:
    """Each existing (sku id, location id) row's id, safety stock and whether an expired hold sits on it.

    One hand-written statement, like ``stock_availability``: it runs inside every reservation.
    """
    pairs = set(pairs)
    if not pairs:
        return {}
    sku_ids, location_ids = list({s for s, _ in pairs}), list({loc for _, loc in pairs})
    sql = _GUARD_SQL.format(skus=in_list(sku_ids), locations=in_list(location_ids))
    params = [Reservation.Status.ACTIVE, connection.ops.adapt_datetimefield_value(now), *sku_ids, *location_ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {
        (sku_id, location_id): StockGuard(level_id, safety, bool(expired))
        for level_id, sku_id, location_id, safety, expired in rows
        if (sku_id, location_id) in pairs
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


def _within_cap(total: int, cap_left: int | None) -> int:
    """A SKU's network ATP as the channel may sell it: never more than what is left of its cap."""
    return total if cap_left is None else min(total, max(0, cap_left))


def network_atp(*, sku_ids: Iterable[int], channel: Channel) -> dict[int, int]:
    """ATP of each SKU summed over every location the channel may sell from, within its cap."""
    sku_ids = list(set(sku_ids))
    totals = dict.fromkeys(sku_ids, 0)
    for (sku_id, _), atp in stock_availability(sku_ids=sku_ids, channel=channel).items():
        totals[sku_id] += atp
    for sku_id, remaining in channel_cap_remaining(channel=channel, sku_ids=sku_ids).items():
        totals[sku_id] = _within_cap(totals[sku_id], remaining)
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


def _haversine(lat: str, lon: str) -> str:
    """SQL of the haversine term between a point and the columns ``lat``, ``lon``; ``_point`` gives its parameters.

    The term grows with distance, so it ranks without a square root or arcsine; the sine
    of half the longitude gap handles the antimeridian.
    """
    return (
        f"POWER(SIN((RADIANS({lat}) - %s) / 2), 2)"
        f" + %s * COS(RADIANS({lat})) * POWER(SIN((RADIANS({lon}) - %s) / 2), 2)"
    )


def _point(lat: float, lon: float) -> list[float]:
    """The parameters of ``_haversine`` for a point."""
    lat_r = math.radians(lat)
    return [lat_r, math.cos(lat_r), math.radians(lon)]


_LOCATIONS = Location._meta.db_table
_LOCATION_FIELDS = [f.attname for f in Location._meta.concrete_fields]
_LOCATION_FLAGS = [i for i, f in enumerate(Location._meta.concrete_fields) if f.get_internal_type() == "BooleanField"]
_NEAREST_SQL = (
    f"SELECT {', '.join(f'{_LOCATIONS}.{f.column}' for f in Location._meta.concrete_fields)},"
    f" {_haversine(f'{_LOCATIONS}.lat', f'{_LOCATIONS}.lon')} AS haversine"
    f" FROM {_LOCATIONS} WHERE {_LOCATIONS}.active AND {{where}} ORDER BY haversine, {_LOCATIONS}.id LIMIT %s"
)


def _location_where(condition: Q) -> tuple[str, list]:
    """The SQL and parameters of a condition on locations, as the ORM writes it."""
    query = Location.objects.filter(condition).query
    sql, params = query.get_compiler(connection=connection).compile(query.where)
    return sql, list(params)


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
    the haversine term. The statement is written by hand because building it from expression objects cost
    more than running it. The distance is the great circle, within 0.6% of the geodesic:
    plenty to order stores on a map; the routing engine measures the few locations it
    chooses between geodesically itself.
    """
    condition = filters or Q()
    if radius_km is not None:
        condition &= _bounding_box(lat, lon, radius_km)
    where, where_params = _location_where(condition) if condition else ("1 = 1", [])
    with connection.cursor() as cursor:
        cursor.execute(_NEAREST_SQL.format(where=where), [*_point(lat, lon), *where_params, limit])
        rows = cursor.fetchall()
    nearby = []
    for row in rows:
        values = list(row[:-1])
        for i in _LOCATION_FLAGS:  # SQLite hands booleans back as 0 and 1
            values[i] = bool(values[i])
        distance = 2 * EARTH_RADIUS * math.asin(math.sqrt(min(1.0, max(0.0, row[-1]))))
        nearby.append(NearbyLocation(Location.from_db(connection.alias, _LOCATION_FIELDS, values), distance))
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


# The channel's locations, every one when it names none, without reading its list first.
_CHANNEL_LOCATIONS = f"""
    AND (s.location_id IN (SELECT location_id FROM {_SELLS_FROM} WHERE channel_id = %s)
        OR NOT EXISTS (SELECT 1 FROM {_SELLS_FROM} WHERE channel_id = %s))"""
# Positive ATP after the buffer; the locations ranked by the lines they fill in full, then
# the SKUs they hold, then distance, and the best kept (with whole_only, only those filling
# every line when any does); the rows of the kept locations (flagged) and of those asked
# for, then per SKU its total and what is left of the channel's cap on it.
_STOCK_NEAR_SQL = f"""
    WITH a AS (SELECT sku_id, location_id, atp - %s AS atp, lat, lon FROM ({{atp}}) atp_rows WHERE atp > %s),
    w (sku_id, quantity) AS (VALUES {{wanted}}),
    ranked AS (
        SELECT a.location_id, SUM(CASE WHEN a.atp >= w.quantity THEN 1 ELSE 0 END) AS filled
        FROM a JOIN w ON w.sku_id = a.sku_id GROUP BY a.location_id, a.lat, a.lon
        ORDER BY filled DESC, COUNT(*) DESC, {_haversine("a.lat", "a.lon")}, a.location_id LIMIT %s
    )
    SELECT a.sku_id, a.location_id, a.atp, best.location_id IS NOT NULL, NULL FROM a LEFT JOIN (
        SELECT location_id FROM ranked WHERE filled >= %s OR (SELECT MAX(filled) FROM ranked) < %s
    ) best ON best.location_id = a.location_id
    WHERE best.location_id IS NOT NULL{{at}}
    UNION ALL
    SELECT a.sku_id, NULL, SUM(a.atp), NULL, MIN(c.quantity - c.used) FROM a
    LEFT JOIN {ChannelCap._meta.db_table} c ON c.channel_id = %s AND c.sku_id = a.sku_id
    GROUP BY a.sku_id"""


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
    One statement, the channel's locations included: over a thousand stores the database
    ranks and sums the stock rows far faster than shipping them all to Python, and
    returns only the rows asked for.
    """
    sku_ids, at = list(set(sku_ids)), set(at)
    found = StockNear({}, dict.fromkeys(sku_ids, 0), {})
    if not sku_ids:
        return found
    atp_sql, atp_params = _atp_statement(
        sku_ids=sku_ids, location_ids=None, channel=None, now=now, columns=", l.lat, l.lon"
    )
    wanted = [(sku_id, (quantities or {}).get(sku_id, 1)) for sku_id in sku_ids]
    at_sql = f" OR a.location_id IN ({in_list(at)})" if at else ""
    keep = len(wanted) if whole_only else 0  # locations filling fewer lines are kept when none fills them all
    with connection.cursor() as cursor:
        cursor.execute(
            _STOCK_NEAR_SQL.format(
                atp=atp_sql + _CHANNEL_LOCATIONS, wanted=", ".join(["(%s, %s)"] * len(wanted)), at=at_sql
            ),
            [
                channel.buffer,
                *atp_params,
                channel.pk,
                channel.pk,
                channel.buffer,
                *(value for pair in wanted for value in pair),
                *_point(*near),
                limit,
                keep,
                keep,
                *at,
                channel.pk,
            ],
        )
        for sku_id, location_id, atp, kept, cap_left in cursor.fetchall():
            if location_id is None:  # int(): PostgreSQL sums bigints as numeric
                found.network[sku_id] = _within_cap(int(atp), cap_left)
                continue
            if kept:
                found.available[(sku_id, location_id)] = atp
            if location_id in at:
                found.at[(sku_id, location_id)] = atp
    return found


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
    """Every stock counter that disagrees with the ledger or with the live reservations.

    The ledger's sums come from the newest checkpoint plus the movements after it
    (``inventory.ledger``), so the check reads recent movements, not all history.
    """
    ledger = ledger_totals()
    live = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values_list("stock_level_id")
        .annotate(total=Sum("quantity"))
    )
    found = []
    levels = StockLevel.objects.values_list("id", "sku__code", "location__code", "on_hand", "reserved")
    for level_id, sku, location, on_hand, reserved in levels.iterator(chunk_size=5000):
        ledger_on_hand, ledger_reserved = ledger.get(level_id, (0, 0))
        checks = [
            ("on_hand", on_hand, ledger_on_hand, "ledger"),
            ("reserved", reserved, ledger_reserved, "ledger"),
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


# --- store stock look-up ---------------------------------------------------------------


def skus_search(*, query: str, limit: int = 20) -> list[Sku]:
    """Active SKUs whose code or name contains the words typed, for when nothing was scanned."""
    words = query.split()
    if not words:
        return []
    match = Q()
    for word in words:
        match &= Q(code__icontains=word) | Q(name__icontains=word)
    return list(Sku.objects.filter(match, active=True).order_by("code")[:limit])


@dataclass(frozen=True)
class StockPicture:
    """One SKU as a store sees it: its own figures, the nearest stores holding it, the warehouses."""

    sku: Sku
    here: LocationStock
    nearby_stores: list[LocationAvailability]
    warehouses: list[LocationAvailability]
    stores_searched: int


def stock_picture(
    *, sku: Sku, location: Location, channel: Channel | None = None, stores: int = 5, search: int = 20
) -> StockPicture:
    """What ``location`` holds of ``sku`` and where else it is: among the ``search`` nearest other
    stores, the ``stores`` closest with something to promise; every active warehouse, nearest first."""
    here = stock_by_location(sku=sku, channel=channel, location=location)
    lines = {sku.pk: 1}
    others = nearest_locations_with_stock(
        lines=lines, lat=location.lat, lon=location.lon, channel=channel, limit=search,
        filters=Q(kind=Location.Kind.STORE) & ~Q(pk=location.pk),
    )  # fmt: skip
    warehouses = nearest_locations_with_stock(
        lines=lines, lat=location.lat, lon=location.lon, channel=channel, filters=Q(kind=Location.Kind.WAREHOUSE)
    )
    return StockPicture(
        sku=sku,
        here=here[0] if here else LocationStock(location.code, 0, 0, 0),
        nearby_stores=[s for s in others if s.covers(lines)][:stores],
        warehouses=warehouses,
        stores_searched=search,
    )


def transfers_inbound(*, location: Location) -> list[Transfer]:
    """Transfers still on their way to ``location``, soonest first, with their lines and source."""
    rows = Transfer.objects.filter(destination=location, status=Transfer.Status.IN_TRANSIT)
    lines = Prefetch("lines", queryset=TransferLine.objects.select_related("sku").order_by("sku__code"))
    return list(rows.select_related("source").prefetch_related(lines).order_by("expected_at", "pk"))


def store_channel() -> Channel | None:
    """The channel of sales made in stores (endless aisle, returns desk), if one is configured."""
    return Channel.objects.filter(kind=Channel.Kind.STORE, active=True).order_by("pk").first()
