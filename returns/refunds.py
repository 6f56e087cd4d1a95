"""Money back for a return: what is due, where it goes, and the refund paid once under the order's lock."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from core.errors import InvalidInput
from oms.access import refund_limit, refund_refusal
from oms.models import Order
from oms.refund_events import refund_requested_emit
from oms.transitions import transition_apply

from .exceptions import RefundNeedsApproval, RefundNotAllowed
from .models import Refund, RefundRequest, Return
from .requests import return_lock
from .selectors import return_value


def _allocate(order: Order, amount: Decimal) -> list[dict]:
    """Split a refund across the order's tenders in their order, less what earlier refunds took."""
    used = Counter()
    for refund in Refund.objects.filter(order=order, method=Return.RefundMethod.ORIGINAL_TENDERS):
        for part in refund.allocations:
            used[part.get("reference") or part.get("type")] += Decimal(part["amount"])
    allocations, left = [], amount
    for tender in order.tenders or []:
        key = tender.get("reference") or tender.get("type")
        room = Decimal(str(tender.get("amount", "0"))) - used[key]
        take = min(room, left)
        if take > 0:
            allocations.append(
                {"type": tender.get("type", ""), "reference": tender.get("reference", ""), "amount": str(take)}
            )
            left -= take
    if left > 0:
        allocations.append({"type": "store_credit", "reference": "", "amount": str(left)})
    return allocations


def refund_room(*, order: Order, ret: Return | None = None) -> Decimal:
    """What may still go back on an order: what was paid, less refunds made and refunds awaiting approval.

    Goodwill refunds (no return) count like any other: the money is the order's.

    What was paid is the sum of the order's tenders (its total when the channel sent none).
    ``ret``'s own pending request is not counted: it is the one being decided.
    """
    tenders = order.tenders or []
    paid = sum((Decimal(str(t.get("amount", "0"))) for t in tenders), Decimal(0)) if tenders else order.total
    refunded = Refund.objects.filter(order=order).aggregate(n=Sum("amount"))["n"] or Decimal(0)
    pending = RefundRequest.objects.filter(order=order, status=RefundRequest.Status.PENDING)
    if ret is not None:
        pending = pending.exclude(ret=ret)
    return paid - refunded - (pending.aggregate(n=Sum("amount"))["n"] or Decimal(0))


@dataclass(frozen=True)
class RefundQuote:
    """What a refund of a return would pay, where it would go, and whether this person may pay it alone."""

    ret: Return | None  # None: a goodwill refund
    method: str
    amount: Decimal
    currency: str
    allocations: list[dict]
    limit: Decimal | None  # None: no limit
    refusal: str | None  # why nothing can be refunded as asked, whoever asks

    @property
    def needs_approval(self) -> bool:
        return self.limit is not None and self.amount > self.limit

    @property
    def summary(self) -> str:
        """E.g. "Refund 214.00 GBP: 200.00 to card, 14.00 to gift card"."""
        parts = ", ".join(f"{Decimal(a['amount']):.2f} to {a['type'].replace('_', ' ')}" for a in self.allocations)
        return f"Refund {self.amount:.2f} {self.currency}" + (f": {parts}" if parts else "")


def refund_quote(*, ret: Return, actor=None, method: str | None = None, shipping: Decimal = Decimal(0)) -> RefundQuote:
    """Work out the refund of ``ret`` as ``actor`` would make it, without paying anything.

    The pages show it before anyone confirms, and ``return_refund`` checks the same figures
    under lock, so what was shown is what is paid or refused.
    """
    method = method or ret.refund_method
    if method not in Return.RefundMethod.values:
        raise InvalidInput("Unknown refund method.", errors={"method": [f"One of {Return.RefundMethod.values}."]})
    order = ret.order
    amount = return_value(ret) + Decimal(shipping)
    room = refund_room(order=order, ret=ret)
    refusal = None
    if ret.status not in (Return.Status.RECEIVED, Return.Status.INSPECTED):
        refusal = f"Return {ret.reference} is {ret.get_status_display().lower()}; no refund is due."
    elif ret.refund_requests.filter(status=RefundRequest.Status.PENDING).exists():
        refusal = f"A refund of return {ret.reference} is waiting for a supervisor's approval."
    elif amount < 0:
        refusal = f"A refund cannot be negative ({amount:.2f} {order.currency})."
    else:
        refusal = over_room(order=order, amount=amount, room=room)
    return RefundQuote(ret, method, amount, order.currency, split(order, amount, method), refund_limit(actor), refusal)


def over_room(*, order: Order, amount: Decimal, room: Decimal) -> str | None:
    """Why ``amount`` cannot be refunded when only ``room`` is left of what was paid, or None."""
    if amount <= room:
        return None
    return (
        f"A refund of {amount:.2f} {order.currency} is more than the {max(room, Decimal(0)):.2f} "
        f"{order.currency} paid and not yet refunded."
    )


def split(order: Order, amount: Decimal, method: str) -> list[dict]:
    """Where a refund of ``amount`` goes: back over the order's tenders, or all to store credit."""
    if method == Return.RefundMethod.ORIGINAL_TENDERS:
        return _allocate(order, amount)
    return [{"type": "store_credit", "reference": "", "amount": str(amount)}]


@transaction.atomic
def return_refund(
    *,
    ret: Return,
    actor=None,
    method: str | None = None,
    shipping: Decimal = Decimal(0),
    expected_amount: Decimal | None = None,
) -> Refund:
    """Refund the received units (and optionally shipping) once, to the original tenders or as store credit.

    Every surface refunds through here, so the rule holds everywhere: never more than was paid
    less what was refunded, and above the actor's limit (``oms.access.refund_limit``) only a
    supervisor pays; others ask for approval (``returns.approvals``). ``expected_amount`` is
    the figure the person confirmed; a refund that no longer matches it is refused.
    The order row is locked so that two returns of one order cannot both take the same money.
    """
    Order.objects.select_for_update().filter(pk=ret.order_id).first()
    ret = return_lock(ret)
    quote = refund_quote(ret=ret, actor=actor, method=method, shipping=shipping)
    # The transition refuses a settled return by its state before any other check speaks.
    transition_apply(ret, "refund", order=ret.order, subject=ret.subject, actor=actor, reason=quote.method)
    if quote.refusal:
        raise RefundNotAllowed(quote.refusal)
    if expected_amount is not None and Decimal(expected_amount) != quote.amount:
        raise RefundNotAllowed(
            f"The refund due is now {quote.amount:.2f} {quote.currency}, not {Decimal(expected_amount):.2f}; "
            "check it and confirm again."
        )
    refusal = refund_refusal(actor, quote.amount)
    if refusal:
        raise RefundNeedsApproval(refusal, amount=quote.amount, limit=quote.limit)
    refund = Refund.objects.create(
        order=ret.order,
        ret=ret,
        amount=quote.amount,
        currency=quote.currency,
        method=quote.method,
        allocations=quote.allocations,
        created_by=actor,
    )
    refund_requested_emit(
        order=ret.order,
        amount=quote.amount,
        currency=quote.currency,
        allocations=quote.allocations,
        return_reference=ret.reference,
    )
    return refund
