"""The whole contract over real HTTP against the running app: a checkout's and a store's view of one order."""

import json
import secrets
import urllib.error
import urllib.request

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from oms.services import api_token_issue

TRAFALGAR = {"line1": "1 Trafalgar Sq", "city": "London", "postcode": "WC2N 5DU", "country": "GB"}


class Http:
    """Plain urllib calls returning (status, JSON body)."""

    def __init__(self, base: str, headers: dict):
        self.base, self.headers = base, headers

    def call(self, method: str, path: str, body=None, **headers) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "application/json", **self.headers, **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())


def staff_session(live_server) -> Http:
    """A store member of staff, signed in: a session cookie and a CSRF token as a browser holds them."""
    user = get_user_model().objects.create_user("soho-desk", password="pw-123456", is_staff=True)
    client = Client()
    client.force_login(user)
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret, valid as cookie and header
    cookie = f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}"
    return Http(live_server.url, {"Cookie": cookie, "X-CSRFToken": csrf})


@pytest.mark.django_db(transaction=True)
def test_checkout_contract_end_to_end(live_server, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    checkout = Http(live_server.url, {"Authorization": f"Token {api_token_issue(channel=network.web)}"})

    status, availability = checkout.call(
        "POST",
        "/api/v1/availability",
        {"lines": [{"sku": sku.code, "quantity": 2}], "destination": {"postcode": "WC2N 5DU"}, "pickup_radius_km": 10},
    )
    assert status == 200 and availability["delivery"]["can_fulfil"]
    assert availability["lines"][0]["available"] == 5
    assert availability["pickup_stores"][0]["store"] == "ST-SOHO"

    order_body = {
        "external_id": "WEB-10001",
        "customer": {"email": "a@example.com", "name": "A. Person"},
        "lines": [{"sku": sku.code, "quantity": 2, "unit_price": "19.99"}],
        "currency": "GBP",
        "fulfilment": {"method": "delivery", "address": TRAFALGAR},
        "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": "39.98", "reference": "P-1"}]},
    }
    status, order = checkout.call("POST", "/api/v1/orders", order_body, **{"Idempotency-Key": "checkout-1"})
    assert status == 201 and order["status"] == "allocated"
    assert checkout.call("POST", "/api/v1/orders", order_body, **{"Idempotency-Key": "checkout-1"}) == (201, order)
    status, read = checkout.call("GET", f"/api/v1/orders/{order['id']}")
    assert status == 200 and read["routing"]["summary"] and read["timeline"]

    store = staff_session(live_server)
    fid = order["fulfilments"][0]["id"]
    for action, body in [
        ("accept", {}),
        ("pick", {"lines": [{"sku": sku.code, "quantity": 2}]}),
        ("pack", {}),
        ("ship", {"carrier": "DPD", "tracking": "DPD-123"}),
    ]:
        status, fulfilment = store.call("POST", f"/api/v1/fulfilments/{fid}/{action}", body)
        assert status == 200, (action, fulfilment)
    assert checkout.call("GET", f"/api/v1/orders/{order['id']}")[1]["status"] == "shipped"

    status, ret = checkout.call(
        "POST", "/api/v1/returns", {"order": order["id"], "lines": [{"sku": sku.code, "quantity": 1}]}
    )
    assert status == 201 and ret["status"] == "authorised"
    status, ret = store.call(
        "POST",
        f"/api/v1/returns/{ret['id']}/receive",
        {"location": "ST-SOHO", "lines": [{"sku": sku.code, "quantity": 1, "condition": "resellable"}]},
    )
    assert status == 200 and ret["status"] == "received"
    status, stock = checkout.call("GET", f"/api/v1/stock?sku={sku.code}&location=ST-SOHO")
    assert stock["locations"] == [{"location": "ST-SOHO", "on_hand": 4, "reserved": 0, "available": 4}]

    status, second = checkout.call("POST", "/api/v1/orders", {**order_body, "external_id": "WEB-10002"})
    assert status == 201
    status, cancelled = checkout.call("POST", f"/api/v1/orders/{second['id']}/cancel", {"reason": "customer asked"})
    assert status == 200 and cancelled["status"] == "cancelled"
    assert checkout.call("POST", f"/api/v1/orders/{order['id']}/cancel", {"reason": "too late"})[0] == 409
