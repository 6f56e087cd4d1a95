"""POST /api/v1/sales: a store's till records what it sold."""

import pytest
from rest_framework.test import APIClient

from inventory.models import StockMovement
from oms.models import Order
from oms.services import api_token_issue
from tests.api.conftest import assert_problem
from tests.factories import ChannelFactory

SALES = "/api/v1/sales"


@pytest.fixture
def till_api(network) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=ChannelFactory(code='tills', kind='store'))}"
    )
    return client


def sale_body(network, lines, *, store=None, external_id="TILL-3-000123"):
    return {
        "store": (store or network.soho).code,
        "external_id": external_id,
        "customer": {"email": "walkin@example.com"},
        "lines": [{"sku": sku.code, "quantity": q, "unit_price": price} for sku, q, price in lines],
        "currency": "GBP",
        "payment": {"status": "captured", "tenders": [{"type": "card", "amount": "25.00", "reference": "AUTH-1"}]},
    }


def test_a_sale_answers_201_completed_with_one_in_store_fulfilment_then_200_for_the_same_receipt(till_api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 4)
    first = till_api.post(SALES, sale_body(network, [(sku, 2, "12.50")]), format="json")
    assert first.status_code == 201, first.content
    body = first.json()
    assert (body["status"], body["method"], body["payment_status"]) == ("completed", "in_store", "paid")
    [f] = body["fulfilments"]
    assert (f["method"], f["status"], f["location"]) == ("in_store", "collected", "ST-SOHO")
    assert network.level(network.soho, sku).on_hand == 2
    again = till_api.post(SALES, sale_body(network, [(sku, 2, "12.50")]), format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert StockMovement.objects.filter(kind="sale").count() == 1


def test_a_web_channel_may_not_record_till_sales(api, network):
    response = api.post(SALES, sale_body(network, [(network.skus[0], 1, "1.00")]), format="json")
    assert_problem(response, 403, "channel")
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"store": "WH-MID"}, "store"),
        ({"store": "NO-SUCH"}, "store"),
        ({"lines": [{"sku": "NO-SUCH", "quantity": 1, "unit_price": "1.00"}]}, "lines[0].sku"),
        ({"lines": [{"sku": "SKU", "quantity": -1, "unit_price": "1.00"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SKU", "quantity": 1, "unit_price": "-1.00"}]}, "lines[0].unit_price"),
        ({"payment": {"status": "authorised"}}, "payment.status"),
    ],
)
def test_bad_sales_get_a_precise_400_and_change_nothing(till_api, network, change, field):
    sku = network.skus[0]
    network.stock(network.soho, sku, 4)
    body = sale_body(network, [(sku, 1, "1.00")])
    for line in change.get("lines", []):
        line["sku"] = sku.code if line["sku"] == "SKU" else line["sku"]
    body.update(change)
    response = till_api.post(SALES, body, format="json")
    assert_problem(response, 400, field)
    assert not Order.objects.exists()
    assert network.level(network.soho, sku).on_hand == 4
