"""Services the back office adds: re-route without a location, resend a pickup code."""

import pytest

from core.errors import InvalidInput
from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.interventions import order_reroute_excluding
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_ready, fulfilment_resend_pickup_code
from oms.models import Activity, OutboxEvent
from tests.orders_support import place


def test_reroute_excluding_moves_the_order_and_records_why(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    network.stock(network.camden, sku, 2)
    order = place(network, [(sku, 1)])
    assert order.fulfilments.get().location == network.soho
    assert order_reroute_excluding(order=order, location=network.soho, reason="store closed early") is True
    live = order.fulfilments.exclude(status=Fulfilment.Status.CANCELLED).get()
    assert live.location == network.camden
    assert network.level(network.soho, sku).reserved == 0
    assert network.level(network.camden, sku).reserved == 1
    record = Activity.objects.get(order=order, action="reroute")
    assert "without ST-SOHO (store closed early)" in record.reason and "ST-CAMDEN" in record.reason


def test_reroute_excluding_an_unused_location_changes_nothing(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    order = place(network, [(sku, 1)])
    assert order_reroute_excluding(order=order, location=network.leeds, reason="far away") is False
    assert order.fulfilments.get().status == Fulfilment.Status.PENDING
    assert not Activity.objects.filter(order=order, action="reroute").exists()


def test_reroute_needs_a_reason_and_a_routed_order(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    order = place(network, [(sku, 1)])
    with pytest.raises(InvalidInput, match="Say why"):
        order_reroute_excluding(order=order, location=network.soho, reason=" ")
    fulfilment_accept(fulfilment=order.fulfilments.get())
    fulfilment_pick(fulfilment=order.fulfilments.get(), picked={sku.code: 1})
    with pytest.raises(InvalidInput, match="Work has started"):
        order_reroute_excluding(order=order, location=network.soho, reason="too slow")
    assert order.fulfilments.get().location == network.soho


def test_resend_pickup_code_announces_the_code_once_more(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    fulfilment = order.fulfilments.get()
    with pytest.raises(InvalidInput, match="only while it waits"):
        fulfilment_resend_pickup_code(fulfilment=fulfilment)
    fulfilment_accept(fulfilment=fulfilment)
    fulfilment_pick(fulfilment=fulfilment, picked={sku.code: 1})
    fulfilment = fulfilment_ready(fulfilment=fulfilment)
    fulfilment_resend_pickup_code(fulfilment=fulfilment)
    event = OutboxEvent.objects.get(type="fulfilment.pickup_code_resent")
    assert event.data["pickup_code"] == fulfilment.pickup_code and event.data["store"] == "ST-SOHO"
    assert Activity.objects.filter(order=order, action="resend_pickup_code").count() == 1
