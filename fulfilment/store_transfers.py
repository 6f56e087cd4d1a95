"""Transfers as locations work them: shipped by the source, received by scanning at the destination.

A collection stocked by transfer (``fulfilment.collection_transfers``) waits for it.
Receiving it at the pickup store books the units in reserved for the order and moves the
fulfilment on to "picked", so the store puts it on the pickup shelf as any other parcel.
Steps on a transfer that supplies a fulfilment lock the order, then the fulfilment, then
the transfer, in the order every fulfilment action uses.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from core.errors import InvalidInput
from inventory.models import Location, Transfer
from inventory.selectors import sku_resolve
from inventory.transfers import transfer_receive, transfer_ship
from oms.events import event_emit
from oms.models import Activity

from .actions import fulfilment_lock, fulfilment_transition
from .models import Fulfilment, FulfilmentLine
from .order_status import order_sync_status
from .reserved_stock import units_by_sku

WAITING = [Fulfilment.Status.PENDING, Fulfilment.Status.ACCEPTED]
ECHO_MAX = 24  # characters of an unmatched scan a message repeats: recognisable, not a wall of text


def _supplied(transfer: Transfer) -> Fulfilment | None:
    """The fulfilment the transfer supplies, locked (order first), or None for a rebalancing transfer."""
    kind, _, pk = transfer.supplies_ref.partition(":")
    if kind != "fulfilment" or not pk.isdigit():
        return None
    found = Fulfilment.objects.filter(pk=int(pk)).first()
    return fulfilment_lock(found) if found is not None else None


def _tell(fulfilment: Fulfilment, transfer: Transfer, step: str, *, actor, reason: str) -> None:
    """The order's timeline and its channel hear of a step of the transfer that stocks it."""
    order = fulfilment.order
    subject = fulfilment.subject
    Activity.objects.create(order=order, subject=subject, action=f"transfer_{step}", reason=reason, actor=actor)
    event_emit(
        f"transfer.{step}",
        order=order,
        data={
            "transfer": transfer.reference,
            "fulfilment": fulfilment.pk,
            "order_number": order.number,
            "from": transfer.source.code,
            "to": transfer.destination.code,
        },
    )


@transaction.atomic
def store_transfer_ship(
    *, transfer: Transfer, store: Location, carrier: str = "", tracking: str = "", actor=None
) -> Transfer:
    """``store`` sends a requested transfer on its way; the order it stocks is told."""
    fulfilment = _supplied(transfer)
    transfer = transfer_ship(transfer=transfer, at=store, carrier=carrier, tracking=tracking, actor=actor)
    if fulfilment is not None:
        reason = f"{transfer.reference} shipped from {transfer.source.code} to {transfer.destination.code}"
        _tell(fulfilment, transfer, "shipped", actor=actor, reason=reason)
    return transfer


@transaction.atomic
def store_transfer_receive(*, transfer: Transfer, store: Location, actor=None) -> Fulfilment | None:
    """``store`` books a transfer in; a collection waiting for it keeps its units and is picked.

    Returns that collection, ready to go on the pickup shelf; None when the transfer stocks
    no live collection (rebalancing, or the order was cancelled on the way: the units are
    then the store's to sell).
    """
    fulfilment = _supplied(transfer)
    waiting = fulfilment is not None and fulfilment.status in WAITING
    lines = list(fulfilment.lines.all()) if waiting else []
    transfer = transfer_receive(transfer=transfer, at=store, reserve=units_by_sku(lines), actor=actor)
    if fulfilment is None:
        return None
    reason = f"{transfer.reference} received at {transfer.destination.code}"
    _tell(fulfilment, transfer, "received", actor=actor, reason=reason)
    if not waiting:
        return None
    # The stock is the pickup store's now: release, collection and expiry find it here.
    Fulfilment.objects.filter(pk=fulfilment.pk).update(source_location=store)
    fulfilment.source_location = store
    if fulfilment.status == Fulfilment.Status.PENDING:
        fulfilment_transition(fulfilment, "accept", actor=actor, reason=reason)
    FulfilmentLine.objects.filter(fulfilment=fulfilment).update(picked_quantity=F("quantity"))
    fulfilment_transition(fulfilment, "pick", actor=actor, reason=reason)
    order_sync_status(order=fulfilment.order, actor=actor, reason=reason)
    return fulfilment


def transfer_scanned(*, code: str, store: Location) -> Transfer:
    """The transfer a scan at ``store``'s receiving desk means: its reference, or a product on it.

    A product matches the one transfer on its way here that holds it; several, or none,
    is refused with what to scan instead.
    """
    code = (code or "").strip()
    if not code:
        say = "Scan a transfer's reference or a product on it."
        raise InvalidInput(say, errors={"code": [say]})
    transfer = Transfer.objects.filter(reference__iexact=code).select_related("source", "destination").first()
    if transfer is not None:
        return transfer
    sku = sku_resolve(code=code)
    if sku is None:
        echo = code if len(code) <= ECHO_MAX else f"{code[:ECHO_MAX]}…"
        say = f"Nothing matches “{echo}”: scan the transfer's reference or the barcode of a product on it."
        raise InvalidInput(say, errors={"code": [say]})
    on_the_way = list(
        Transfer.objects.filter(destination=store, status=Transfer.Status.IN_TRANSIT, lines__sku=sku)
        .select_related("source", "destination")
        .order_by("expected_at", "pk")
        .distinct()
    )
    if len(on_the_way) == 1:
        return on_the_way[0]
    if not on_the_way:
        say = f"No transfer on its way to {store.name} holds {sku.code}."
        raise InvalidInput(say, errors={"code": [say]})
    references = ", ".join(t.reference for t in on_the_way)
    say = (
        f"{sku.code} is on {len(on_the_way)} transfers on their way here ({references}): scan the transfer's reference."
    )
    raise InvalidInput(say, errors={"code": [say]})
