"""Strict intake: ISO codes, real coordinates, tenders that pay the order, one body per external_id."""

import pytest

from oms.models import Order
from tests.api.conftest import ADDRESS, assert_problem, order_body

ORDERS = "/api/v1/orders"


@pytest.fixture
def sku(network):
    network.stock(network.soho, network.skus[0], 5)
    return network.skus[0]


@pytest.mark.parametrize("currency", ["abc", "NaN", "XYZ", "gb£"])
def test_a_currency_that_is_not_iso_4217_is_a_400(api, network, sku, currency):
    body = assert_problem(
        api.post(ORDERS, {**order_body(network, [(sku, 2)]), "currency": currency}, format="json"), 400
    )
    assert "currency" in body["errors"], body
    assert not Order.objects.exists()


def test_an_iso_currency_in_lower_case_is_taken_in_upper_case(api, network, sku):
    response = api.post(ORDERS, {**order_body(network, [(sku, 2)]), "currency": "eur"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["currency"] == "EUR"


@pytest.mark.parametrize("country", ["-1", "XX", "12", "UK"])
def test_a_country_that_is_not_iso_3166_is_a_400_everywhere_an_address_is_taken(api, network, sku, country):
    address = {**ADDRESS, "country": country}
    body = order_body(network, [(sku, 2)], method="delivery", address=address)
    assert_problem(api.post(ORDERS, body, format="json"), 400, "fulfilment.address.country")
    assert not Order.objects.exists()
    availability = {
        "lines": [{"sku": sku.code, "quantity": 1}],
        "destination": {"postcode": "WC2N 5DU", "country": country},
    }
    assert_problem(api.post("/api/v1/availability", availability, format="json"), 400, "destination.country")
    order_id = api.post(ORDERS, order_body(network, [(sku, 2)]), format="json").json()["id"]
    assert_problem(api.post(f"{ORDERS}/{order_id}/address", address, format="json"), 400, "country")


@pytest.mark.parametrize(("field", "value"), [("lat", True), ("lon", False), ("lat", 90.5), ("lon", -180.5)])
def test_coordinates_are_numbers_on_the_globe(api, network, sku, field, value):
    address = {**ADDRESS, field: value}
    body = order_body(network, [(sku, 2)], method="delivery", address=address)
    assert_problem(api.post(ORDERS, body, format="json"), 400, f"fulfilment.address.{field}")
    destination = {"lat": 51.5, "lon": -0.12, field: value}
    availability = {"lines": [{"sku": sku.code, "quantity": 1}], "destination": destination}
    assert_problem(api.post("/api/v1/availability", availability, format="json"), 400, f"destination.{field}")
    assert not Order.objects.exists()


def test_authorised_tenders_that_do_not_pay_the_total_are_a_400_naming_both_amounts(api, network, sku):
    body = order_body(network, [(sku, 2)])  # 2 × 19.99 = 39.98
    body["payment"]["tenders"] = [{"type": "card", "amount": "30.00"}, {"type": "gift_card", "amount": "5.00"}]
    problem = assert_problem(api.post(ORDERS, body, format="json"), 400, "payment.tenders")
    assert "35.00" in problem["detail"] and "39.98" in problem["detail"]
    assert not Order.objects.exists()
    body["payment"]["tenders"][1]["amount"] = "9.98"
    assert api.post(ORDERS, body, format="json").status_code == 201


def test_a_pending_payment_may_carry_no_or_partial_tenders(api, network, sku):
    body = order_body(network, [(sku, 2)])
    body["payment"] = {"status": "pending", "tenders": [{"type": "card", "amount": "1.00"}]}
    assert api.post(ORDERS, body, format="json").status_code == 201


def test_the_same_external_id_with_a_different_body_is_a_409_naming_what_differs(api, network, sku):
    body = order_body(network, [(sku, 2)])
    first = api.post(ORDERS, body, format="json")
    assert first.status_code == 201, first.content
    changed = order_body(network, [(sku, 1)])
    changed["currency"] = "EUR"
    changed["fulfilment"]["address"] = {**ADDRESS, "line1": "2 Other Street"}
    problem = assert_problem(api.post(ORDERS, changed, format="json"), 409, "lines", "currency", "fulfilment.address")
    assert first.json()["number"] in problem["detail"]
    assert set(problem["errors"]) == {"lines", "currency", "fulfilment.address", "payment.tenders"}
    assert Order.objects.count() == 1 and network.level(network.soho, sku).reserved == 2
    again = api.post(ORDERS, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_the_same_external_id_for_collection_at_another_store_is_a_409(api, network, sku):
    first = api.post(ORDERS, order_body(network, [(sku, 1)], method="pickup", store="ST-SOHO"), format="json")
    assert first.status_code == 201, first.content
    moved = order_body(network, [(sku, 1)], method="pickup", store="ST-CAMDEN")
    assert_problem(api.post(ORDERS, moved, format="json"), 409, "fulfilment.store")
    delivered = order_body(network, [(sku, 1)])
    assert_problem(api.post(ORDERS, delivered, format="json"), 409, "fulfilment.method")


def test_a_repeat_after_an_address_change_is_still_the_same_order(api, network, sku):
    body = order_body(network, [(sku, 2)])
    first = api.post(ORDERS, body, format="json").json()
    moved = {**ADDRESS, "line1": "9 New Street"}
    assert api.post(f"{ORDERS}/{first['id']}/address", moved, format="json").status_code == 200
    again = api.post(ORDERS, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
