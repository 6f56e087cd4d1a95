"""What the back office shows of store operations: till sales taking units, deadlines, pauses."""

from datetime import timedelta

import pytest
from django.urls import reverse

from fulfilment.sales import SaleInput, sale_record
from fulfilment.store_ops import fulfilments_reroute_unaccepted, store_pause
from oms.intake import OrderLineInput
from oms.models import StaffProfile
from tests.factories import ChannelFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_the_timeline_says_a_till_sale_took_the_unit_and_where_the_order_went(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    web = place(network, [(sku, 1)])
    till = ChannelFactory(code="tills", kind="store")
    sale_record(
        data=SaleInput(
            channel=till, store="ST-SOHO", external_id="TILL-1-0001", lines=[OrderLineInput(sku.code, 1, "5")]
        )
    )
    login(StaffProfile.Role.AGENT)
    page = client.get(reverse("backoffice:order", args=[web.pk])).content.decode()
    assert f"{network.soho.name} sold units of this order at the till" in page
    assert f"Sent to {network.camden.name} instead" in page


def test_the_timeline_says_a_store_missed_its_deadline_and_where_the_work_went(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    order = place(network, [(sku, 1)])
    late = order.fulfilments.get()
    fulfilments_reroute_unaccepted(now=late.accept_by + timedelta(seconds=1))
    login(StaffProfile.Role.AGENT)
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    assert f"{network.soho.name} did not accept the work in time (not accepted by" in page
    assert f"Sent to {network.camden.name} instead" in page


def test_the_routing_explanation_shows_a_paused_store_and_why(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    store_pause(store=network.soho, minutes=30, reason="Fire drill")
    order = place(network, [(sku, 1)])
    login(StaffProfile.Role.AGENT)
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    assert "Fire drill" in page and "paused until" in page
