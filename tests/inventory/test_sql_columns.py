"""Every hand-written statement in inventory writes every column of the rows it creates."""

from inventory.models import StockLevel, StockMovement
from inventory.sql import StockFeedCopy


def test_the_stock_feed_copy_writes_every_stock_level_column():
    assert sorted(StockFeedCopy.level_columns) == sorted(f.column for f in StockLevel._meta.concrete_fields)


def test_the_stock_feed_copy_writes_every_ledger_column_but_the_id():
    meta = StockMovement._meta
    assert sorted(StockFeedCopy.movement_columns) == sorted(f.column for f in meta.concrete_fields if f is not meta.pk)
