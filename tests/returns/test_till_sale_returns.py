"""A till sale can come back anywhere: at another store's desk or through an agent, refunded to its tenders."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fulfilment.sales import SaleInput, sale_record
from inventory.models import StockMovement
from oms.intake import OrderLineInput
from oms.models import StaffProfile
from oms.services import staff_create
from returns.models import Return
from returns.receiving import ReceivedLine, return_receive
from tests.conftest import store_staff_client
from tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def till_sale(network):
    till = ChannelFactory(code="tills", kind="store")
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    order, _ = sale_record(
        data=SaleInput(
            channel=till,
            store=network.soho.code,
            external_id="TILL-3-000123",
            lines=[OrderLineInput(sku.code, 2, "12.50")],
            customer={"email": "walkin@example.com", "name": "Wanda Walkin"},
            tenders=[{"type": "card", "amount": "25.00", "reference": "AUTH-77"}],
        )
    )
    return order


def test_a_till_sale_returned_at_another_store_restocks_that_store_and_refunds_the_card(network, till_sale):
    sku = network.skus[0]
    camden = store_staff_client(network.camden, "cam")
    desk = f"/store/{network.camden.code}/returns/"
    found = camden.get(desk, {"q": "TILL-3-000123"})  # the receipt number on the till slip
    assert found.status_code == 302 and found.url == f"{desk}order/{till_sale.pk}/"
    line = till_sale.lines.get()
    response = camden.post(found.url, {f"quantity-{line.pk}": "1", f"condition-{line.pk}": "resellable"})
    assert response.status_code == 302, response.content.decode()
    ret = Return.objects.get()
    assert ret.received_location == network.camden
    assert network.level(network.camden, sku).on_hand == 1  # back on the shelf where it came in
    assert network.level(network.soho, sku).on_hand == 1  # the selling store keeps its sale
    settled = camden.post(f"{desk}{ret.reference}/settle/", {"action": "refund", "method": "original_tenders"})
    assert settled.status_code == 302 and settled.url.endswith("/receipt/")
    ret.refresh_from_db()
    assert ret.status == Return.Status.REFUNDED
    assert ret.refund_record.allocations == [{"type": "card", "reference": "AUTH-77", "amount": "12.50"}]


def test_an_agent_takes_back_a_till_sale_in_the_back_office(client, network, till_sale):
    agent = staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    line = till_sale.lines.get()
    url = reverse("backoffice:order_action", args=[till_sale.pk, "return"])
    page = client.post(url, {f"line_{line.pk}": "2"}, follow=True).content.decode()
    ret = Return.objects.get()
    assert f"Return {ret.reference} is" in page
    return_receive(
        ret=ret, location=network.warehouse, lines=[ReceivedLine(network.skus[0].code, 2, "resellable")], actor=agent
    )
    client.post(
        reverse("backoffice:order_action", args=[till_sale.pk, "refund"]),
        {"ret": ret.reference, "method": "original_tenders"},
    )
    ret.refresh_from_db()
    assert ret.status == Return.Status.REFUNDED
    assert ret.refund_record.allocations == [{"type": "card", "reference": "AUTH-77", "amount": "25.00"}]
    assert StockMovement.objects.filter(reference=ret.reference, stock_level__location=network.warehouse).exists()


def test_the_customer_page_shows_the_till_sale_and_its_return(client, network, till_sale):
    camden = store_staff_client(network.camden, "cam")
    line = till_sale.lines.get()
    camden.post(
        f"/store/{network.camden.code}/returns/order/{till_sale.pk}/",
        {f"quantity-{line.pk}": "1", f"condition-{line.pk}": "resellable"},
    )
    ret = Return.objects.get()
    agent = staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    page = client.get(reverse("backoffice:customer", args=[till_sale.customer_id])).content.decode()
    assert till_sale.number in page and ret.reference in page
