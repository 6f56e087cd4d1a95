"""Exchanging a return: the returned goods replaced by a new order, handed over at the desk when it can be."""

from __future__ import annotations

from django.db import transaction

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from inventory.models import Location
from oms.intake import OrderInput, OrderLineInput
from oms.models import Order
from oms.services import order_place
from oms.transitions import transition_apply

from .exceptions import RefundNotAllowed
from .models import RefundRequest, Return
from .requests import return_lock
from .selectors import return_value


@transaction.atomic
def return_exchange(
    *, ret: Return, lines: list[OrderLineInput], actor=None, hand_over_at: Location | None = None
) -> Return:
    """Replace the returned goods with a new order; the price difference is recorded either way.

    With ``hand_over_at`` (the store at the desk) the replacement is collected there and,
    when that store has it all, handed over at once.
    """
    ret = return_lock(ret)
    if ret.refund_requests.filter(status=RefundRequest.Status.PENDING).exists():
        raise RefundNotAllowed(f"A refund of return {ret.reference} is waiting for a supervisor's approval.")
    order = ret.order
    data = OrderInput(
        channel=ret.channel or order.channel,
        external_id=f"{ret.reference}-X",
        lines=lines,
        currency=order.currency,
        # A till sale's replacement is collected at the store that sold it, unless handed over here.
        method=Order.Method.PICKUP if hand_over_at or order.method == Order.Method.IN_STORE else order.method,
        address={**order.address, "lat": order.lat, "lon": order.lon} if not hand_over_at else {},
        pickup_store=hand_over_at.code
        if hand_over_at
        else (order.pickup_location.code if order.pickup_location else None),
        customer={"email": order.customer.email, "phone": order.customer.phone} if order.customer else {},
    )
    replacement, _ = order_place(data=data, actor=actor)
    difference = replacement.total - return_value(ret)
    transition_apply(
        ret,
        "exchange",
        order=order,
        subject=ret.subject,
        actor=actor,
        reason=f"replacement {replacement.number}",
        replacement=replacement,
        difference=difference,
    )
    if hand_over_at is not None:
        for f in replacement.fulfilments.filter(source_location=hand_over_at, location=hand_over_at):
            fulfilment_accept(fulfilment=f, actor=actor)
            fulfilment_pick(
                fulfilment=f, picked={fl.sku.code: fl.quantity for fl in f.lines.select_related("sku")}, actor=actor
            )
            f = fulfilment_ready(fulfilment=f, actor=actor)
            fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code, actor=actor)
    return ret
