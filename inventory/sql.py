"""Hand-written SQL, kept only where a benchmark in docs/performance.md shows the ORM cannot do the job.

The stock feed's COPY on PostgreSQL (``StockFeedCopy``): its columns come from the models'
``_meta``, and tests/inventory/test_sql_columns.py fails when a model it writes gains a field.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone
from psycopg2.errors import UniqueViolation

from .models import StockLevel, StockMovement

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
