"""Goodwill refunds (appeasements): money back on an order without a return, for a stated reason.

The same rules as a return's refund hold, from the same places: never more than was paid
less what was refunded or is awaiting approval (``refund_room``), split over the tenders
the same way, and above the person's limit (``oms.access.refund_limit``) a supervisor
approves it through the refund approval requests (``returns.approvals``).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction

from core.errors import InvalidInput
from oms.access import refund_limit, refund_refusal
from oms.models import Activity, Order
from oms.refund_events import refund_requested_emit

from .exceptions import RefundNeedsApproval, RefundNotAllowed
from .models import GoodwillReason, Refund, RefundRequest, Return
from .refunds import RefundQuote, over_room, refund_room, split


def _checked(order: Order, amount, reason: str, method: str) -> Decimal:
    errors = {}
    try:
        amount = Decimal(str(amount)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0:
        errors["amount"] = ["A positive amount, e.g. 10.00."]
    if reason not in GoodwillReason.values:
        errors["reason"] = [f"One of {', '.join(GoodwillReason.values)}."]
    if method not in Return.RefundMethod.values:
        errors["method"] = [f"One of {', '.join(Return.RefundMethod.values)}."]
    if errors:
        raise InvalidInput("The goodwill refund is not valid.", errors=errors)
    return amount


def goodwill_quote(*, order: Order, amount, reason: str, actor=None, method: str = "original_tenders") -> RefundQuote:
    """What a goodwill refund of ``amount`` would pay and where, and whether ``actor`` may pay it alone."""
    amount = _checked(order, amount, reason, method)
    refusal = over_room(order=order, amount=amount, room=refund_room(order=order))
    return RefundQuote(None, method, amount, order.currency, split(order, amount, method), refund_limit(actor), refusal)


def _said(amount: Decimal, currency: str, reason: str, note: str) -> str:
    text = f"{amount:.2f} {currency}, {GoodwillReason(reason).label.lower()}"
    return (f"{text} ({note.strip()})" if note.strip() else text)[:255]


@transaction.atomic
def order_goodwill_refund(
    *,
    order: Order,
    amount,
    reason: str,
    actor=None,
    method: str = "original_tenders",
    note: str = "",
    approved: bool = False,
) -> Refund:
    """Pay a goodwill refund without a return; above the actor's limit it raises RefundNeedsApproval.

    The order row is locked, as for a return's refund, so two refunds cannot take the same
    money. ``approved`` is set by the approval of a request, whose supervisor has no limit.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    quote = goodwill_quote(order=order, amount=amount, reason=reason, actor=actor, method=method)
    if quote.refusal:
        raise RefundNotAllowed(quote.refusal)
    refusal = refund_refusal(actor, quote.amount)
    if refusal and not approved:
        raise RefundNeedsApproval(refusal, amount=quote.amount, limit=quote.limit)
    refund = Refund.objects.create(
        order=order,
        goodwill_reason=reason,
        amount=quote.amount,
        currency=quote.currency,
        method=quote.method,
        allocations=quote.allocations,
        created_by=actor,
    )
    Activity.objects.create(
        order=order,
        subject="order",
        action="goodwill_refund",
        to_state="refunded",
        actor=actor,
        reason=_said(quote.amount, quote.currency, reason, note),
    )
    refund_requested_emit(
        order=order,
        amount=quote.amount,
        currency=quote.currency,
        allocations=quote.allocations,
        goodwill_reason=reason,
    )
    return refund


@transaction.atomic
def goodwill_request_create(
    *, order: Order, amount, reason: str, actor, method: str = "original_tenders", note: str = ""
) -> RefundRequest:
    """Ask a supervisor to approve a goodwill refund above the requester's limit; nothing is paid yet."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    quote = goodwill_quote(order=order, amount=amount, reason=reason, actor=actor, method=method)
    if quote.refusal:
        raise RefundNotAllowed(quote.refusal)
    if not quote.needs_approval:
        raise RefundNotAllowed(f"{quote.amount:.2f} {quote.currency} is within your limit: refund it yourself.")
    request = RefundRequest.objects.create(
        order=order,
        goodwill_reason=reason,
        amount=quote.amount,
        currency=quote.currency,
        method=quote.method,
        allocations=quote.allocations,
        reason=note.strip()[:255],
        requested_by=actor,
    )
    Activity.objects.create(
        order=order,
        subject="order",
        action="goodwill_request",
        to_state=request.status,
        actor=actor,
        reason=_said(quote.amount, quote.currency, reason, note) + "; waiting for a supervisor",
    )
    return request


def order_goodwill_refund_or_request(
    *, order: Order, amount, reason: str, actor, method: str = "original_tenders", note: str = ""
) -> Refund | RefundRequest:
    """Pay it when the person may; otherwise ask a supervisor (what the back-office button does)."""
    try:
        return order_goodwill_refund(order=order, amount=amount, reason=reason, actor=actor, method=method, note=note)
    except RefundNeedsApproval:
        return goodwill_request_create(order=order, amount=amount, reason=reason, actor=actor, method=method, note=note)
