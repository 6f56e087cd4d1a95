"""A network with one case of every exception the worklists show, arranged through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_decline, fulfilment_pack, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_ready
from oms.models import Order, OutboxEvent, WebhookDelivery, WebhookEndpoint
from oms.services import order_hold
from returns.approvals import refund_request_create
from tests.factories import SkuFactory
from tests.orders_support import place
from tests.returns.support import received_return


def CARD(amount: str) -> dict:  # noqa: N802 - reads as the tender it makes
    return {"type": "card", "amount": amount, "reference": f"PAY-{amount}"}


@dataclass
class Exceptions:
    payment_hold: Order
    fraud_hold: Order
    backordered: Order
    declined_twice: Order
    overdue: Order
    expiring_pickup: Order
    fresh_pickup: Order


def bare_order(network, external_id: str) -> Order:
    """A placed order not routed yet: the only kind that can be put on hold."""
    order = Order.objects.create(
        channel=network.web, external_id=external_id, currency="GBP", method="delivery", lat=51.5, lon=-0.12
    )
    order.lines.create(sku=network.skus[2], quantity=1, unit_price="5.00")
    return order


def _ready_pickup(network, external_id: str, sku, ready_days_ago: float) -> Order:
    network.stock(network.camden, sku, 1)
    order = place(network, [(sku, 1)], external_id=external_id, method="pickup", store=network.camden)
    parcel = order.fulfilments.get()
    fulfilment_accept(fulfilment=parcel)
    fulfilment_pick(fulfilment=parcel, picked={sku.code: 1})
    fulfilment_pack(fulfilment=parcel)
    fulfilment_ready(fulfilment=parcel)
    Fulfilment.objects.filter(pk=parcel.pk).update(ready_at=timezone.now() - timedelta(days=ready_days_ago))
    return order


def arrange_exceptions(network, user) -> Exceptions:
    a, b, c = network.skus
    payment_hold = place(network, [(c, 1)], external_id="WL-PAY", payment_status="pending")
    fraud_hold = bare_order(network, "WL-FRAUD")
    order_hold(order=fraud_hold, reason="fraud", until=timezone.now() + timedelta(hours=2))

    # A SKU of its own: stock the other orders bring in would otherwise fill this backorder.
    waiting = SkuFactory()
    network.stock(network.leeds, waiting, 1)
    backordered = place(network, [(waiting, 1)], external_id="WL-BACK")
    fulfilment_decline(fulfilment=backordered.fulfilments.get(), reason_code="damaged")

    network.stock(network.soho, b, 1)
    network.stock(network.camden, b, 1)
    declined_twice = place(network, [(b, 1)], external_id="WL-TWICE")
    fulfilment_decline(fulfilment=declined_twice.fulfilments.get(), reason_code="damaged")
    fulfilment_decline(fulfilment=declined_twice.fulfilments.get(status="pending"), reason_code="not_in_stock")

    network.stock(network.soho, c, 1)
    overdue = place(network, [(c, 1)], external_id="WL-LATE")
    Fulfilment.objects.filter(order=overdue).update(created_at=timezone.now() - timedelta(hours=6))
    network.stock(network.soho, c, 1)
    place(network, [(c, 1)], external_id="WL-ONTIME")

    expiring_pickup = _ready_pickup(network, "WL-PICK-OLD", c, ready_days_ago=6.5)
    fresh_pickup = _ready_pickup(network, "WL-PICK-NEW", c, ready_days_ago=1)

    received_return(network, unit_price="10.00", units=1, external_id="WL-RET", tenders=[CARD("10.00")])
    waiting = received_return(network, unit_price="150.00", units=1, external_id="WL-APPROVE", tenders=[CARD("150.00")])
    refund_request_create(ret=waiting, actor=user, reason="parcel lost in the post")

    failing = WebhookEndpoint.objects.create(channel=network.web, url="https://shop.example/hooks")
    healthy = WebhookEndpoint.objects.create(channel=network.web, url="https://erp.example/hooks")
    event = OutboxEvent.objects.create(type="order.updated", channel=network.web, data={})
    WebhookDelivery.objects.create(event=event, endpoint=failing, status="failed", attempts=10)
    WebhookDelivery.objects.create(event=event, endpoint=healthy, status="delivered", attempts=1)
    return Exceptions(payment_hold, fraud_hold, backordered, declined_twice, overdue, expiring_pickup, fresh_pickup)
