"""The one place stock rows are locked: always in primary-key order, so two writers that
touch the same rows queue behind each other instead of deadlocking."""

from __future__ import annotations

from collections.abc import Iterable

from .models import StockLevel


def stock_levels_for_update(*, ids: Iterable[int]) -> dict[int, StockLevel]:
    """Lock the given stock levels (ascending id) for the rest of the transaction."""
    rows = StockLevel.objects.select_for_update().filter(pk__in=sorted(set(ids))).order_by("pk")
    return {row.pk: row for row in rows}
