"""Asking for a return: the eligibility rules, the request, and a return called off before it arrives."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import InvalidInput
from fulfilment.models import Fulfilment
from inventory.models import Channel
from oms.models import Activity, Order
from oms.transitions import transition_apply

from .exceptions import ReturnNotAllowed
from .models import Return, ReturnLine, ReturnPolicy, ReturnReason
from .selectors import returnable_quantities
from .spread import spread


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: int
    reason: str = ""


def _window_days(channel: Channel) -> Callable[[str], int]:
    """The channel's return window in days for a SKU category (its own, else the channel's, else the default),
    from one read of the channel's policies."""
    windows = dict(ReturnPolicy.objects.filter(channel=channel).values_list("category", "window_days"))
    return lambda category: windows.get(category, windows.get("", settings.OMS_RETURN_WINDOW_DAYS))


def _dispatched_at(order: Order) -> dict[int, object]:
    """When each order line last left (shipped or collected): its return window starts there."""
    return dict(
        Fulfilment.objects.filter(order=order, dispatched_at__isnull=False)
        .values_list("lines__order_line_id")
        .annotate(at=Max("dispatched_at"))
    )


@transaction.atomic
def return_request(*, order: Order, lines: list[ReturnLineInput], channel: Channel | None = None, actor=None) -> Return:
    """Open a return for an order of any channel; it is authorised at once when every rule passes.

    Refusals name the line and the rule: not on the order, final sale, outside the
    return window, or more than was dispatched and not yet returned.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)  # one return decision per order at a time
    if not lines:
        raise InvalidInput("A return needs at least one line.", errors={"lines": ["Required."]})
    order_lines = defaultdict(list)  # a SKU may be on several lines: its units fill them in line order
    for line in order.lines.select_related("sku").order_by("pk"):
        order_lines[line.sku.code].append(line)
    returnable = returnable_quantities(order=order)
    dispatched_at = _dispatched_at(order)
    window_days = _window_days(order.channel)
    reasons = ReturnReason.objects.in_bulk([ln.reason for ln in lines if ln.reason], field_name="code")
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    room, chunks = dict(returnable), []
    for i, ln in enumerate(lines):
        field = f"lines[{i}]"
        sku_lines = order_lines.get(str(ln.sku).strip())
        if not sku_lines:
            errors[f"{field}.sku"] = [f"not_on_order: {ln.sku} is not on order {order.number}."]
            continue
        if not isinstance(ln.quantity, int) or isinstance(ln.quantity, bool) or ln.quantity <= 0:
            errors[f"{field}.quantity"] = ["Must be a whole number above zero."]
            continue
        if ln.reason and ln.reason not in reasons:
            errors[f"{field}.reason"] = [f"Unknown return reason {ln.reason!r}."]
        if sku_lines[0].sku.final_sale:
            errors[f"{field}.sku"] = [f"final_sale: {ln.sku} was sold as final sale and cannot be returned."]
            continue
        window = window_days(sku_lines[0].sku.category)
        days = {ol.pk: (now - dispatched_at[ol.pk]).days for ol in sku_lines if ol.pk in dispatched_at}
        if days and min(days.values()) > window:
            errors[f"{field}.sku"] = [
                f"window: {ln.sku} left {min(days.values())} days ago; the window is {window} days."
            ]
            continue
        open_lines = [ol for ol in sku_lines if days.get(ol.pk, 0) <= window]
        taken = spread(ln.quantity, ((ol, room.get(ol.pk, 0)) for ol in open_lines))
        if sum(n for _, n in taken) < ln.quantity:
            left = sum(returnable.get(ol.pk, 0) for ol in open_lines)
            errors[f"{field}.quantity"] = [
                f"over_quantity: {left} of {ln.sku} can be returned "
                "(dispatched, less what is already returned or in an open return)."
            ]
            continue
        for ol, n in taken:
            room[ol.pk] -= n
            chunks.append(ReturnLine(order_line=ol, sku=ol.sku, quantity=n, reason=reasons.get(ln.reason)))
    if errors:
        raise ReturnNotAllowed("The return breaks a return rule.", errors=errors)
    ret = Return.objects.create(order=order, channel=channel or order.channel, created_by=actor)
    for chunk in chunks:
        chunk.ret = ret
    ReturnLine.objects.bulk_create(chunks)
    Activity.objects.create(
        order=order,
        subject=ret.subject,
        action="request",
        to_state=ret.status,
        actor=actor,
        reason=f"via {ret.channel.code}",
    )
    transition_apply(ret, "authorise", order=order, subject=ret.subject, actor=actor, reason="within the return rules")
    return ret


def return_lock(ret: Return) -> Return:
    """Lock the return only: the order and channel joined for reading stay free for checkouts."""
    return Return.objects.select_for_update(of=("self",)).select_related("order", "order__channel").get(pk=ret.pk)


@transaction.atomic
def return_cancel(*, ret: Return, actor=None, reason: str = "") -> Return:
    ret = return_lock(ret)
    transition_apply(ret, "cancel", order=ret.order, subject=ret.subject, actor=actor, reason=reason)
    return ret


@transaction.atomic
def return_reject(*, ret: Return, actor=None, reason: str) -> Return:
    ret = return_lock(ret)
    transition_apply(ret, "reject", order=ret.order, subject=ret.subject, actor=actor, reason=reason)
    return ret
