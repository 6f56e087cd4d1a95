"""Hostile bodies on every POST endpoint: deep nesting and lone surrogates are a 400, never a 500."""

import json

import pytest

from returns.models import Return
from tests.api.conftest import assert_problem
from tests.orders_support import place

POST_PATHS = [
    "/api/v1/availability",
    "/api/v1/orders",
    "/api/v1/orders/{order}/cancel",
    "/api/v1/orders/{order}/address",
    *[
        f"/api/v1/fulfilments/{{fulfilment}}/{action}"
        for action in ("accept", "decline", "pick", "pack", "ship", "ready", "collect")
    ],
    "/api/v1/returns",
    "/api/v1/returns/{ret}/receive",
    "/api/v1/stock-feeds",
]


@pytest.fixture
def ids(network) -> dict:
    """Rows every path can name, so a body is read rather than the path refused."""
    network.stock(network.soho, network.skus[0], 5)
    order = place(network, [(network.skus[0], 1)])
    return {
        "order": order.pk,
        "fulfilment": order.fulfilments.get().pk,
        "ret": Return.objects.create(order=order, channel=network.web).pk,
    }


@pytest.fixture
def caller(api, admin_api):
    """Who may call ``path``: stock feeds are an administrator's (or a location system's), the rest the channel's."""
    return lambda path: admin_api if "stock-feeds" in path else api


def post_raw(api, path: str, text: str):
    return api.post(path, data=text.encode("utf-8"), content_type="application/json")


@pytest.mark.parametrize("path", POST_PATHS)
def test_json_nested_two_thousand_deep_is_a_400(caller, ids, path):
    deep = "[" * 2000 + "]" * 2000  # 4 KB
    body = assert_problem(post_raw(caller(path), path.format(**ids), deep), 400)
    assert "deep" in body["detail"]


@pytest.mark.parametrize("path", POST_PATHS)
def test_json_nested_deep_inside_an_object_is_a_400(caller, ids, path):
    deep = '{"lines": ' + '{"a": ' * 1500 + "1" + "}" * 1500 + "}"
    assert_problem(post_raw(caller(path), path.format(**ids), deep), 400)


@pytest.mark.parametrize("path", POST_PATHS)
def test_a_lone_surrogate_anywhere_in_the_body_is_a_400(caller, ids, path):
    body = assert_problem(post_raw(caller(path), path.format(**ids), json.dumps({"anything": "\ud800"})), 400)
    assert "surrogate" in body["detail"]


SURROGATE_IN_A_FIELD = [
    ("/api/v1/orders", {"fulfilment": {"method": "\ud800"}}),
    ("/api/v1/orders", {"payment": {"status": "\udfff"}}),
    ("/api/v1/orders", {"customer": {"name": "A \ud83d Person"}}),
    ("/api/v1/orders/{order}/cancel", {"reason": "\ud800"}),
    ("/api/v1/fulfilments/{fulfilment}/decline", {"reason": "\ud800"}),
    ("/api/v1/fulfilments/{fulfilment}/decline", {"reason": "damaged", "note": "\ud800"}),
    (
        "/api/v1/returns/{ret}/receive",
        {"location": "ST-SOHO", "lines": [{"sku": "x", "quantity": 1, "condition": "\ud800"}]},
    ),
    ("/api/v1/stock-feeds", {"mode": "\ud800", "rows": []}),
    ("/api/v1/stock-feeds", {"\ud800": 1}),
]


@pytest.mark.parametrize(("path", "payload"), SURROGATE_IN_A_FIELD)
def test_a_lone_surrogate_in_a_field_is_a_400_and_changes_nothing(api, caller, ids, path, payload):
    before = api.get(f"/api/v1/orders/{ids['order']}").json()
    assert_problem(post_raw(caller(path), path.format(**ids), json.dumps(payload)), 400)
    assert api.get(f"/api/v1/orders/{ids['order']}").json() == before


def test_a_surrogate_pair_and_an_escaped_backslash_are_ordinary_text(api, ids):
    """Only an unpaired surrogate is refused: an emoji as a pair, or the text ``\\ud800``, is fine."""
    payload = {"reason": "wrong size \ud83d\ude00 \\ud800"}
    response = post_raw(api, f"/api/v1/orders/{ids['order']}/cancel", json.dumps(payload))
    assert response.status_code == 200, response.content
