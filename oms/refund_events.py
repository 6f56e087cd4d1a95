"""The one ``refund.requested`` event: the channel pays money back on an order.

A refund is asked for by a return's refund, a goodwill refund and a pickup nobody collected;
each tells the channel the same things in the same words, built here.
"""

from __future__ import annotations

from decimal import Decimal

from .events import event_emit
from .models import Order, OutboxEvent


def refund_requested_emit(
    *,
    order: Order,
    amount: Decimal,
    currency: str,
    allocations: list[dict] | None = None,
    return_reference: str | None = None,
    goodwill_reason: str = "",
    reason: str = "",
) -> OutboxEvent:
    """Ask the order's channel to pay ``amount`` back.

    A refund record (``allocations`` given: where the money goes) names its return, None for a
    goodwill refund, which says why instead; a refund without a record (an expired pickup)
    gives its ``reason``.
    """
    data: dict = {"order": order.pk, "order_number": order.number}
    if allocations is not None:
        data["return"] = return_reference
        if goodwill_reason:
            data["goodwill_reason"] = goodwill_reason
    data |= {"amount": str(amount), "currency": currency}
    if allocations is not None:
        data["allocations"] = allocations
    if reason:
        data["reason"] = reason
    return event_emit("refund.requested", order=order, data=data)
