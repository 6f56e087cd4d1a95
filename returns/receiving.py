"""Receiving a return: the goods booked in where they arrived, surprises recorded as exceptions."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import AdjustmentReason, Location, StockMovement
from inventory.ports import stock_rises_collected
from inventory.services import stock_receive, stock_write_off
from oms.transitions import transition_apply

from .exceptions import ReturnNotAllowed
from .models import Return, ReturnException, ReturnLine
from .requests import return_lock
from .selectors import returnable_quantities
from .spread import Receipt

Condition = ReturnLine.Condition


@dataclass(frozen=True)
class ReceivedLine:
    sku: str
    quantity: int
    condition: str = Condition.RESELLABLE


@transaction.atomic
@stock_rises_collected()  # damaged units are booked in and written off before any waiting order looks
def return_receive(*, ret: Return, location: Location, lines: list[ReceivedLine], actor=None) -> Return:
    """Book the goods in where they arrived: resellable units straight into that location's stock,
    damaged ones into the ledger as written off. Surprises are recorded as exceptions.

    The return row is locked, so the same parcel booked twice at once restocks once. The
    orders waiting for the stock take the resellable units once every line is booked.
    """
    if not location.accepts_returns or not location.active:
        raise InvalidInput(
            f"{location.code} does not accept returns.", errors={"location": ["Does not accept returns."]}
        )
    if not lines:
        raise InvalidInput("Nothing received.", errors={"lines": ["Required."]})
    ret = return_lock(ret)
    return_lines = defaultdict(list)
    for rl in ret.lines.select_related("sku", "order_line").order_by("order_line_id", "pk"):
        return_lines[rl.sku.code].append(rl)
    returnable = returnable_quantities(order=ret.order)
    same_sku = defaultdict(list)
    for ol in ret.order.lines.select_related("sku").filter(sku__code__in=return_lines).order_by("pk"):
        same_sku[ol.sku.code].append(ol)
    receipts = {code: Receipt(ret, rls, same_sku[code], returnable) for code, rls in return_lines.items()}
    received = Counter()
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(lines):
        if ln.condition not in Condition.values:
            errors[f"lines[{i}].condition"] = [f"One of {', '.join(Condition.values)}."]
        if not isinstance(ln.quantity, int) or isinstance(ln.quantity, bool) or ln.quantity <= 0:
            errors[f"lines[{i}].quantity"] = ["Must be a whole number above zero."]
        elif ln.sku in receipts and ln.condition in (Condition.RESELLABLE, Condition.DAMAGED):
            received[ln.sku] += ln.quantity
    for code, quantity in received.items():
        sold = receipts[code].sold  # this return's units plus any still returnable
        if quantity > sold:
            errors[f"lines.{code}"] = [f"Received {quantity} but only {sold} were sold and not yet returned."]
    if errors:
        raise ReturnNotAllowed("The received goods do not fit the return.", errors=errors)
    transition_apply(
        ret,
        "receive",
        order=ret.order,
        subject=ret.subject,
        actor=actor,
        reason=f"at {location.code}",
        location=location,
        at=timezone.now(),
    )
    for ln in lines:
        receipt = receipts.get(ln.sku)
        if receipt is None or ln.condition in (Condition.WRONG_ITEM, Condition.MISSING):
            ReturnException.objects.create(
                ret=ret,
                sku_code=ln.sku,
                kind=ln.condition if receipt else Condition.WRONG_ITEM,
                received=ln.quantity,
                expected=receipt.expected if receipt else 0,
                note="not on the return" if receipt is None else "",
            )
            continue
        sku = receipt.lines[0].sku
        stock_receive(
            sku=sku,
            location=location,
            quantity=ln.quantity,
            kind=StockMovement.Kind.RETURN_RESTOCK,
            reference=ret.reference,
            actor=actor,
        )
        if ln.condition == Condition.DAMAGED:
            stock_write_off(
                sku=sku,
                location=location,
                quantity=ln.quantity,
                reason=AdjustmentReason.DAMAGED,
                reference=ret.reference,
                actor=actor,
            )
        receipt.book(ln.quantity, damaged=ln.condition == Condition.DAMAGED)
    for code, receipt in receipts.items():
        receipt.save()
        if receipt.received != receipt.expected:
            ReturnException.objects.create(
                ret=ret, sku_code=code, kind="quantity_mismatch", expected=receipt.expected, received=receipt.received
            )
    return ret


@transaction.atomic
def return_inspect(*, ret: Return, actor=None, note: str = "") -> Return:
    ret = return_lock(ret)
    transition_apply(ret, "inspect", order=ret.order, subject=ret.subject, actor=actor, reason=note)
    return ret
