"""What the back-office pages show, read in a fixed number of queries whatever the order's size.

These compose the apps' own selectors; they live here because a page spans orders,
fulfilments and returns, which no single app may see together.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from django_fsm import can_proceed

from fulfilment.models import Fulfilment, FulfilmentLine
from inventory.models import Location
from oms.amounts import order_amounts
from oms.models import Customer, Note, Order, OrderLine
from oms.selectors import customer_merged_records, customer_possible_duplicates, customer_summary, order_timeline
from returns.models import RefundRequest, Return, ReturnLine
from returns.selectors import received_value, returnable_quantities

from . import forms
from .timeline import order_story, plain_times

REROUTABLE = (Fulfilment.Status.PENDING, Fulfilment.Status.ACCEPTED)
REFUNDABLE = (Return.Status.RECEIVED, Return.Status.INSPECTED)


def _returns():
    return Return.objects.select_related(
        "order", "channel", "received_location", "refund_record", "exchange_order"
    ).prefetch_related(Prefetch("lines", queryset=ReturnLine.objects.select_related("sku", "order_line")))


def customer_page(*, customer: Customer) -> dict:
    """Identity, every order and return of every channel, lifetime value, preferred store and notes."""
    orders = list(
        Order.objects.filter(customer=customer)
        .select_related("channel", "pickup_location")
        .prefetch_related(Prefetch("fulfilments", queryset=Fulfilment.objects.select_related("location")))
    )
    returns = list(_returns().filter(order__customer=customer))
    summary = customer_summary(customer=customer, order_count=len(orders))
    refunded: dict[str, Decimal] = {}
    for ret in returns:
        refund = getattr(ret, "refund_record", None)
        if refund is not None:
            refunded[refund.currency] = refunded.get(refund.currency, Decimal(0)) + refund.amount
    lifetime = {currency: amount - refunded.get(currency, 0) for currency, amount in summary.spent.items()}
    return {
        "customer": customer,
        "merged": customer_merged_records(customer=customer),
        "possible_duplicates": customer_possible_duplicates(customer=customer),
        "orders": orders,
        "returns": returns,
        "summary": summary,
        "lifetime_value": lifetime,
        "channels": sorted({o.channel.name for o in orders}),
        "notes": list(Note.objects.filter(order__customer=customer).select_related("order", "author")),
    }


def order_page(*, pk: int) -> dict | None:
    """The order with its lines, fulfilments, routing explanation, returns, timeline and the actions open now."""
    order = (
        Order.objects.select_related("channel", "customer", "pickup_location")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku")),
            Prefetch(
                "fulfilments",
                queryset=Fulfilment.objects.select_related("location", "source_location").prefetch_related(
                    Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku"))
                ),
            ),
        )
        .filter(pk=pk)
        .first()
    )
    if order is None:
        return None
    fulfilments = list(order.fulfilments.all())
    live = [f for f in fulfilments if f.status not in Fulfilment.INACTIVE]
    requests = RefundRequest.objects.select_related("requested_by", "decided_by").order_by("-pk")
    returns = list(_returns().filter(order=order).prefetch_related(Prefetch("refund_requests", queryset=requests)))
    for ret in returns:
        ret.refund_amount = received_value(ret.lines.all())  # the lines are prefetched
    returnable = returnable_quantities(order=order)
    routing = order.routing or {}
    if routing.get("summary"):
        routing = {**routing, "summary": plain_times(routing["summary"])}
    excluded_ids = (routing.get("request") or {}).get("excluded") or []
    routed = order.status in (Order.Status.ALLOCATED, Order.Status.BACKORDERED, Order.Status.IN_FULFILMENT)
    address = order.address or {}
    lines = list(order.lines.all())
    return {
        "order": order,
        "lines": lines,
        "amounts": order_amounts(order=order, lines=lines),
        "fulfilments": fulfilments,
        "routing": routing,
        "excluded": list(Location.objects.filter(pk__in=excluded_ids).values_list("code", flat=True))
        if excluded_ids
        else [],
        "returns": returns,
        "timeline": order_story(
            order=order, entries=order_timeline(order=order, deliveries=True), fulfilments=fulfilments, returns=returns
        ),
        "can": {
            "hold": can_proceed(order.hold),
            "release": can_proceed(order.release),
            "cancel": order.status in Order.BEFORE_DISPATCH,
            # Backordered units can be cancelled at any time, even after other parts were dispatched.
            "cancel_lines": order.status in Order.BEFORE_DISPATCH or any(line.backordered for line in lines),
            "address": order.method == Order.Method.DELIVERY and order.status in Order.BEFORE_DISPATCH,
            "reroute": routed and bool(live) and all(f.status in REROUTABLE for f in live),
            "pickup_code": any(f.status == Fulfilment.Status.READY_FOR_PICKUP for f in fulfilments),
            "return": any(returnable.values()),
            "refund": [r for r in returns if r.status in REFUNDABLE],
        },
        "forms": {
            # Own ids: the hold, release and cancel forms share field names on one page.
            "hold": forms.HoldForm(order=order, auto_id="hold-%s"),
            "release": forms.ReleaseForm(order=order, auto_id="release-%s"),
            "cancel": forms.CancelForm(order=order),
            "cancel_lines": forms.CancelLinesForm(order=order),
            "address": forms.AddressForm(order=order, initial=address),
            "reroute": forms.RerouteForm(order=order),
            "pickup_code": forms.FulfilmentChoiceForm(order=order),
            "return": forms.ReturnForm(order=order, returnable=returnable),
            "note": forms.NoteForm(order=order),
            "goodwill": forms.GoodwillForm(order=order, auto_id="goodwill-%s"),
        },
    }
