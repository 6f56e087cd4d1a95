"""Stock sold over a store's counter, and the SKUs a store is asked to count.

A till sale cannot be refused: the goods are already in the customer's hands. The layer
above frees reserved units first; here, units the books did not know of are booked in as
found stock, the SKU is flagged for a count, and the sale takes the units out, each step
its own ledger entry so the ledger explains every change.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .exceptions import StockConflict
from .locks import stock_levels_for_update
from .models import AdjustmentReason, CountFlag, Location, Sku, StockLevel, StockMovement
from .services import Actor, require_positive_quantity, stock_adjust, stock_move


@transaction.atomic
def stock_sell(*, sku: Sku, location: Location, quantity: int, reference: str, actor: Actor = None) -> StockLevel:
    """Take ``quantity`` sold units out of ``location``'s on hand (movement kind ``sale``).

    Units beyond what is on hand and not reserved were on the shelf without the books
    knowing: they are booked in first as found stock and the SKU is flagged for a count.
    Reserved units are never taken here; the caller frees them first.
    """
    require_positive_quantity(quantity)
    level, _ = StockLevel.objects.get_or_create(sku=sku, location=location)
    level = stock_levels_for_update(ids=[level.pk])[level.pk]
    unknown = quantity - (level.on_hand - level.reserved)
    if unknown > 0:
        stock_adjust(
            sku=sku, location=location, delta=unknown, reason=AdjustmentReason.FOUND, reference=reference, actor=actor
        )
        count_flag_raise(
            sku=sku, location=location, reference=reference, reason=f"sold {unknown} more than the books held"
        )
    if not stock_move(level, kind=StockMovement.Kind.SALE, on_hand=-quantity, reference=reference, actor=actor):
        raise StockConflict(
            f"{sku.code}@{location.code}: the sale could not be booked.", errors={"quantity": ["Stock changed."]}
        )
    level.refresh_from_db(fields=["on_hand", "reserved"])
    return level


def count_flag_raise(*, sku: Sku, location: Location, reason: str, reference: str = "") -> CountFlag:
    """Ask the store to count ``sku``; an open flag already there is kept (one per SKU and store)."""
    flag = CountFlag.objects.filter(sku=sku, location=location, cleared_at__isnull=True).first()
    if flag is None:
        flag = CountFlag.objects.create(sku=sku, location=location, reason=reason[:255], reference=reference[:64])
    return flag


def count_flags_clear(*, sku: Sku, location: Location) -> int:
    """Close the open count flag of ``sku`` at ``location`` (it was just counted)."""
    return CountFlag.objects.filter(sku=sku, location=location, cleared_at__isnull=True).update(
        cleared_at=timezone.now()
    )


def count_flags_open(*, location: Location) -> QuerySet[CountFlag]:
    """SKUs the store is asked to count, newest first."""
    return CountFlag.objects.filter(location=location, cleared_at__isnull=True).select_related("sku")


def till_sales(*, location: Location, limit: int = 100) -> QuerySet[StockMovement]:
    """The store's till sales as the ledger holds them, newest first, with the SKU."""
    return (
        StockMovement.objects.filter(stock_level__location=location, kind=StockMovement.Kind.SALE)
        .select_related("stock_level__sku")
        .order_by("-pk")[:limit]
    )
