"""Transfers between locations as documents: requested, shipped, received, or cancelled.

A requested transfer's units are reserved at the source for ``owner_ref``: an order's
reservation when the transfer supplies a click-and-collect (the order placed it), the
transfer's own when it rebalances stock between stores. Shipping commits that reservation
(on hand leaves the source); receiving books the units in at the destination, reserved for
the order when the caller asks so. A supplier's goods arrive by ``transfer_send`` already
in transit. Every step locks the transfer first, then stock rows by primary key, and
refuses a step its state does not allow with a sentence naming the state.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, NotPermitted

from .exceptions import InsufficientStock, Shortfall, StockConflict
from .models import Channel, Location, Reservation, Sku, StockMovement, Transfer, TransferLine
from .ports import stock_rises_collected, supply_changed
from .quantities import on_hand_problem
from .reservations import StockRequest, reservations_commit, reservations_portion, reservations_release, stock_reserve
from .services import Actor, require_positive_quantity, stock_level_for, stock_move

Kind = StockMovement.Kind
S = Transfer.Status
STATE_WORDS = {
    S.REQUESTED: "is requested and not shipped yet",
    S.IN_TRANSIT: "was already shipped",
    S.RECEIVED: "was already received",
    S.CANCELLED: "was cancelled",
}


def transfer_own_ref(transfer: Transfer) -> str:
    """The owner of a rebalancing transfer's reservation: the transfer itself."""
    return f"transfer:{transfer.reference}"


def _new_reference() -> str:
    return f"TR-{uuid.uuid4().hex[:10].upper()}"


def _units(lines: Sequence[tuple[Sku, int]]) -> tuple[Counter[int], dict[int, Sku]]:
    """Units per SKU id of ``lines`` [(sku, quantity)], refusing an empty list or a bad quantity."""
    if not lines:
        raise InvalidInput("A transfer needs at least one line.", errors={"lines": ["Empty."]})
    wanted: Counter[int] = Counter()
    skus = {}
    for sku, quantity in lines:
        require_positive_quantity(quantity)
        wanted[sku.pk] += quantity
        skus[sku.pk] = sku
    return wanted, skus


def _locked(transfer: Transfer, *, allowed: S, step: str) -> Transfer:
    rows = Transfer.objects.select_for_update(of=("self",)).select_related("source", "destination")
    transfer = rows.get(pk=transfer.pk)
    if transfer.status != allowed:
        raise StockConflict(
            f"Transfer {transfer.reference} {STATE_WORDS[transfer.status]}: it cannot be {step}.",
            errors={"transfer": [f"{STATE_WORDS[transfer.status].capitalize()}."]},
        )
    return transfer


def _check_place(transfer: Transfer, at: Location | None, *, end: str) -> None:
    """Refuse a step taken at the wrong location (``end``: source or destination)."""
    place = transfer.source if end == "source" else transfer.destination
    if at is not None and (place is None or at.pk != place.pk):
        where = place.name if place is not None else "a supplier"
        raise NotPermitted(
            f"Transfer {transfer.reference} goes from {transfer.source.name if transfer.source else 'a supplier'} "
            f"to {transfer.destination.name}: {at.name} is not its {end} ({where} is).",
            errors={"transfer": [f"{at.name} is not its {end}."]},
        )


def _in_transit_moved(transfer: Transfer, sku_ids) -> None:
    """A transfer free to promise began or ended its journey: the supply coming for its SKUs moved.

    One that carries an order's collection brings units already reserved, never promised to others.
    """
    if not transfer.supplies_ref:
        supply_changed(sku_ids)


@transaction.atomic
def transfer_send(
    *,
    destination: Location,
    lines: Sequence[tuple[Sku, int]],
    expected_at: datetime,
    source: Location | None = None,
    reference: str = "",
    actor: Actor = None,
) -> Transfer:
    """Put goods in transit to ``destination`` at once: out of ``source``'s on-hand, or from a supplier."""
    wanted, skus = _units(lines)
    if source is not None and source.pk == destination.pk:
        raise InvalidInput("Source and destination are the same.", errors={"destination": ["Same as source."]})
    transfer = Transfer.objects.create(
        reference=reference or _new_reference(),
        source=source,
        destination=destination,
        expected_at=expected_at,
        shipped_at=timezone.now() if source is not None else None,
    )
    TransferLine.objects.bulk_create(TransferLine(transfer=transfer, sku_id=s, quantity=q) for s, q in wanted.items())
    if source is not None:
        levels = sorted((stock_level_for(sku=s, location=source) for s in wanted), key=lambda lv: lv.pk)
        shortfalls = []
        for level in levels:
            quantity = wanted[level.sku_id]
            if not stock_move(
                level, kind=Kind.TRANSFER_OUT, on_hand=-quantity, reference=transfer.reference, actor=actor
            ):
                level.refresh_from_db(fields=["on_hand", "reserved"])
                shortfalls.append(
                    Shortfall(skus[level.sku_id].code, source.code, quantity, max(0, level.on_hand - level.reserved))
                )
        if shortfalls:
            raise InsufficientStock(shortfalls)
    supply_changed(wanted)
    return transfer


@transaction.atomic
def transfer_request(
    *,
    source: Location,
    destination: Location,
    lines: Sequence[tuple[Sku, int]],
    expected_at: datetime | None = None,
    owner_ref: str = "",
    channel: Channel | None = None,
    supplies_ref: str = "",
    reference: str = "",
    actor: Actor = None,
) -> Transfer:
    """Ask ``source`` to send units to ``destination``, reserved at the source until it ships.

    With ``owner_ref`` the caller has reserved the units already (an order's); without it
    the transfer reserves them itself (rebalancing), and a short source refuses it whole.
    """
    wanted, skus = _units(lines)
    if source.pk == destination.pk:
        raise InvalidInput("Source and destination are the same.", errors={"destination": ["Same as source."]})
    transfer = Transfer.objects.create(
        reference=reference or _new_reference(),
        source=source,
        destination=destination,
        expected_at=expected_at or timezone.now(),
        status=S.REQUESTED,
        channel=channel,
        supplies_ref=supplies_ref,
    )
    transfer.owner_ref = owner_ref or transfer_own_ref(transfer)
    transfer.save(update_fields=["owner_ref"])
    TransferLine.objects.bulk_create(TransferLine(transfer=transfer, sku_id=s, quantity=q) for s, q in wanted.items())
    if not owner_ref:
        requests = [StockRequest(skus[s], source, q) for s, q in sorted(wanted.items())]
        stock_reserve(requests=requests, owner_ref=transfer_own_ref(transfer), actor=actor)
    return transfer


def _source_reservations(transfer: Transfer, sku_ids=None) -> list[Reservation]:
    rows = Reservation.objects.filter(
        owner_ref=transfer.owner_ref, status=Reservation.Status.ACTIVE, stock_level__location_id=transfer.source_id
    )
    if sku_ids is not None:
        rows = rows.filter(stock_level__sku_id__in=list(sku_ids))
    return list(rows.select_related("stock_level").order_by("pk"))


@transaction.atomic
def transfer_ship(
    *, transfer: Transfer, at: Location | None = None, carrier: str = "", tracking: str = "", actor: Actor = None
) -> Transfer:
    """The source hands the goods over: its reservation is committed and the transfer is in transit."""
    transfer = _locked(transfer, allowed=S.REQUESTED, step="shipped")
    _check_place(transfer, at, end="source")
    lines = {line.sku_id: line.quantity for line in transfer.lines.all()}
    reservations = _source_reservations(transfer, lines)
    take = reservations_portion(reservations, lines)
    left = Counter(lines)
    for r in reservations:
        left[r.stock_level.sku_id] -= take.get(r.pk, 0)
    if short := {sku_id: n for sku_id, n in left.items() if n > 0}:
        codes = dict(Sku.objects.filter(pk__in=list(short)).values_list("pk", "code"))
        missing = ", ".join(f"{n} × {codes[s]}" for s, n in sorted(short.items()))
        raise StockConflict(
            f"Transfer {transfer.reference}: {missing} no longer reserved at {transfer.source.name}; nothing shipped.",
            errors={"transfer": ["Its units are no longer reserved."]},
        )
    reservations_commit(reservations=reservations, quantities=take, reference=transfer.reference, actor=actor)
    transfer.status, transfer.shipped_at = S.IN_TRANSIT, timezone.now()
    transfer.carrier, transfer.tracking = carrier.strip()[:64], tracking.strip()[:64]
    transfer.save(update_fields=["status", "shipped_at", "carrier", "tracking"])
    _in_transit_moved(transfer, lines)
    return transfer


@transaction.atomic
@stock_rises_collected()  # every row raised first, then the waiting orders take from them
def transfer_receive(
    *, transfer: Transfer, at: Location | None = None, reserve: Mapping[int, int] | None = None, actor: Actor = None
) -> Transfer:
    """Book the transfer's units into the destination's on-hand, exactly once.

    ``reserve`` (sku id → units) keeps that many of them reserved for the transfer's owner
    (the order it supplies), with its channel, so availability never offers them to others.
    """
    transfer = _locked(transfer, allowed=S.IN_TRANSIT, step="received")
    _check_place(transfer, at, end="destination")
    reserve = dict(reserve or {})
    held = []
    lines = list(transfer.lines.select_related("sku").order_by("sku_id"))
    for line in lines:
        level = stock_level_for(sku=line.sku_id, location=transfer.destination)
        kept = min(line.quantity, reserve.get(line.sku_id, 0))
        if not stock_move(
            level,
            kind=Kind.TRANSFER_IN,
            on_hand=line.quantity,
            reserved=kept,
            reference=transfer.reference,
            actor=actor,
        ):
            level.refresh_from_db(fields=["on_hand"])
            problem = on_hand_problem(level.on_hand + line.quantity)
            raise StockConflict(f"{line.sku.code}@{transfer.destination.code}: {problem}.")
        reserve[line.sku_id] = reserve.get(line.sku_id, 0) - kept
        if kept:
            held.append(
                Reservation(owner_ref=transfer.owner_ref, stock_level=level, channel=transfer.channel, quantity=kept)
            )
    Reservation.objects.bulk_create(held)
    transfer.status, transfer.received_at = S.RECEIVED, timezone.now()
    transfer.save(update_fields=["status", "received_at"])
    _in_transit_moved(transfer, [line.sku_id for line in lines])
    return transfer


@transaction.atomic
def transfer_cancel(*, transfer: Transfer, reason: str = "transfer_cancelled", actor: Actor = None) -> Transfer:
    """Call off a transfer that has not shipped; a rebalancing transfer gives its reservation back."""
    transfer = _locked(transfer, allowed=S.REQUESTED, step="cancelled")
    if transfer.owner_ref == transfer_own_ref(transfer):
        reservations_release(reservations=_source_reservations(transfer), reason=reason, actor=actor)
    transfer.status, transfer.cancelled_at = S.CANCELLED, timezone.now()
    transfer.save(update_fields=["status", "cancelled_at"])
    return transfer


@transaction.atomic
def transfer_reduce(*, transfer: Transfer, units: Mapping[int, int]) -> Transfer:
    """Take units (sku id → quantity) off a requested transfer whose owner no longer needs them.

    The owner released its reservation itself; a transfer left with nothing is cancelled.
    A transfer already on its way keeps its lines: what arrives is booked in as it is.
    """
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != S.REQUESTED:
        return transfer
    for line in transfer.lines.filter(sku_id__in=list(units)).order_by("pk"):
        quantity = line.quantity - min(line.quantity, units[line.sku_id])
        if quantity:
            TransferLine.objects.filter(pk=line.pk).update(quantity=quantity)
        else:
            line.delete()
    if not transfer.lines.exists():
        transfer.status, transfer.cancelled_at = S.CANCELLED, timezone.now()
        transfer.save(update_fields=["status", "cancelled_at"])
    return transfer
