"""A channel with its API token over the shared order network, and clients that call the API."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from oms.services import api_token_issue
from tests.factories import ChannelFactory

ADDRESS = {
    "line1": "1 Test Street",
    "city": "London",
    "postcode": "WC2N 5DU",
    "country": "GB",
    "lat": 51.508,
    "lon": -0.128,
}


@pytest.fixture(autouse=True)
def fresh_throttle():
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token(network) -> str:
    return api_token_issue(channel=network.web)


@pytest.fixture
def api(token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


@pytest.fixture
def other_api(db) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=ChannelFactory(code='app'))}")
    return client


@pytest.fixture
def staff_api(db) -> APIClient:
    user = get_user_model().objects.create_user("desk", password="pw-123456", is_staff=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def admin_api(db) -> APIClient:
    """An administrator's session: the one staff role that may set stock through the API."""
    user = get_user_model().objects.create_user("ops", password="pw-123456", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_authenticate(user)
    return client


def order_body(network, lines, *, external_id="WEB-10001", **fulfilment):
    """An order body whose one card tender pays the lines at 19.99 each."""
    paid = Decimal("19.99") * sum(q for _, q in lines)
    return {
        "external_id": external_id,
        "customer": {"email": "a@example.com", "phone": "+44 7700 900000", "name": "A. Person"},
        "lines": [{"sku": sku.code, "quantity": q, "unit_price": "19.99"} for sku, q in lines],
        "currency": "GBP",
        "fulfilment": fulfilment or {"method": "delivery", "address": ADDRESS},
        "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": str(paid), "reference": "PAY-1"}]},
    }


def assert_problem(response, status: int, *fields: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail", "errors"} <= body.keys()
    assert body["status"] == status
    for field in fields:
        assert field in body["errors"], body["errors"]
    return body
