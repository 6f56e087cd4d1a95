"""Available to promise: the one rule, in its two renderings, and the reads built on it.

ATP(sku, location, channel) = max(0, on hand − reserved + expired holds − safety − buffer),
zero where the channel may not sell from the location or the location is inactive.
Expired checkout holds still marked active count as free before the beat job releases
them; safety stock is the SKU's own SafetyStock row for the location, else the
location's ``safety_stock``; the buffer is the channel's. Network ATP sums it over the
channel's locations and is capped by what is left of the channel's allocation for the
SKU, if any.

One rule, two renderings, both in this module: ORM expressions (``kept_back``,
``expired_holds``, ``available_stock``) for ordinary reads, and SQL fragments
(``kept_back_sql``, ``expired_holds_sql``, ``sells_here_sql``, ``free_sql``,
``available_stock_sql``) from which ``inventory.sql`` builds the hot statements — the
ranked candidate read, the reservation's row read and the ATP read — where compiling the
ORM form costs more than running it (docs/performance.md). A change to the rule is made
here, in both. A reservation reads ``kept back`` and ``expired holds`` of its rows first
and guards its UPDATE with on hand − reserved ≥ units − expired holds released + kept
back, which is the same inequality. The property test ``tests/inventory/test_atp_one_rule.py``
holds the renderings, the written rule and the reservation equal over random data.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import Channel, ChannelCap, Location, Reservation, SafetyStock, StockLevel

_SELLS_FROM = Channel.sells_from.through


def channel_location_ids(*, channel: Channel) -> set[int] | None:
    """Locations the channel may sell from, or None when it may sell from all of them."""
    rows = _SELLS_FROM.objects.filter(channel_id=channel.pk).values_list("location_id", flat=True)
    return set(rows) or None


def channels_location_ids(*, channel_ids: Iterable[int]) -> dict[int, set[int] | None]:
    """``channel_location_ids`` of many channels by id, in one read."""
    ids = set(channel_ids)
    listed: dict[int, set[int]] = {}
    for channel_id, location_id in _SELLS_FROM.objects.filter(channel_id__in=ids).values_list(
        "channel_id", "location_id"
    ):
        listed.setdefault(channel_id, set()).add(location_id)
    return {channel_id: listed.get(channel_id) for channel_id in ids}


def channel_sells_here(channel: Channel | None) -> Q:
    """Stock rows at a location the channel may sell from (all of them when its list is empty)."""
    if channel is None:
        return Q()
    listed = _SELLS_FROM.objects.filter(channel_id=channel.pk)
    return Q(Exists(listed.filter(location_id=OuterRef("location_id")))) | ~Q(Exists(listed))


def _sellable(channel: Channel | None) -> Q:
    """Stock rows at an active location the channel may sell from."""
    return Q(location__active=True) & channel_sells_here(channel)


def kept_back(channel: Channel | None) -> CombinedExpression:
    """Units of a stock row no sale may take: its safety stock (the SKU's own, else the location's)
    plus the channel's buffer."""
    own = SafetyStock.objects.filter(sku_id=OuterRef("sku_id"), location_id=OuterRef("location_id"))
    safety = Coalesce(Subquery(own.values("quantity")), F("location__safety_stock"), output_field=IntegerField())
    return safety + Value(channel.buffer if channel is not None else 0)


def expired_holds(now: datetime) -> Case:
    """Units of a stock row's checkout holds past their time-to-live but still marked active: free to sell.

    Which rows have one comes from the partial live-hold index once for the whole read;
    only those rows sum their holds.
    """
    expired = Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lt=now)
    total = expired.filter(stock_level_id=OuterRef("pk")).values("stock_level_id").annotate(total=Sum("quantity"))
    return Case(
        When(
            pk__in=expired.values("stock_level_id"), then=Subquery(total.values("total"), output_field=IntegerField())
        ),
        default=Value(0),
    )


def available_stock(*, channel: Channel | None, now: datetime | None = None) -> QuerySet[StockLevel]:
    """The rule: the stock rows the channel may sell from, each with ``free`` (on hand − reserved +
    expired holds − what is kept back; may be negative) and ``atp`` (``free``, never below zero)."""
    free = F("on_hand") - F("reserved") + expired_holds(now or timezone.now()) - kept_back(channel)
    return StockLevel.objects.filter(_sellable(channel)).alias(free=free).annotate(atp=Greatest(F("free"), Value(0)))


# --- the rule as SQL, for the hot statements of inventory.sql ----------------------------
# Fragments over a stock row (``s``, or the name given as ``stock``) joined to its location
# ``l`` (``STOCK_FROM_SQL``), each with its parameters; table and column names come from
# the models' ``_meta``.

Fragment = tuple[str, list]


def _table(model) -> str:
    return model._meta.db_table


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


STOCK_FROM_SQL = (
    f"FROM {_table(StockLevel)} s JOIN {_table(Location)} l"
    f" ON l.{_col(Location, 'id')} = s.{_col(StockLevel, 'location')}"
)


def kept_back_sql(channel: Channel | None, stock: str = "s") -> Fragment:
    """``kept_back`` as SQL: the SKU's own safety stock, else the location's, plus the channel's buffer."""
    sku, location = f"{stock}.{_col(StockLevel, 'sku')}", f"{stock}.{_col(StockLevel, 'location')}"
    own = (
        f"SELECT o.{_col(SafetyStock, 'quantity')} FROM {_table(SafetyStock)} o"
        f" WHERE o.{_col(SafetyStock, 'sku')} = {sku} AND o.{_col(SafetyStock, 'location')} = {location}"
    )
    return f"(COALESCE(({own}), l.{_col(Location, 'safety_stock')}) + %s)", [channel.buffer if channel else 0]


def expired_holds_sql(now: datetime, stock: str = "s") -> Fragment:
    """``expired_holds`` as SQL: units of the row's active holds past their time-to-live; which rows
    have one comes from the live-hold index once, and only those rows sum theirs."""
    table, level = _table(Reservation), _col(Reservation, "stock_level")
    expired = f"r.{_col(Reservation, 'status')} = %s AND r.{_col(Reservation, 'expires_at')} < %s"
    params = [Reservation.Status.ACTIVE, connection.ops.adapt_datetimefield_value(now)]
    sql = (
        f"CASE WHEN {stock}.{_col(StockLevel, 'id')} IN (SELECT r.{level} FROM {table} r WHERE {expired})"
        f" THEN (SELECT SUM(r.{_col(Reservation, 'quantity')}) FROM {table} r"
        f" WHERE r.{level} = {stock}.{_col(StockLevel, 'id')} AND {expired}) ELSE 0 END"
    )
    return sql, params * 2


def sells_here_sql(channel: Channel | None, stock: str = "s") -> Fragment:
    """``channel_sells_here`` as SQL: the row's location is on the channel's list, or the list is empty."""
    if channel is None:
        return "1 = 1", []
    # EXISTS, as the ORM form writes it: the planner probes the (channel, location) index
    # per row instead of hashing the channel's whole list first.
    listed = f"SELECT 1 FROM {_table(_SELLS_FROM)} x WHERE x.{_col(_SELLS_FROM, 'channel')} = %s"
    here = f"{listed} AND x.{_col(_SELLS_FROM, 'location')} = {stock}.{_col(StockLevel, 'location')}"
    return f"(EXISTS ({here}) OR NOT EXISTS ({listed}))", [channel.pk, channel.pk]


def free_sql(channel: Channel | None, now: datetime, stock: str = "s") -> Fragment:
    """``free`` as SQL: on hand − reserved + expired holds − what is kept back (may be negative)."""
    (expired, expired_params), (kept, kept_params) = expired_holds_sql(now, stock), kept_back_sql(channel, stock)
    on_hand, reserved = _col(StockLevel, "on_hand"), _col(StockLevel, "reserved")
    return f"{stock}.{on_hand} - {stock}.{reserved} + {expired} - {kept}", [*expired_params, *kept_params]


def atp_sql(free: str) -> str:
    """``atp`` as SQL: the ``free`` column given, never below zero."""
    return f"CASE WHEN {free} > 0 THEN {free} ELSE 0 END"


def available_stock_sql(channel: Channel | None, now: datetime, columns: str = "") -> Fragment:
    """``available_stock`` as SQL: the rows the channel may sell from as ``sku_id``, ``location_id``
    and ``free``, plus ``columns`` (over ``s`` and ``l``); a caller appends ``AND`` conditions."""
    (free, free_params), (sells, sells_params) = free_sql(channel, now), sells_here_sql(channel)
    sql = (
        f"SELECT s.{_col(StockLevel, 'sku')} AS sku_id, s.{_col(StockLevel, 'location')} AS location_id,"
        f" {free} AS free{columns} {STOCK_FROM_SQL} WHERE l.{_col(Location, 'active')} AND {sells}"
    )
    return sql, [*free_params, *sells_params]


def within_cap(total: int, cap_left: int | None) -> int:
    """A SKU's network ATP as the channel may sell it: never more than what is left of its cap."""
    return total if cap_left is None else min(total, max(0, cap_left))


def network_totals(*, sku_ids: Iterable[int], channel: Channel, now: datetime | None = None) -> QuerySet:
    """Per SKU with ATP rows: ``sku_id``, its ``total`` over the channel's locations, ``cap_left`` (None: uncapped)."""
    cap = ChannelCap.objects.filter(channel_id=channel.pk, sku_id=OuterRef("sku_id"))
    return (
        available_stock(channel=channel, now=now)
        .filter(sku_id__in=list(sku_ids))
        .values("sku_id")
        .annotate(total=Sum("atp"), cap_left=Subquery(cap.values(left=F("quantity") - F("used"))[:1]))
        .values_list("sku_id", "total", "cap_left")
        .order_by()
    )


def network_atp(*, sku_ids: Iterable[int], channel: Channel) -> dict[int, int]:
    """ATP of each SKU summed over every location the channel may sell from, within its cap."""
    sku_ids = list(set(sku_ids))
    totals = dict.fromkeys(sku_ids, 0)
    for sku_id, total, cap_left in network_totals(sku_ids=sku_ids, channel=channel):
        totals[sku_id] = within_cap(int(total), cap_left)  # int(): PostgreSQL sums bigints as numeric
    return totals
