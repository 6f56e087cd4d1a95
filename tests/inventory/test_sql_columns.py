"""Every hand-written statement in inventory knows every column of the rows it writes, and names
only columns its models have."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import Channel, ChannelCap, Location, Reservation, SafetyStock, StockLevel, StockMovement
from inventory.sql import RESERVED_MOVE_SQL, StockFeedCopy, ranked_stock, reserve_line, stock_guards_sql
from tests.factories import ChannelFactory

# The aliases the hot statements give their tables (inventory.atp's fragments and inventory.sql).
ALIASES = {
    "s": StockLevel,
    "l": Location,
    "o": SafetyStock,
    "r": Reservation,
    "c": ChannelCap,
    "x": Channel.sells_from.through,
}


def test_the_stock_feed_copy_writes_every_stock_level_column():
    assert sorted(StockFeedCopy.level_columns) == sorted(f.column for f in StockLevel._meta.concrete_fields)


def test_the_stock_feed_copy_writes_every_ledger_column_but_the_id():
    meta = StockMovement._meta
    assert sorted(StockFeedCopy.movement_columns) == sorted(f.column for f in meta.concrete_fields if f is not meta.pk)


def test_the_guarded_reservation_update_knows_every_stock_level_column_and_writes_only_reserved():
    # A new stock-level field (say, units inbound) may change what a reservation may take:
    # the guard must be reviewed, so the statement's known columns are held to the model.
    known = {"id", "sku_id", "location_id", "on_hand", "reserved"}
    assert {f.column for f in StockLevel._meta.concrete_fields} == known
    assert re.findall(r"SET (\w+) =", RESERVED_MOVE_SQL) == [StockLevel._meta.get_field("reserved").column]
    assert set(re.findall(r"(?<![%\w])([a-z_]+) [>=+]", RESERVED_MOVE_SQL)) <= known


def _columns_by_alias(sql: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for alias, column in re.findall(r"\b([a-z])\.([a-z_]+)\b", sql):
        if alias in ALIASES:
            found.setdefault(alias, set()).add(column)
    return found


@pytest.mark.django_db
def test_the_reservation_row_read_and_the_candidate_read_name_only_their_models_columns():
    channel = ChannelFactory()
    guard_sql, _ = stock_guards_sql(sku_ids=[1], location_ids=[1], channel=channel, now=timezone.now())
    with CaptureQueriesContext(connection) as ctx:  # and both compile on this database
        ranked_stock(wanted=[(1, 1)], channel=channel, near=(51.5, -0.1), limit=5, keep=0, at=[1], now=timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(*stock_guards_sql(sku_ids=[1], location_ids=[1], channel=channel, now=timezone.now()))
    for sql in (guard_sql, ctx.captured_queries[0]["sql"]):
        used = _columns_by_alias(sql)
        assert {"s", "l", "o", "r", "x"} <= used.keys()
        for alias, columns in used.items():
            assert columns <= {f.column for f in ALIASES[alias]._meta.concrete_fields}, alias


@pytest.mark.django_db
def test_the_one_line_reservation_writes_only_reserved_and_names_only_its_models_columns():
    with CaptureQueriesContext(connection) as ctx:  # and it compiles on this database
        assert reserve_line(sku_id=1, location_id=1, quantity=1, channel=ChannelFactory(), now=timezone.now()) is None
    sql = ctx.captured_queries[-1]["sql"]
    assert re.findall(r"SET (\w+) =", sql) == [StockLevel._meta.get_field("reserved").column]
    level_columns = {f.column for f in StockLevel._meta.concrete_fields}
    assert set(re.findall(rf"\b{StockLevel._meta.db_table}\.(\w+)", sql)) <= level_columns
    for alias, columns in _columns_by_alias(sql).items():
        if alias != "l":  # the location's columns come through a derived table
            assert columns <= {f.column for f in ALIASES[alias]._meta.concrete_fields}, alias


@pytest.mark.django_db
def test_the_candidate_read_hands_back_whole_numbers_on_every_database(network):
    from inventory.nearby import stock_near

    sku = network.skus[0]
    network.stock(network.soho, sku, 4)
    network.stock(network.warehouse, sku, 6)
    found = stock_near(sku_ids=[sku.pk], channel=network.web, near=(51.5, -0.13), limit=10, at=[network.soho.pk])
    # PostgreSQL sums as numeric: routing refuses anything but int units, so a Decimal here breaks backorders.
    figures = [*found.available.values(), *found.network.values(), *found.at.values()]
    assert figures and all(type(units) is int for units in figures)
