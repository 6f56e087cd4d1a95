"""Refund approvals: a refund above the requester's limit waits here until a supervisor decides.

A request is for a return's refund or for a goodwill refund without a return
(``returns.goodwill``); both are decided here, the same way, by the same people.

Nothing is paid on request. Approval pays through ``return_refund`` — the one refund rule —
which checks again that the amount is still due; rejection pays nothing. Each step is on
the order's timeline, so the requester and everyone else see the outcome.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from oms.access import is_supervisor
from oms.models import Activity, Order

from .exceptions import RefundNeedsApproval, RefundNotAllowed
from .goodwill import order_goodwill_refund
from .models import Refund, RefundRequest, Return
from .refunds import refund_quote, return_refund

Status = RefundRequest.Status


class RefundDecisionNotAllowed(Conflict):
    """The request was decided already, or the person may not decide it."""


def _record(request: RefundRequest, action: str, actor, reason: str) -> None:
    Activity.objects.create(
        order_id=request.order_id,
        subject=request.ret.subject if request.ret_id else "order",
        action=action,
        to_state=request.status,
        actor=actor,
        reason=reason[:255],
    )


@transaction.atomic
def refund_request_create(
    *, ret: Return, actor, method: str | None = None, reason: str = "", shipping: Decimal = Decimal(0)
) -> RefundRequest:
    """Ask a supervisor to approve a refund above the requester's limit; nothing is paid yet.

    The order and return rows are locked as for a refund, so the request is checked against
    the same figures: due now, not above what was paid less refunds, not asked twice.
    """
    Order.objects.select_for_update().filter(pk=ret.order_id).first()
    ret = Return.objects.select_for_update().select_related("order").get(pk=ret.pk)
    quote = refund_quote(ret=ret, actor=actor, method=method, shipping=shipping)
    if quote.refusal:
        raise RefundNotAllowed(quote.refusal)
    if not quote.needs_approval:
        raise RefundNotAllowed(f"{quote.amount:.2f} {quote.currency} is within your limit: refund it yourself.")
    request = RefundRequest.objects.create(
        order=ret.order,
        ret=ret,
        amount=quote.amount,
        currency=quote.currency,
        method=quote.method,
        shipping=shipping,
        allocations=quote.allocations,
        reason=reason.strip()[:255],
        requested_by=actor,
    )
    _record(request, "refund_request", actor, f"{quote.summary}; waiting for a supervisor")
    return request


def _decidable(request: RefundRequest, actor) -> RefundRequest:
    """The request row, locked after its order and return (the order ``return_refund`` locks in)."""
    if not is_supervisor(actor):
        raise RefundDecisionNotAllowed("Only a supervisor can approve or reject a refund request.")
    Order.objects.select_for_update().filter(pk=request.order_id).first()
    if request.ret_id:
        Return.objects.select_for_update().filter(pk=request.ret_id).first()
    locked = (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("order", "ret", "decided_by")
        .get(pk=request.pk)
    )
    if locked.status != Status.PENDING:
        by = f" by {locked.decided_by}" if locked.decided_by else ""
        raise RefundDecisionNotAllowed(f"This refund request was already {locked.status}{by}; nothing was changed.")
    return locked


@transaction.atomic
def refund_request_approve(*, request: RefundRequest, actor, note: str = "") -> RefundRequest:
    """Approve and pay the refund through the refund service, once however often it is clicked.

    The request row is locked, so a second approval (another supervisor, a double click)
    waits and then finds it decided. The refund is checked again: refused when the return
    was settled meanwhile or the amount is no longer due, and the request stays pending.
    """
    request = _decidable(request, actor)
    request.status, request.decided_by, request.decided_at = Status.APPROVED, actor, timezone.now()
    request.decision_note = note.strip()[:255]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    try:
        if request.ret_id:
            refund: Refund = return_refund(
                ret=request.ret,
                actor=actor,
                method=request.method,
                shipping=request.shipping,
                expected_amount=request.amount,
            )
        else:
            refund = order_goodwill_refund(
                order=request.order,
                amount=request.amount,
                reason=request.goodwill_reason,
                method=request.method,
                note=request.reason,
                actor=actor,
                approved=True,
            )
    except RefundNeedsApproval as exc:  # a supervisor has no limit; kept for a changed role model
        raise RefundDecisionNotAllowed(exc.message) from exc
    request.refund = refund
    request.save(update_fields=["refund"])
    _record(
        request, "refund_approve", actor, f"{request.amount:.2f} {request.currency} refunded. {request.decision_note}"
    )
    return request


@transaction.atomic
def refund_request_reject(*, request: RefundRequest, actor, note: str) -> RefundRequest:
    """Refuse the refund; nothing is paid and the return can be refunded or requested again."""
    if not note.strip():
        raise InvalidInput("Say why the refund is rejected.", errors={"note": ["Say why the refund is rejected."]})
    request = _decidable(request, actor)
    request.status, request.decided_by, request.decided_at = Status.REJECTED, actor, timezone.now()
    request.decision_note = note.strip()[:255]
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    _record(request, "refund_reject", actor, request.decision_note)
    return request


def _with_what_lists_show() -> QuerySet[RefundRequest]:
    return RefundRequest.objects.select_related("order", "ret", "requested_by", "decided_by")


def refund_requests_pending() -> QuerySet[RefundRequest]:
    """Every request waiting for a supervisor, oldest first: the approvals page and the worklist read this."""
    return _with_what_lists_show().filter(status=Status.PENDING).order_by("requested_at", "pk")


def refund_requests(*, status: str | None = Status.PENDING, limit: int = 100) -> QuerySet[RefundRequest]:
    """Refund requests with what the approval list shows, oldest pending first."""
    if status == Status.PENDING:
        return refund_requests_pending()[:limit]
    return _with_what_lists_show().exclude(status=Status.PENDING).order_by("-decided_at", "-pk")[:limit]
