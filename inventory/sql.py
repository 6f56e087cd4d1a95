"""Hand-written SQL, kept only where a benchmark in docs/performance.md shows the ORM cannot do the job.

* The ranked candidate read (``ranked_stock``), the reservation's row read
  (``stock_guards``) and its guarded UPDATE (``reserved_move``), and the ATP read
  (``atp_read``): the hottest statements of order placement and checkout, where compiling
  the ORM's form cost several times what the database spends on them. They render the
  ATP rule through ``inventory.atp``'s SQL fragments and run unchanged on SQLite and
  PostgreSQL.
* The stock feed's COPY on PostgreSQL (``StockFeedCopy``).

Table and column names come from the models' ``_meta``; tests/inventory/test_sql_columns.py
fails when a model a statement writes gains a field it does not know.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils import timezone
from psycopg2.errors import UniqueViolation

from .atp import (
    STOCK_FROM_SQL,
    atp_sql,
    available_stock_sql,
    expired_holds_sql,
    free_sql,
    kept_back_sql,
    sells_here_sql,
)
from .models import Channel, ChannelCap, Location, StockLevel, StockMovement


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


def _placeholders(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def _fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- reserving: the row read and the guarded UPDATE ------------------------------------

_CAPS = ChannelCap._meta.db_table

_ID, _SKU, _LOCATION = (_col(StockLevel, n) for n in ("id", "sku", "location"))
_ON_HAND, _RESERVED = _col(StockLevel, "on_hand"), _col(StockLevel, "reserved")
# The one column it writes is ``reserved``; a test compiles it against the model.
RESERVED_MOVE_SQL = (
    f"UPDATE {StockLevel._meta.db_table} SET {_RESERVED} = {_RESERVED} + %s"
    f" WHERE {_ID} = %s AND {_ON_HAND} >= {_RESERVED} + %s + %s"
)


def reserved_move(*, level_id: int, delta: int, kept_back: int = 0) -> bool:
    """Move one stock row's ``reserved`` by ``delta`` if ``kept_back`` units stay unreserved after
    it, in one guarded UPDATE; say whether it moved.

    A reservation passes the row's ``kept_back`` (``inventory.atp``) and a ``delta`` less
    the expired holds it releases on the row, which makes the guard ATP ≥ units; giving
    units back passes nothing. One row a statement, in primary-key order, is what keeps
    the row locks in that order.
    """
    with connection.cursor() as cursor:
        cursor.execute(RESERVED_MOVE_SQL, [delta, level_id, delta, kept_back])
        return cursor.rowcount == 1


class StockGuard(NamedTuple):
    """What a reservation needs to know of one stock row before its guarded UPDATE."""

    level_id: int
    allowed: bool  # the channel may sell from its location
    active: bool  # its location is active
    kept_back: int
    has_expired_hold: bool
    capped: bool  # the channel has an allocation cap on its SKU


def stock_guards_sql(
    *, sku_ids: Sequence[int], location_ids: Sequence[int], channel: Channel | None, now: datetime
) -> tuple[str, list]:
    """The row read of ``stock_guards``: id, SKU, location, may sell, active, kept back, expired hold
    units, capped."""
    (sells, sells_params), (kept, kept_params) = sells_here_sql(channel), kept_back_sql(channel)
    expired, expired_params = expired_holds_sql(now)
    capped, capped_params = _capped_sql(channel)
    sql = (
        f"SELECT s.{_ID}, s.{_SKU}, s.{_LOCATION}, {sells}, l.{_col(Location, 'active')}, {kept}, {expired},"
        f" {capped} {STOCK_FROM_SQL} WHERE s.{_SKU} IN ({_placeholders(sku_ids)})"
        f" AND s.{_LOCATION} IN ({_placeholders(location_ids)})"
    )
    return sql, [*sells_params, *kept_params, *expired_params, *capped_params, *sku_ids, *location_ids]


def stock_guards(
    *, pairs: Iterable[tuple[int, int]], channel: Channel | None, now: datetime
) -> dict[tuple[int, int], StockGuard]:
    """Each existing (sku id, location id) row's id, whether the channel may sell there, what ATP
    keeps back on it, whether an expired hold sits on it and whether the channel caps its SKU,
    in one read."""
    pairs = set(pairs)
    if not pairs:
        return {}
    sku_ids, location_ids = list({s for s, _ in pairs}), list({loc for _, loc in pairs})
    rows = _fetch(*stock_guards_sql(sku_ids=sku_ids, location_ids=location_ids, channel=channel, now=now))
    return {  # SQLite hands booleans back as 0 and 1
        (sku_id, location_id): StockGuard(level_id, bool(allowed), bool(active), held, expired > 0, bool(capped))
        for level_id, sku_id, location_id, allowed, active, held, expired, capped in rows
        if (sku_id, location_id) in pairs
    }


def _capped_sql(channel: Channel | None, stock: str = "s") -> tuple[str, list]:
    """Whether the channel has an allocation cap on the stock row's SKU."""
    sql = (
        f"EXISTS (SELECT 1 FROM {_CAPS} c WHERE c.{_col(ChannelCap, 'channel')} = %s"
        f" AND c.{_col(ChannelCap, 'sku')} = {stock}.{_SKU})"
    )
    return sql, [channel.pk if channel is not None else None]


_LEVELS = StockLevel._meta.db_table
# The location columns the rule reads, under the names it reads them by; its id renamed,
# so that RETURNING's id can only be the stock row's.
_UPDATE_LOCATION = (
    f"(SELECT {_col(Location, 'id')} AS location_pk, {_col(Location, 'active')}, {_col(Location, 'safety_stock')}"
    f" FROM {Location._meta.db_table}) l"
)


def reserve_line(
    *, sku_id: int, location_id: int, quantity: int, channel: Channel | None, now: datetime
) -> StockGuard | None:
    """Reserve one (sku, location) line in one UPDATE … RETURNING, guarded by the rule itself: the
    row's ATP covers ``quantity`` and no expired hold sits on it. Return its guard, or None when the
    row is missing, not sellable, short or has a hold to release first (the general path, which
    reports what it found).

    Most reservations are a single line, and one row needs no read first to be locked in
    primary-key order. The stock table goes by its own name: SQLite's RETURNING knows no alias.
    """
    (free, free_params), (sells, sells_params) = free_sql(channel, now, _LEVELS), sells_here_sql(channel, _LEVELS)
    (expired, expired_params), (capped, capped_params) = expired_holds_sql(now, _LEVELS), _capped_sql(channel, _LEVELS)
    sql = (
        f"UPDATE {_LEVELS} SET {_RESERVED} = {_LEVELS}.{_RESERVED} + %s FROM {_UPDATE_LOCATION}"
        f" WHERE l.location_pk = {_LEVELS}.{_LOCATION} AND {_LEVELS}.{_SKU} = %s AND {_LEVELS}.{_LOCATION} = %s"
        f" AND l.{_col(Location, 'active')} AND {sells} AND {free} >= %s AND {expired} = 0"
        f" RETURNING {_LEVELS}.{_ID}, {capped}"
    )
    params = [
        quantity, sku_id, location_id, *sells_params, *free_params, quantity, *expired_params, *capped_params,
    ]  # fmt: skip
    rows = _fetch(sql, params)
    return StockGuard(rows[0][0], True, True, 0, False, bool(rows[0][1])) if rows else None


# --- the ATP read ----------------------------------------------------------------------


def atp_read(
    *, sku_ids: Sequence[int], location_ids: Sequence[int] | None, channel: Channel | None, now: datetime
) -> list[tuple[int, int, int]]:
    """(sku id, location id, ATP) of the rule's rows of ``sku_ids`` (at ``location_ids``, when given)."""
    rows, params = available_stock_sql(channel, now)
    rows += f" AND s.{_SKU} IN ({_placeholders(sku_ids)})"
    params = [*params, *sku_ids]
    if location_ids is not None:
        rows += f" AND s.{_LOCATION} IN ({_placeholders(location_ids)})"
        params += location_ids
    return _fetch(f"SELECT sku_id, location_id, {atp_sql('free')} FROM ({rows}) atp_rows", params)


# --- the ranked candidate read ---------------------------------------------------------


def haversine_sql(lat: str, lon: str) -> str:
    """SQL of the haversine term between a point (``haversine_point``'s parameters) and the columns ``lat``, ``lon``.

    The term grows with distance, so it ranks without a square root or arcsine; the sine
    of half the longitude gap handles the antimeridian.
    """
    return (
        f"POWER(SIN((RADIANS({lat}) - %s) / 2), 2)"
        f" + %s * COS(RADIANS({lat})) * POWER(SIN((RADIANS({lon}) - %s) / 2), 2)"
    )


def haversine_point(lat: float, lon: float) -> list[float]:
    """The parameters of ``haversine_sql`` for a point."""
    lat_r = math.radians(lat)
    return [lat_r, math.cos(lat_r), math.radians(lon)]


_CAP_LEFT = f"c.{_col(ChannelCap, 'quantity')} - c.{_col(ChannelCap, 'used')}"
# The rule's positive rows of the SKUs with each location's point; the locations ranked by
# the lines they fill in full, then the SKUs they hold, then distance, and the best kept
# (with whole_only, only those filling every line when any does); the rows of the kept
# locations (flagged) and of those asked for, then per SKU its total and what is left of
# the channel's cap on it.
_RANKED_STOCK_SQL = f"""
    WITH a AS (SELECT sku_id, location_id, free AS atp, lat, lon FROM ({{rows}}) atp_rows WHERE free > 0),
    w (sku_id, quantity) AS (VALUES {{wanted}}),
    ranked AS (
        SELECT a.location_id, SUM(CASE WHEN a.atp >= w.quantity THEN 1 ELSE 0 END) AS filled
        FROM a JOIN w ON w.sku_id = a.sku_id GROUP BY a.location_id, a.lat, a.lon
        ORDER BY filled DESC, COUNT(*) DESC, {haversine_sql("a.lat", "a.lon")}, a.location_id LIMIT %s
    )
    SELECT a.sku_id, a.location_id, a.atp, best.location_id IS NOT NULL, NULL FROM a LEFT JOIN (
        SELECT location_id FROM ranked WHERE filled >= %s OR (SELECT MAX(filled) FROM ranked) < %s
    ) best ON best.location_id = a.location_id
    WHERE best.location_id IS NOT NULL{{at}}
    UNION ALL
    SELECT a.sku_id, NULL, SUM(a.atp), NULL, MIN({_CAP_LEFT}) FROM a
    LEFT JOIN {_CAPS} c ON c.{_col(ChannelCap, "channel")} = %s AND c.{_col(ChannelCap, "sku")} = a.sku_id
    GROUP BY a.sku_id"""


def ranked_stock(
    *,
    wanted: Sequence[tuple[int, int]],
    channel: Channel,
    near: tuple[float, float],
    limit: int,
    keep: int,
    at: Sequence[int],
    now: datetime,
) -> list[tuple]:
    """The candidate read of ``inventory.nearby.stock_near`` in one statement.

    ``wanted`` is (sku id, units) per SKU; ``keep`` the lines a location must fill to be
    kept when any fills that many (0: keep the ``limit`` best). Rows of (sku id, location
    id, ATP, kept, None) for the kept locations and those in ``at``, then (sku id, None,
    network ATP, None, cap left or None) per SKU with stock.
    """
    sku_ids = [sku_id for sku_id, _ in wanted]
    lat, lon = _col(Location, "lat"), _col(Location, "lon")
    rows, rows_params = available_stock_sql(channel, now, columns=f", l.{lat} AS lat, l.{lon} AS lon")
    rows += f" AND s.{_SKU} IN ({_placeholders(sku_ids)})"
    sql = _RANKED_STOCK_SQL.format(
        rows=rows,
        wanted=", ".join(["(%s, %s)"] * len(wanted)),
        at=f" OR a.location_id IN ({_placeholders(at)})" if at else "",
    )
    params = [
        *rows_params, *sku_ids, *(value for pair in wanted for value in pair), *haversine_point(*near),
        limit, keep, keep, *at, channel.pk,
    ]  # fmt: skip
    return _fetch(sql, params)


# --- the stock feed on PostgreSQL ------------------------------------------------------


class LevelsAppeared(Exception):
    """Another writer created a stock level this chunk meant to create; the chunk is redone."""


def _copy_field(value) -> str:
    """``value`` as one field of COPY's text format."""
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class StockFeedCopy:
    """Stock levels and ledger rows written with COPY, existing levels changed by one set-based UPDATE.

    COPY straight into the tables inserts rows a page at a time, which is what makes a
    million-row feed fast; the temporary tables carry only what a join needs. Existing
    levels are locked in primary-key order before they are read, like every other stock
    writer, so a reservation arriving mid-chunk waits for the chunk and the decisions
    taken on the values read stay true until commit.
    """

    levels = StockLevel._meta.db_table
    movements = StockMovement._meta.db_table
    # Every column of the rows COPY creates, in the order each line gives them; a test holds
    # them to the models' fields, so a new field cannot be left out unnoticed.
    level_columns = tuple(
        StockLevel._meta.get_field(n).column for n in ("id", "sku", "location", "on_hand", "reserved")
    )
    movement_columns = tuple(
        StockMovement._meta.get_field(n).column
        for n in (
            "stock_level", "on_hand_delta", "kind", "reserved_delta", "reason", "reference", "actor", "credential",
            "created_at",
        )
    )  # fmt: skip

    @staticmethod
    def _copy(cursor, table: str, columns: str, lines: Iterable[str]) -> None:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))

    def _scratch(self, cursor, table: str, columns: str, lines: Iterable[str]) -> None:
        """Fill this connection's temporary ``table`` with ``lines``."""
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS")
        # Rows outlive the chunk when an outer transaction is open (as in tests).
        cursor.execute(f"TRUNCATE {table}")
        self._copy(cursor, table, ", ".join(c.split()[0] for c in columns.split(",")), lines)

    def existing(self, pairs):
        with connection.cursor() as cursor:
            self._scratch(
                cursor, "stock_feed_pairs", "sku_id bigint, location_id bigint", (f"{s}\t{loc}\n" for s, loc in pairs)
            )
            cursor.execute(
                f"SELECT s.id, s.sku_id, s.location_id, s.on_hand, s.reserved FROM {self.levels} s"
                " JOIN stock_feed_pairs p ON p.sku_id = s.sku_id AND p.location_id = s.location_id"
                " ORDER BY s.id FOR UPDATE OF s"
            )
            return {(s, loc): [pk, on_hand, reserved] for pk, s, loc, on_hand, reserved in cursor.fetchall()}

    def create(self, on_hand):
        """Create the levels; raise LevelsAppeared when another writer created one of them first.

        Levels are inserted in (sku, location) order, as every writer creates them, so two
        writers creating the same levels wait for each other instead of deadlocking.
        """
        pairs = sorted(on_hand)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [self.levels, len(pairs)],
            )
            ids = {pair: pk for pair, (pk,) in zip(pairs, cursor.fetchall(), strict=True)}
            try:
                self._copy(
                    cursor,
                    self.levels,
                    ", ".join(self.level_columns),
                    (f"{ids[p]}\t{p[0]}\t{p[1]}\t{on_hand[p]}\t0\n" for p in pairs),
                )
            except UniqueViolation as exc:
                raise LevelsAppeared from exc
        return ids

    def write(self, on_hand, changes, movement):
        with connection.cursor() as cursor:
            if on_hand:
                self._scratch(
                    cursor,
                    "stock_feed_levels",
                    "id bigint, on_hand integer",
                    (f"{pk}\t{q}\n" for pk, q in on_hand.items()),
                )
                # The id list lets the planner fetch the rows through the primary key instead of
                # hashing the whole table to join a few thousand of them.
                cursor.execute(
                    f"UPDATE {self.levels} s SET on_hand = n.on_hand FROM stock_feed_levels n"
                    " WHERE s.id = n.id AND s.id = ANY(ARRAY(SELECT id FROM stock_feed_levels))"
                )
            who = (movement["actor_id"], movement["credential_id"])
            constants = (movement["kind"], 0, movement["reason"], movement["reference"], *who)
            tail = "\t".join(map(_copy_field, (*constants, timezone.now())))
            self._copy(
                cursor,
                self.movements,
                ", ".join(self.movement_columns),
                (f"{pk}\t{delta}\t{tail}\n" for pk, delta in changes),
            )
