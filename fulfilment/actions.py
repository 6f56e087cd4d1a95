"""What a location does with a fulfilment: accept, decline, pick, pack, ship and deliver it.

Every action locks the order row, then the fulfilment, so two staff members (or a store
and the API) acting on the same order queue behind each other.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import AdjustmentReason, Sku
from inventory.ports import stock_rises_collected
from inventory.services import stock_adjust, stock_write_off
from oms.models import Order
from oms.transitions import transition_apply

from .collection_transfers import transfer_wait_refuse
from .deadlines import ready_deadline
from .models import Fulfilment
from .order_status import order_sync_status
from .reserved_stock import fulfilment_commit, fulfilment_release, units_by_sku
from .routing.placement import order_route


def fulfilment_lock(fulfilment: Fulfilment) -> Fulfilment:
    """Lock the order, then the fulfilment; never the channel row joined for reading (``of``).

    Locking the channel would make every checkout of that channel wait at COMMIT, where
    PostgreSQL checks its rows' reference to the channel.
    """
    Order.objects.select_for_update().get(pk=fulfilment.order_id)
    return (
        Fulfilment.objects.select_for_update(of=("self",))
        .select_related("order", "order__channel")
        .get(pk=fulfilment.pk)
    )


def fulfilment_transition(fulfilment: Fulfilment, action: str, *, actor=None, reason: str = "", **kwargs) -> None:
    """Apply ``action`` to the fulfilment by its state machine, audited against its order."""
    transition_apply(
        fulfilment, action, order=fulfilment.order, subject=fulfilment.subject, actor=actor, reason=reason, **kwargs
    )


@transaction.atomic
def fulfilment_accept(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """The location takes the work on (not while its stock is still on a transfer to it)."""
    fulfilment = fulfilment_lock(fulfilment)
    transfer_wait_refuse(fulfilment)
    fulfilment_transition(fulfilment, "accept", actor=actor)
    fulfilment.due_by = ready_deadline(fulfilment)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(due_by=fulfilment.due_by)
    order_sync_status(order=fulfilment.order, actor=actor, reason=f"accepted at {fulfilment.location.code}")
    return fulfilment


def _adjust_for_reason(fulfilment: Fulfilment, units: Counter, *, reason_code: str, actor) -> None:
    """Make the location's stock tell the truth the reason reveals, after the stock was released."""
    location = fulfilment.source_location
    skus = Sku.objects.in_bulk(list(units))
    for sku_id, quantity in sorted(units.items()):
        if reason_code == Fulfilment.DeclineReason.NOT_IN_STOCK:
            stock_adjust(
                sku=skus[sku_id],
                location=location,
                delta=-quantity,
                reason=AdjustmentReason.LOST,
                reference=fulfilment.order.number,
                actor=actor,
            )
        elif reason_code == Fulfilment.DeclineReason.DAMAGED:
            stock_write_off(
                sku=skus[sku_id],
                location=location,
                quantity=quantity,
                reason=AdjustmentReason.DAMAGED,
                reference=fulfilment.order.number,
                actor=actor,
            )


@transaction.atomic
@stock_rises_collected()
def fulfilment_decline(*, fulfilment: Fulfilment, reason_code: str, actor=None, note: str = "") -> Fulfilment:
    """Refuse the work: release its stock, correct the store's stock by the reason, re-route the lines elsewhere.

    not_in_stock: the units are not there (on-hand drops); damaged: they are written
    off; mismatch: the stock stays as it is for a count to settle.
    """
    if reason_code not in Fulfilment.DeclineReason.values:
        raise InvalidInput("Unknown decline reason.", errors={"reason": [f"One of {Fulfilment.DeclineReason.values}."]})
    fulfilment = fulfilment_lock(fulfilment)
    transfer_wait_refuse(fulfilment)
    fulfilment_transition(fulfilment, "decline", actor=actor, reason=note or reason_code, reason_code=reason_code)
    units = units_by_sku(fulfilment.lines.all())
    fulfilment_release(fulfilment, units, reason=f"declined:{reason_code}", actor=actor)
    _adjust_for_reason(fulfilment, units, reason_code=reason_code, actor=actor)
    order_route(order=fulfilment.order, actor=actor, reason=f"{fulfilment.location.code} declined ({reason_code})")
    return fulfilment


@transaction.atomic
@stock_rises_collected()
def fulfilment_pick(
    *,
    fulfilment: Fulfilment,
    picked: dict[str, int],
    actor=None,
    short_reason: str = Fulfilment.DeclineReason.NOT_IN_STOCK,
) -> Fulfilment:
    """Record the units picked per SKU code; what is short is released, corrected and re-routed."""
    fulfilment = fulfilment_lock(fulfilment)
    transfer_wait_refuse(fulfilment)
    lines = list(fulfilment.lines.select_related("sku").order_by("pk"))
    wanted = Counter()
    for fl in lines:
        wanted[fl.sku.code] += fl.quantity
    errors = {}
    for code, quantity in picked.items():
        if code not in wanted:
            errors[f"lines.{code}"] = ["Not on this fulfilment."]
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= wanted[code]:
            errors[f"lines.{code}"] = [f"Pick between 0 and {wanted[code]}."]
    if errors:
        raise InvalidInput("The pick does not match the fulfilment.", errors=errors)
    # Units are counted per SKU; lines carrying the same SKU are filled in line order.
    left = Counter({code: picked.get(code, quantity) for code, quantity in wanted.items()})
    if not any(left.values()):
        return fulfilment_decline(fulfilment=fulfilment, reason_code=short_reason, actor=actor, note="nothing picked")
    short = Counter()
    for fl in lines:
        got = min(fl.quantity, left[fl.sku.code])
        left[fl.sku.code] -= got
        if got < fl.quantity:
            short[fl.sku_id] += fl.quantity - got
            fl.quantity = got
        fl.picked_quantity, fl.scanned_quantity = got, min(fl.scanned_quantity, got)
        fl.save(update_fields=["quantity", "picked_quantity", "scanned_quantity"])
    fulfilment_transition(fulfilment, "pick", actor=actor, reason="short pick" if short else "")
    if short:
        fulfilment_reroute_short(
            fulfilment=fulfilment,
            short=short,
            actor=actor,
            release_reason=f"short_pick:{short_reason}",
            reason=f"short pick at {fulfilment.location.code}",
            reason_code=short_reason,
        )
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment


def fulfilment_reroute_short(
    *, fulfilment: Fulfilment, short: Counter, actor, release_reason: str, reason: str, reason_code: str = ""
) -> None:
    """Release units (sku id → quantity) a location no longer has for this work and route them elsewhere.

    The caller has locked the fulfilment and taken the units off its lines. ``reason_code``
    (a decline reason) corrects the location's stock as a decline would; the re-route
    excludes the location, since its shelf has just proved short.
    """
    fulfilment_release(fulfilment, short, reason=release_reason, actor=actor)
    if reason_code:
        _adjust_for_reason(fulfilment, short, reason_code=reason_code, actor=actor)
    order_route(order=fulfilment.order, actor=actor, reason=reason, exclude=frozenset({fulfilment.source_location_id}))


@transaction.atomic
def fulfilment_pack(
    *, fulfilment: Fulfilment, actor=None, parcels: int | None = None, weight_kg: Decimal | None = None
) -> Fulfilment:
    """Close the picked units into parcels; how many and their total weight are kept for the carrier."""
    errors = {}
    if parcels is not None and (isinstance(parcels, bool) or not isinstance(parcels, int) or not 1 <= parcels <= 99):
        errors["parcels"] = ["Between 1 and 99."]
    if weight_kg is not None and not (isinstance(weight_kg, Decimal) and Decimal("0") < weight_kg < Decimal("10000")):
        errors["weight_kg"] = ["More than 0 and under 10000 kg."]
    if errors:
        raise InvalidInput("Check the parcels and weight.", errors=errors)
    fulfilment = fulfilment_lock(fulfilment)
    fulfilment_transition(fulfilment, "pack", actor=actor, parcels=parcels, weight_kg=weight_kg)
    return fulfilment


@transaction.atomic
def fulfilment_ship(*, fulfilment: Fulfilment, carrier: str, tracking: str, actor=None) -> Fulfilment:
    """Hand the parcel to the carrier: the reserved units leave on-hand through the ledger."""
    if not carrier.strip() or not tracking.strip():
        raise InvalidInput(
            "Carrier and tracking are required.", errors={"carrier": ["Required."], "tracking": ["Required."]}
        )
    fulfilment = fulfilment_lock(fulfilment)
    fulfilment_transition(
        fulfilment, "ship", actor=actor, carrier=carrier.strip(), tracking=tracking.strip(), at=timezone.now()
    )
    fulfilment_commit(fulfilment, units_by_sku(fulfilment.lines.all()), actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor, reason=f"shipped by {carrier}")
    return fulfilment


@transaction.atomic
def fulfilment_deliver(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    fulfilment = fulfilment_lock(fulfilment)
    fulfilment_transition(fulfilment, "deliver", actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment
