"""The stock one fulfilment holds: its reservations released, committed on dispatch, or cancelled with its lines."""

from __future__ import annotations

from collections import Counter

from inventory.models import Reservation, Transfer
from inventory.ports import stock_rises_collected
from inventory.reservations import reservations_commit, reservations_portion, reservations_release
from inventory.transfers import transfer_reduce
from oms.models import Order
from oms.transitions import transition_apply

from .models import Fulfilment
from .order_status import order_sync_status

F = Fulfilment.Status


def _reservations(fulfilment: Fulfilment, sku_ids) -> list[Reservation]:
    return list(
        Reservation.objects.filter(
            owner_ref=fulfilment.order.owner_ref,
            status=Reservation.Status.ACTIVE,
            stock_level__location_id=fulfilment.source_location_id,
            stock_level__sku_id__in=list(sku_ids),
        )
        .select_related("stock_level")
        .order_by("pk")
    )


def fulfilment_release(fulfilment: Fulfilment, units: Counter, *, reason: str, actor) -> None:
    """Give back to the shelf the units (sku id → quantity) this fulfilment no longer sends.

    A collection still waiting for its transfer to be shipped takes them off the transfer too.
    """
    if not units:
        return
    if fulfilment.source_location_id != fulfilment.location_id:
        waiting = Transfer.objects.filter(supplies_ref=fulfilment.subject, status=Transfer.Status.REQUESTED)
        for transfer in waiting:
            transfer_reduce(transfer=transfer, units=units)
    reservations = _reservations(fulfilment, units)
    reservations_release(
        reservations=reservations, quantities=reservations_portion(reservations, units), reason=reason, actor=actor
    )


def fulfilment_commit(fulfilment: Fulfilment, units: Counter, *, actor) -> None:
    """Take the units (sku id → quantity) that left with this fulfilment off on-hand, through the ledger."""
    reservations = _reservations(fulfilment, units)
    reservations_commit(
        reservations=reservations,
        quantities=reservations_portion(reservations, units),
        reference=fulfilment.order.number,
        actor=actor,
    )


def units_by_sku(lines) -> Counter:
    """Units per SKU id; a line whose units were all cancelled counts for nothing (no zero entries)."""
    units = Counter()
    for line in lines:
        units[line.sku_id] += line.quantity
    return +units


@stock_rises_collected()
def order_lines_cancel(*, order: Order, actor, reason: str, lines: dict[int, int] | None) -> None:
    """Take quantities out of the order's undispatched fulfilments and release their stock."""
    todo = dict(lines) if lines is not None else None
    for fulfilment in order.fulfilments.exclude(status__in=Fulfilment.CLOSED + [F.SHIPPED]).select_for_update():
        released = Counter()
        for fl in fulfilment.lines.all():
            n = fl.quantity if todo is None else min(fl.quantity, todo.get(fl.order_line_id, 0))
            if n:
                # Units already scanned or picked off the shelf go back with the cancelled ones:
                # the counts never exceed what is still to send (a CHECK keeps scanned within it).
                fl.quantity -= n
                fl.scanned_quantity = min(fl.scanned_quantity, fl.quantity)
                if fl.picked_quantity is not None:
                    fl.picked_quantity = min(fl.picked_quantity, fl.quantity)
                fl.save(update_fields=["quantity", "scanned_quantity", "picked_quantity"])
                released[fl.sku_id] += n
                if todo is not None:
                    todo[fl.order_line_id] -= n
        fulfilment_release(fulfilment, released, reason=reason, actor=actor)
        if released and not any(fl.quantity for fl in fulfilment.lines.all()):
            transition_apply(fulfilment, "cancel", order=order, subject=fulfilment.subject, actor=actor, reason=reason)
    if lines is not None:  # what is left decides the order's state (the rest shipped, say)
        order_sync_status(order=order, actor=actor, reason=reason)
