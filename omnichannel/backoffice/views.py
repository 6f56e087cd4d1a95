"""Thin back-office pages: parse, call a selector or a service, render. Every POST is one service call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from fulfilment.interventions import order_reroute_excluding
from fulfilment.order_search import orders_search
from fulfilment.pickups import fulfilment_resend_pickup_code
from omnichannel.backoffice.navigation import back_to
from omnichannel.privacy.export import customer_access_record
from omnichannel.replicas import replica_reads
from oms.access import BACK_OFFICE_ROLES, Role, is_supervisor, refund_refusal, role_required
from oms.amounts import order_amounts
from oms.intake import OrderLineInput
from oms.models import Customer, CustomerAccess, Order
from oms.selectors import customer_ids_matching, customers_search, possible_duplicate_flagged
from oms.services import customers_merge, note_add, order_cancel, order_change_address, order_hold, order_release
from returns.approvals import refund_request_create
from returns.exceptions import RefundNeedsApproval
from returns.exchanges import return_exchange
from returns.goodwill import order_goodwill_refund_or_request
from returns.models import RefundRequest, Return
from returns.refunds import refund_quote, return_refund
from returns.requests import ReturnLineInput, return_request
from returns.selectors import returnable_quantities

from . import forms
from .selectors import customer_page, order_page
from .timeline import plain_times
from .worklist_views import worklist_tiles

back_office = role_required(*BACK_OFFICE_ROLES)


@back_office
@replica_reads
def search(request):
    """One box for every identifier: customers first (the usual goal), then their orders."""
    form = forms.SearchForm(request.GET or None)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context = {"form": form, "query": query, "search_page": True}
    if not query:
        context["tiles"] = worklist_tiles(now=timezone.now())
    if query:
        context["customers"] = list(customers_search(query=query))
        context["orders"] = list(orders_search(query=query))
    return render(request, "backoffice/search.html", context)


@back_office
def customer(request, pk: int):
    record = get_object_or_404(Customer.objects.annotate(flagged=possible_duplicate_flagged()), pk=pk)
    if record.merged_into_id:
        return redirect("backoffice:customer", pk=record.merged_into_id)
    customer_access_record(customer=record, actor=request.user, action=CustomerAccess.Action.VIEWED)
    return render(
        request,
        "backoffice/customer.html",
        {
            **customer_page(customer=record),
            "merge_form": forms.MergeForm(),
            "user_is_supervisor": is_supervisor(request.user),
        },
    )


@require_POST
@role_required(Role.SUPERVISOR)
def customer_merge(request, pk: int):
    """Fold a duplicate record into this customer; a supervisor's call, since it cannot be undone here."""
    keep = get_object_or_404(Customer, pk=pk, merged_into__isnull=True)
    form = forms.MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Name the duplicate by e-mail, phone or member number.")
        return redirect("backoffice:customer", pk=keep.pk)
    named = form.cleaned_data["other"]
    others = customer_ids_matching(query=named) - {keep.pk}
    if len(others) != 1:
        messages.error(request, f"{len(others) or 'No'} other customers match {named!r}; name exactly one.")
        return redirect("backoffice:customer", pk=keep.pk)
    try:
        customers_merge(keep=keep, merge=Customer.objects.get(pk=others.pop()), actor=request.user)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
    else:
        messages.success(request, "Customers merged: their orders and identifiers are now on this record.")
    return redirect("backoffice:customer", pk=keep.pk)


@back_office
def order(request, pk: int):
    page = order_page(pk=pk)
    if page is None:
        raise Http404("No such order.")
    for ret in page["can"]["refund"]:
        ret.refusal = refund_refusal(request.user, ret.refund_amount)
        ret.last_request = next(iter(ret.refund_requests.all()), None)
    page["user_is_supervisor"] = is_supervisor(request.user)
    return render(request, "backoffice/order.html", page)


@back_office
def refund_preview(request, pk: int, reference: str):
    """Show the amount and the tenders it goes back to; the refund happens only on confirmation.

    Above the person's limit the page offers to ask a supervisor instead.
    """
    ret = get_object_or_404(Return.objects.select_related("order"), order_id=pk, reference=reference)
    try:
        quote = refund_quote(ret=ret, actor=request.user, method=request.GET.get("method"))
    except DomainError as exc:
        messages.error(request, f"Nothing was changed. {staff_message(exc)}")
        return redirect("backoffice:order", pk=pk)
    return render(request, "backoffice/refund.html", {"order": ret.order, "ret": ret, "quote": quote})


# --- order actions -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderAction:
    """One button on the order page: the form that parses it and the service call that does it."""

    form: type[forms.OrderForm]
    run: Callable[..., str]  # (request, order, cleaned data) -> what happened, for the agent


def _hold(request, order, data) -> str:
    order = order_hold(order=order, reason=data["reason"], note=data["note"], until=data["until"], actor=request.user)
    if order.hold_until:
        return f"The order is on hold until {timezone.localtime(order.hold_until):%d %b %H:%M}, then released."
    return "The order is on hold."


def _release(request, order, data) -> str:
    order = order_release(order=order, note=data["note"], actor=request.user)
    return f"Hold released; the order is {order.get_status_display().lower()}."


def _cancel(request, order, data) -> str:
    order_cancel(order=order, reason=data["reason"], actor=request.user)
    return "The order is cancelled and its stock released."


def _cancel_lines(request, order, data) -> str:
    order = order_cancel(order=order, reason=data["reason"], lines=data["lines"], actor=request.user)
    units, amounts = sum(data["lines"].values()), order_amounts(order=order)
    refund = (
        f"refund due {amounts.refund_due} {order.currency}."
        if amounts.paid
        else "the payment was not taken yet, so nothing is due back."
    )
    total = f"{amounts.total} {order.currency}"
    return f"{units} unit(s) cancelled and their stock released. Order total now {total}; {refund}"


def _change_address(request, order, data) -> str:
    address = {key: data[key] for key in ("line1", "line2", "city", "postcode", "country") if data[key]}
    order = order_change_address(order=order, address=address, actor=request.user)
    return f"Address changed. Routing: {plain_times(order.routing.get('summary', 'not routed yet'))}"


def _reroute(request, order, data) -> str:
    location = data["location"]
    if order_reroute_excluding(order=order, location=location, reason=data["reason"], actor=request.user):
        order.refresh_from_db(fields=["routing"])
        return f"Re-routed without {location.code}: {plain_times(order.routing.get('summary', ''))}"
    return f"The plan did not change: no better place than the current one without {location.code}."


def _resend_pickup_code(request, order, data) -> str:
    fulfilment = fulfilment_resend_pickup_code(fulfilment=data["fulfilment"], actor=request.user)
    return f"The pickup code for {fulfilment.location.code} is being sent to the customer again."


def _create_return(request, order, data) -> str:
    reason = data["reason"].code if data["reason"] else ""
    lines = [ReturnLineInput(sku=code, quantity=quantity, reason=reason) for code, quantity in data["lines"]]
    ret = return_request(order=order, lines=lines, actor=request.user)
    return f"Return {ret.reference} is {ret.status}."


def _refund(request, order, data) -> str:
    ret = data["ret"]
    try:
        refund = return_refund(ret=ret, method=data["method"], actor=request.user, expected_amount=data.get("amount"))
    except RefundNeedsApproval as exc:  # only a hand-made post gets here: the page offers a request
        raise PermissionDenied(exc.message) from exc
    return f"Refunded {refund.amount} {refund.currency} for {ret.reference}."


def _refund_request(request, order, data) -> str:
    asked = refund_request_create(ret=data["ret"], method=data["method"], reason=data["reason"], actor=request.user)
    return (
        f"Approval requested for the refund of {asked.amount} {asked.currency} on {asked.ret.reference}: "
        "a supervisor must approve it before anything is paid."
    )


def _goodwill(request, order, data) -> str:
    done = order_goodwill_refund_or_request(
        order=order,
        amount=data["amount"],
        reason=data["reason"],
        method=data["method"],
        note=data["note"],
        actor=request.user,
    )
    if isinstance(done, RefundRequest):
        return (
            f"Approval requested for a goodwill refund of {done.amount} {done.currency}: a supervisor must approve it."
        )
    return f"Goodwill refund of {done.amount} {done.currency} paid."


def _exchange(request, order, data) -> str:
    ret = data["ret"]
    price = ret.lines.select_related("order_line").first().order_line.unit_price  # like for like
    ret = return_exchange(
        ret=ret, lines=[OrderLineInput(data["sku"].strip(), data["quantity"], price)], actor=request.user
    )
    return f"Replacement order {ret.exchange_order.number} placed for {ret.reference}."


def _note(request, order, data) -> str:
    note_add(order=order, text=data["text"], author=request.user, internal=data["internal"])
    if data["internal"]:
        return "Note added for the back office only."
    return "Note added; stores and channels see it on the order."


ORDER_ACTIONS = {
    "hold": OrderAction(forms.HoldForm, _hold),
    "release": OrderAction(forms.ReleaseForm, _release),
    "cancel": OrderAction(forms.CancelForm, _cancel),
    "cancel-lines": OrderAction(forms.CancelLinesForm, _cancel_lines),
    "address": OrderAction(forms.AddressForm, _change_address),
    "reroute": OrderAction(forms.RerouteForm, _reroute),
    "pickup-code": OrderAction(forms.FulfilmentChoiceForm, _resend_pickup_code),
    "return": OrderAction(forms.ReturnForm, _create_return),
    "refund": OrderAction(forms.RefundForm, _refund),
    "refund-request": OrderAction(forms.RefundRequestForm, _refund_request),
    "exchange": OrderAction(forms.ExchangeForm, _exchange),
    "goodwill": OrderAction(forms.GoodwillForm, _goodwill),
    "note": OrderAction(forms.NoteForm, _note),
}


def _form_errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label}: {' '.join(errs)}" if name in form.fields else " ".join(errs)
        for name, errs in form.errors.items()
    )


@require_POST
@back_office
def order_action(request, pk: int, action: str):
    """Run one order action; the agent comes back to the order page with what happened or why not."""
    spec = ORDER_ACTIONS.get(action)
    if spec is None:
        raise Http404("No such action.")
    target = get_object_or_404(Order.objects.prefetch_related("lines__sku", "fulfilments__location"), pk=pk)
    extra = {"returnable": returnable_quantities(order=target)} if spec.form is forms.ReturnForm else {}
    form = spec.form(request.POST, order=target, **extra)
    if not form.is_valid():
        messages.error(request, f"Nothing was changed. {_form_errors(form)}")
    else:
        try:
            messages.success(request, spec.run(request, target, form.cleaned_data))
        except DomainError as exc:
            messages.error(request, f"Nothing was changed. {staff_message(exc)}")
    return back_to(request, "backoffice:order", pk=pk)  # a worklist's button brings the agent back to the list
