"""The returns desk: find an order of any channel, take the goods back here, refund or exchange, print a receipt.

Views parse the form, call the returns services and redirect; a refusal becomes one
message on the same page and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError, InvalidInput
from core.staff_messages import staff_message
from fulfilment.views.common import store_page
from inventory.quantities import QuantityField
from inventory.selectors import store_channel
from oms.intake import OrderLineInput
from oms.models import Order

from .approvals import refund_request_create
from .exchanges import return_exchange
from .models import Return, ReturnLine, ReturnReason
from .receiving import ReceivedLine, return_inspect, return_receive
from .refunds import refund_quote, return_refund
from .requests import ReturnLineInput, return_request
from .selectors import desk_order, desk_return, desk_search

Condition = ReturnLine.Condition
DESK_CONDITIONS = [Condition.RESELLABLE, Condition.DAMAGED]


def _units(value: str | None) -> int | None:
    """A typed unit count, or None when it is not a whole number of zero or more within the stock bound."""
    field = QuantityField(required=False)
    try:
        units = field.clean((value or "").strip())
    except ValidationError:
        return None
    return units or 0


def _receive_here(*, ret: Return, store, lines: list[ReceivedLine], actor) -> None:
    # The person at the counter sees the goods as they take them: the condition they
    # choose is the inspection, so both are booked together or not at all.
    with transaction.atomic():
        return_receive(ret=ret, location=store, lines=lines, actor=actor)
        return_inspect(ret=ret, actor=actor, note="condition checked at the returns desk")


@store_page
def desk(request, store):
    """Scan or type what the customer brings; one match opens straight away."""
    query = request.GET.get("q", "").strip()
    found = desk_search(query=query) if query else None
    if found and found.ret:
        return redirect("store:return", code=store.code, reference=found.ret.reference)
    if found and len(found.orders) == 1:
        return redirect("store:return_order", code=store.code, order_id=found.orders[0].pk)
    return render(request, "store/returns/desk.html", {"store": store, "query": query, "found": found})


@store_page
def order_detail(request, store, order_id: int):
    """Choose the lines, quantities and condition of what comes back, and book it in here."""
    try:
        picture = desk_order(pk=order_id)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None
    reasons = ReturnReason.objects.filter(active=True)
    if request.method == "POST":
        requested, received, bad = [], [], []
        for line in picture.lines:
            key = line.order_line.pk
            quantity = _units(request.POST.get(f"quantity-{key}"))
            condition = request.POST.get(f"condition-{key}", Condition.RESELLABLE)
            if quantity is not None and quantity > line.returnable and condition in DESK_CONDITIONS:
                bad.append(f"{line.order_line.sku.code}: only {line.returnable} can be returned")
            elif quantity is None or condition not in DESK_CONDITIONS:
                bad.append(line.order_line.sku.code)
            elif quantity:
                code = line.order_line.sku.code
                requested.append(ReturnLineInput(code, quantity, request.POST.get(f"reason-{key}", "")))
                received.append(ReceivedLine(code, quantity, condition))
        if bad:
            messages.error(request, f"Check the quantity and condition of {', '.join(bad)}.")
        elif not requested:
            messages.error(request, "Choose how many of at least one item the customer is returning.")
        else:
            try:
                with transaction.atomic():  # a return opened at the desk exists only once its goods are in
                    ret = return_request(
                        order=picture.order, lines=requested, channel=store_channel(), actor=request.user
                    )
                    _receive_here(ret=ret, store=store, lines=received, actor=request.user)
            except DomainError as exc:
                messages.error(request, staff_message(exc))
            else:
                messages.success(request, f"Return {ret.reference} received into {store.name}'s stock.")
                return redirect("store:return", code=store.code, reference=ret.reference)
        status = 400
    else:
        status = 200
    context = {"store": store, "picture": picture, "reasons": reasons, "conditions": DESK_CONDITIONS}
    return render(request, "store/returns/order.html", context, status=status)


def _return_here(reference: str, store, *, received_here: bool = False) -> Return:
    """The return named in the URL; once received, only the store that took it may settle or print it."""
    try:
        ret = desk_return(reference=reference)
    except Return.DoesNotExist:
        raise Http404("No such return.") from None
    if received_here and ret.received_location_id != store.pk:
        raise Http404("This return was received at another location.")
    return ret


@store_page
def return_detail(request, store, reference: str):
    """An expected return: book the parcel in. A received one: refund or exchange. A settled one: its receipt."""
    ret = _return_here(reference, store)
    if ret.status in (Return.Status.REFUNDED, Return.Status.EXCHANGED, Return.Status.CLOSED):
        return redirect("store:return_receipt", code=store.code, reference=ret.reference)
    if ret.received_location_id not in (None, store.pk):
        raise Http404("This return was received at another location.")
    status = 200
    if request.method == "POST":
        lines, bad = [], []
        for rl in ret.lines.all():
            quantity = _units(request.POST.get(f"quantity-{rl.pk}"))
            condition = request.POST.get(f"condition-{rl.pk}", Condition.RESELLABLE)
            if quantity is None or condition not in DESK_CONDITIONS:
                bad.append(rl.sku.code)
            elif quantity:
                lines.append(ReceivedLine(rl.sku.code, quantity, condition))
        if bad:
            messages.error(request, f"Check the quantity and condition of {', '.join(bad)}.")
        else:
            try:
                _receive_here(ret=ret, store=store, lines=lines, actor=request.user)
            except DomainError as exc:
                messages.error(request, staff_message(exc))
            else:
                messages.success(request, f"Return {ret.reference} received into {store.name}'s stock.")
                return redirect("store:return", code=store.code, reference=ret.reference)
        status = 400
    context = {
        "store": store,
        "ret": ret,
        "conditions": DESK_CONDITIONS,
        "refund_methods": Return.RefundMethod.choices,
    }
    return render(request, "store/returns/return.html", context, status=status)


@store_page
def refund_preview(request, store, reference: str):
    """Show the amount and the tenders it goes back to; the refund happens only on confirmation.

    Above the person's limit the page offers to ask a supervisor instead.
    """
    ret = _return_here(reference, store, received_here=True)
    method = request.GET.get("method") or ret.refund_method
    try:
        quote = refund_quote(ret=ret, actor=request.user, method=method)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return redirect("store:return", code=store.code, reference=ret.reference)
    return render(request, "store/returns/refund.html", {"store": store, "ret": ret, "quote": quote})


def _confirmed_amount(value: str | None) -> Decimal | None:
    """The amount the person saw on the confirmation page, when the form carries it."""
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        raise InvalidInput("The confirmed amount is not a number.", errors={"amount": ["Not a number."]}) from None


@require_POST
@store_page
def settle(request, store, reference: str):
    """Refund the received goods, ask a supervisor to approve the refund, or exchange them here."""
    ret = _return_here(reference, store, received_here=True)
    action = request.POST.get("action")
    try:
        if action == "exchange":
            replacements = [
                OrderLineInput(
                    request.POST.get(f"replacement-{rl.pk}", "").strip() or rl.sku.code,
                    rl.received_quantity,
                    rl.order_line.unit_price,
                )
                for rl in ret.lines.all()
                if rl.received_quantity
            ]
            return_exchange(ret=ret, lines=replacements, actor=request.user, hand_over_at=store)
        elif action == "request":
            asked = refund_request_create(
                ret=ret,
                actor=request.user,
                method=request.POST.get("method"),
                reason=request.POST.get("reason", "")[:255],
            )
            messages.success(
                request,
                f"Approval requested: a supervisor must approve the refund of {asked.amount} {asked.currency} "
                "before anything is paid.",
            )
            return redirect("store:return", code=store.code, reference=ret.reference)
        else:
            return_refund(
                ret=ret,
                actor=request.user,
                method=request.POST.get("method"),
                expected_amount=_confirmed_amount(request.POST.get("amount")),
            )
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return redirect("store:return", code=store.code, reference=ret.reference)
    return redirect(reverse("store:return_receipt", kwargs={"code": store.code, "reference": ret.reference}))


@store_page
def receipt(request, store, reference: str):
    """The customer's proof of return: what came back, in what condition, and the money or replacement."""
    ret = _return_here(reference, store, received_here=True)
    return render(request, "store/returns/receipt.html", {"store": store, "ret": ret})
