"""Return-side reads."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import Greatest

from fulfilment.models import Fulfilment
from fulfilment.order_search import orders_search
from inventory.models import Channel
from oms.models import Order, OrderLine

from .models import RefundRequest, Return, ReturnLine


def return_list(*, channel: Channel | None) -> QuerySet[Return]:
    """Returns with their lines: those of a channel's orders or requested through it, or every one."""
    returns = Return.objects.select_related("order", "channel").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("sku", "reason"))
    )
    return returns if channel is None else returns.filter(Q(order__channel=channel) | Q(channel=channel))


def return_get(*, pk: int, channel: Channel | None) -> Return:
    return return_list(channel=channel).get(pk=pk)


# --- what can still be returned, and what came back ---------------------------------------


def returnable_quantities(*, order: Order) -> dict[int, int]:
    """Units per order line that may still be returned: dispatched or collected, less open and done returns."""
    dispatched = Counter()
    for line_id, quantity in (
        Fulfilment.objects.filter(order=order, status__in=Fulfilment.DISPATCHED)
        .values_list("lines__order_line_id")
        .annotate(n=Sum("lines__quantity"))
    ):
        dispatched[line_id] += quantity or 0
    # A return takes the units it asked for, or those that arrived if the parcel held more:
    # units booked in (and refunded) once can never be returned again.
    taken = dict(
        ReturnLine.objects.filter(ret__order=order)
        .exclude(ret__status__in=Return.VOID)
        .values_list("order_line_id")
        .annotate(n=Sum(Greatest("quantity", F("resellable_quantity") + F("damaged_quantity"))))
    )
    return {line_id: max(0, n - taken.get(line_id, 0)) for line_id, n in dispatched.items()}


def received_value(lines) -> Decimal:
    """What the received units of these return lines (with their order lines) were sold for."""
    return sum((rl.order_line.unit_price * rl.received_quantity for rl in lines), Decimal(0))


def return_value(ret: Return) -> Decimal:
    """What the return's received units were sold for: what a refund of it pays, shipping aside."""
    return received_value(ret.lines.select_related("order_line"))


# --- the returns desk ------------------------------------------------------------------

RETURN_REFERENCE = re.compile(r"^R-[A-Z0-9]{8}$", re.IGNORECASE)


@dataclass(frozen=True)
class DeskSearch:
    """What the code at the counter found: a return by its reference, or orders of any channel."""

    ret: Return | None
    orders: list[Order]


def desk_search(*, query: str, limit: int = 20) -> DeskSearch:
    """Find by return reference (R-XXXXXXXX) first, then by anything an order can be found by."""
    query = query.strip()
    if RETURN_REFERENCE.match(query):
        ret = Return.objects.filter(reference=query.upper()).first()
        if ret is not None:
            return DeskSearch(ret, [])
    return DeskSearch(None, list(orders_search(query=query, limit=limit)))


@dataclass(frozen=True)
class ReturnableLine:
    order_line: OrderLine
    returnable: int


@dataclass(frozen=True)
class DeskOrder:
    order: Order
    lines: list[ReturnableLine]
    returns: list[Return]

    @property
    def anything_returnable(self) -> bool:
        return any(line.returnable for line in self.lines)


def desk_order(*, pk: int) -> DeskOrder:
    """An order of any channel with what each line may still return and its returns so far."""
    order = Order.objects.select_related("channel", "customer").get(pk=pk)
    returnable = returnable_quantities(order=order)
    lines = [ReturnableLine(ol, returnable.get(ol.pk, 0)) for ol in order.lines.select_related("sku").order_by("pk")]
    return DeskOrder(order, lines, list(order.returns.select_related("received_location").order_by("-created_at")))


def desk_return(*, reference: str) -> Return:
    """One return with everything its desk page and receipt show."""
    lines = ReturnLine.objects.select_related("sku", "reason", "order_line").order_by("pk")
    return (
        Return.objects.select_related(
            "order",
            "order__customer",
            "channel",
            "received_location",
            "exchange_order",
            "refund_record__approval_request__decided_by",
        )
        .prefetch_related(
            Prefetch("lines", queryset=lines),
            "exceptions",
            Prefetch(
                "refund_requests",
                queryset=RefundRequest.objects.select_related("requested_by", "decided_by").order_by("-pk"),
            ),
        )
        .get(reference=reference.upper())
    )
