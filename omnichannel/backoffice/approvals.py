"""Refund approvals in the back office: the list of requests and a supervisor's decision on one."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from oms.access import BACK_OFFICE_ROLES, Role, is_supervisor, role_required
from returns.approvals import refund_request_approve, refund_request_reject, refund_requests
from returns.models import RefundRequest

from . import forms
from .navigation import back_to

DECISIONS = {"approve": refund_request_approve, "reject": refund_request_reject}


@role_required(*BACK_OFFICE_ROLES)
def approval_list(request):
    """Refunds waiting for a supervisor, oldest first, and the latest decisions."""
    return render(
        request,
        "backoffice/approvals.html",
        {
            "pending": list(refund_requests(status=RefundRequest.Status.PENDING)),
            "decided": list(refund_requests(status=None, limit=20)),
            "user_is_supervisor": is_supervisor(request.user),
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def approval_decide(request, pk: int, decision: str):
    """Approve (and pay) or reject one request; the supervisor returns to the page they came from."""
    decide = DECISIONS.get(decision)
    if decide is None:
        raise Http404("No such decision.")
    asked = get_object_or_404(RefundRequest.objects.select_related("order", "ret"), pk=pk)
    form = forms.RefundDecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        decided = decide(request=asked, actor=request.user, note=note)
    except DomainError as exc:
        messages.error(request, f"Nothing was changed. {staff_message(exc)}")
    else:
        what = "approved and refunded" if decided.status == RefundRequest.Status.APPROVED else "rejected"
        messages.success(request, f"Refund of {decided.amount} {decided.currency} for {asked.subject_label} {what}.")
    return back_to(request, "backoffice:approvals")
