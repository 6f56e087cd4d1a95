"""Pick progress: units scanned off the shelf, kept per fulfilment line on the server.

Every tablet in the store reads and writes the same count, so signing in again or picking
up another tablet carries on where the last scan left off. A scan is one guarded
``UPDATE … SET scanned = scanned + 1 WHERE scanned < quantity``: two tablets scanning the
last unit at once count it once, and the database's CHECK constraint is the last line of
defence. The pick is confirmed, with these counts, by ``actions.fulfilment_pick``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F

from core.errors import InvalidInput
from inventory.models import Sku

from .models import Fulfilment, FulfilmentLine


class ScanRefused(InvalidInput):
    """The scanned unit was not counted: not on the fulfilment, already all scanned, or not being picked."""

    def __init__(self, message: str, *, reason: str, sku: Sku | None = None, quantity: int = 0):
        super().__init__(message)
        self.reason, self.sku, self.quantity = reason, sku, quantity


@dataclass(frozen=True)
class ScanCount:
    """Where one SKU of a fulfilment stands after a scan."""

    sku: Sku
    scanned: int
    quantity: int


def _sku_lines(fulfilment: Fulfilment, sku: Sku) -> list[FulfilmentLine]:
    lines = list(FulfilmentLine.objects.filter(fulfilment=fulfilment, sku=sku).order_by("pk"))
    if not lines:
        raise ScanRefused(f"{sku.code} {sku.name} is not on this order.", reason="not_on_order", sku=sku)
    return lines


def _being_picked(fulfilment: Fulfilment) -> None:
    status = Fulfilment.objects.filter(pk=fulfilment.pk).values_list("status", flat=True).first()
    if status != Fulfilment.Status.ACCEPTED:
        raise ScanRefused("This order is not waiting to be picked.", reason="not_picking")


def _count(lines: list[FulfilmentLine], sku: Sku) -> ScanCount:
    fresh = FulfilmentLine.objects.filter(pk__in=[fl.pk for fl in lines]).values_list("scanned_quantity", "quantity")
    return ScanCount(sku, sum(s for s, _ in fresh), sum(q for _, q in fresh))


def fulfilment_unit_scan(*, fulfilment: Fulfilment, sku: Sku, actor=None) -> ScanCount:
    """Count one unit of ``sku`` taken off the shelf; refused once every unit of it is counted.

    Lines of the same SKU fill in line order. Each attempt is a single guarded UPDATE
    (autocommitted, so a tablet's count is everyone's at once); no read decides it.
    """
    _being_picked(fulfilment)
    lines = _sku_lines(fulfilment, sku)
    for line in lines:
        counted = FulfilmentLine.objects.filter(pk=line.pk, scanned_quantity__lt=F("quantity")).update(
            scanned_quantity=F("scanned_quantity") + 1
        )
        if counted:
            return _count(lines, sku)
    quantity = sum(fl.quantity for fl in lines)
    raise ScanRefused(
        f"All {quantity} of {sku.code} are already scanned.", reason="all_scanned", sku=sku, quantity=quantity
    )


def fulfilment_unit_unscan(*, fulfilment: Fulfilment, sku: Sku, actor=None) -> ScanCount:
    """Take one counted unit of ``sku`` back off the count (a miscount), last line first."""
    _being_picked(fulfilment)
    lines = _sku_lines(fulfilment, sku)
    for line in reversed(lines):
        if FulfilmentLine.objects.filter(pk=line.pk, scanned_quantity__gt=0).update(
            scanned_quantity=F("scanned_quantity") - 1
        ):
            return _count(lines, sku)
    raise ScanRefused(f"No {sku.code} scanned to take off.", reason="none_scanned", sku=sku)
