"""A store may decline work it has already taken on, up to the moment it is dispatched.

Accept → go to the shelf → the item is damaged → decline is the commonest decline of all;
the work is re-routed and the order's state follows its fulfilments afterwards.
"""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_decline, fulfilment_pack, fulfilment_pick, fulfilment_ship
from fulfilment.models import Fulfilment
from inventory.selectors import inventory_discrepancies
from oms.models import Order
from tests.conftest import store_staff_client
from tests.orders_support import place

pytestmark = pytest.mark.django_db
F = Fulfilment.Status


@pytest.fixture
def stocked(network):
    """Soho (nearest) and Leeds both hold the first SKU."""
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.leeds, sku, 5)
    return network


def _live(order: Order) -> list[Fulfilment]:
    return list(order.fulfilments.exclude(status__in=Fulfilment.INACTIVE).select_related("location"))


def _to(fulfilment: Fulfilment, state: str) -> None:
    sku_codes = {fl.sku.code: fl.quantity for fl in fulfilment.lines.select_related("sku")}
    if state in (F.ACCEPTED, F.PICKING, F.PACKED):
        fulfilment_accept(fulfilment=fulfilment)
    if state in (F.PICKING, F.PACKED):
        fulfilment_pick(fulfilment=fulfilment, picked=sku_codes)
    if state == F.PACKED:
        fulfilment_pack(fulfilment=fulfilment)


@pytest.mark.parametrize("state", [F.PENDING, F.ACCEPTED, F.PICKING, F.PACKED])
def test_decline_from_any_state_before_dispatch_reroutes_and_the_order_follows(stocked, state):
    sku = stocked.skus[0]
    order = place(stocked, [(sku, 2)])
    soho = order.fulfilments.get()
    _to(soho, state)

    fulfilment_decline(fulfilment=soho, reason_code="damaged")

    order.refresh_from_db()
    soho.refresh_from_db()
    assert soho.status == F.DECLINED
    [leeds] = _live(order)
    assert (leeds.location, leeds.status) == (stocked.leeds, F.PENDING)
    # Every live fulfilment is new work again: the order is allocated, not in fulfilment.
    assert order.status == Order.Status.ALLOCATED
    assert stocked.level(stocked.leeds, sku).reserved == 2
    assert stocked.level(stocked.soho, sku).reserved == 0
    assert inventory_discrepancies() == []


def test_decline_after_accept_with_nowhere_else_backorders_the_order(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    order = place(network, [(sku, 2)])
    soho = order.fulfilments.get()
    fulfilment_accept(fulfilment=soho)
    fulfilment_decline(fulfilment=soho, reason_code="not_in_stock")
    order.refresh_from_db()
    assert order.status == Order.Status.BACKORDERED
    assert _live(order) == []


def _split_order(network):
    """Two SKUs no single store holds: A from Soho, B from Camden; Leeds holds B too."""
    a, b = network.skus[:2]
    network.stock(network.soho, a, 3)
    network.stock(network.camden, b, 3)
    network.stock(network.leeds, b, 3)
    order = place(network, [(a, 1), (b, 1)])
    by_location = {f.location_id: f for f in order.fulfilments.all()}
    return order, by_location[network.soho.pk], by_location[network.camden.pk]


def test_one_part_shipped_the_other_declined_after_accept_stays_partially_shipped(network):
    order, soho, camden = _split_order(network)
    a = network.skus[0]
    fulfilment_accept(fulfilment=soho)
    fulfilment_pick(fulfilment=soho, picked={a.code: 1})
    fulfilment_pack(fulfilment=soho)
    fulfilment_ship(fulfilment=soho, carrier="DPD", tracking="T-1")
    fulfilment_accept(fulfilment=camden)
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED

    fulfilment_decline(fulfilment=camden, reason_code="damaged")

    order.refresh_from_db()
    live = {f.location.code: f.status for f in _live(order)}
    assert live == {"ST-SOHO": F.SHIPPED, "ST-LEEDS": F.PENDING}
    # One part on its way, the other re-routed and waiting to be worked: partially shipped.
    assert order.status == Order.Status.PARTIALLY_SHIPPED


def test_both_parts_accepted_one_declined_keeps_the_order_in_fulfilment(network):
    order, soho, camden = _split_order(network)
    fulfilment_accept(fulfilment=soho)
    fulfilment_accept(fulfilment=camden)
    fulfilment_decline(fulfilment=camden, reason_code="mismatch")
    order.refresh_from_db()
    assert {f.location.code: f.status for f in _live(order)} == {"ST-SOHO": F.ACCEPTED, "ST-LEEDS": F.PENDING}
    assert order.status == Order.Status.IN_FULFILMENT


def test_short_pick_after_accept_reroutes_the_rest(stocked):
    sku = stocked.skus[0]
    order = place(stocked, [(sku, 2)])
    soho = order.fulfilments.get()
    fulfilment_accept(fulfilment=soho)
    fulfilment_pick(fulfilment=soho, picked={sku.code: 1}, short_reason="damaged")
    order.refresh_from_db()
    assert {f.location.code: f.status for f in _live(order)} == {"ST-SOHO": F.PICKING, "ST-LEEDS": F.PENDING}
    assert order.status == Order.Status.IN_FULFILMENT


def test_nothing_picked_after_accept_declines_and_reroutes(stocked):
    sku = stocked.skus[0]
    order = place(stocked, [(sku, 2)])
    soho = order.fulfilments.get()
    fulfilment_accept(fulfilment=soho)
    fulfilment_pick(fulfilment=soho, picked={sku.code: 0})
    order.refresh_from_db()
    assert [(f.location.code, f.status) for f in _live(order)] == [("ST-LEEDS", F.PENDING)]
    assert order.status == Order.Status.ALLOCATED


def test_api_decline_after_accept_reroutes(stocked):
    from rest_framework.test import APIClient

    from oms.services import api_token_issue

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=stocked.web)}")
    order = place(stocked, [(stocked.skus[0], 2)])
    soho = order.fulfilments.get()
    assert api.post(f"/api/v1/fulfilments/{soho.pk}/accept", {}, format="json").json()["status"] == "accepted"

    response = api.post(f"/api/v1/fulfilments/{soho.pk}/decline", {"reason": "damaged"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "declined"
    body = api.get(f"/api/v1/orders/{order.pk}").json()
    assert body["status"] == "allocated"
    assert [(f["location"], f["status"]) for f in body["fulfilments"] if f["status"] == "pending"] == [
        ("ST-LEEDS", "pending")
    ]


def test_store_page_decline_after_accept_says_where_it_went(stocked):
    client = store_staff_client(stocked.soho)
    order = place(stocked, [(stocked.skus[0], 2)])
    soho = order.fulfilments.get()
    client.post(reverse("store:fulfilment_accept", args=["ST-SOHO", soho.pk]))
    soho.refresh_from_db()
    assert soho.status == F.ACCEPTED
    page = client.get(reverse("store:fulfilment", args=["ST-SOHO", soho.pk])).content.decode()
    assert "Decline" in page  # the store is still offered the way out

    response = client.post(
        reverse("store:fulfilment_decline", args=["ST-SOHO", soho.pk]), {"reason": "damaged"}, follow=True
    )

    said = [str(m) for m in response.context["messages"]]
    assert said == [f"Order {order.number} declined (damaged); re-routed to ST-LEEDS."]
    soho.refresh_from_db()
    assert soho.status == F.DECLINED


def test_units_nowhere_else_keep_the_order_from_looking_shipped_or_completed(network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.camden, b, 1)  # nobody else holds B
    order = place(network, [(a, 1), (b, 1)])
    by_location = {f.location_id: f for f in order.fulfilments.all()}
    soho, camden = by_location[network.soho.pk], by_location[network.camden.pk]
    fulfilment_accept(fulfilment=soho)
    fulfilment_accept(fulfilment=camden)
    fulfilment_decline(fulfilment=camden, reason_code="not_in_stock")
    order.refresh_from_db()
    assert order.status == Order.Status.IN_FULFILMENT  # Soho still works on A; B waits for stock

    fulfilment_pick(fulfilment=soho, picked={a.code: 1})
    fulfilment_pack(fulfilment=soho)
    fulfilment_ship(fulfilment=soho, carrier="DPD", tracking="T-1")
    order.refresh_from_db()
    # A is on its way but B is still owed: partially shipped, not shipped.
    assert order.status == Order.Status.PARTIALLY_SHIPPED

    from fulfilment.actions import fulfilment_deliver

    fulfilment_deliver(fulfilment=soho)
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED


def test_store_page_decline_names_only_where_the_declined_work_went(network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.camden, b, 1)  # nobody else holds B
    order = place(network, [(a, 1), (b, 1)])
    camden = order.fulfilments.get(location=network.camden)
    client = store_staff_client(network.camden, "cam")
    client.post(reverse("store:fulfilment_accept", args=["ST-CAMDEN", camden.pk]))

    response = client.post(
        reverse("store:fulfilment_decline", args=["ST-CAMDEN", camden.pk]), {"reason": "damaged"}, follow=True
    )

    said = [str(m) for m in response.context["messages"]][-1]
    # Soho still works on the other line; it is not where Camden's part went.
    assert said == f"Order {order.number} declined (damaged); no other location has it now: backordered."


def test_declined_collection_says_the_customer_still_collects_here_and_where_the_stock_comes_from(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    network.stock(network.leeds, sku, 5)
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    soho = order.fulfilments.get()
    client = store_staff_client(network.soho)
    client.post(reverse("store:fulfilment_accept", args=["ST-SOHO", soho.pk]))

    response = client.post(
        reverse("store:fulfilment_decline", args=["ST-SOHO", soho.pk]), {"reason": "damaged"}, follow=True
    )

    said = [str(m) for m in response.context["messages"]][-1]
    assert said == (
        f"Order {order.number} declined (damaged); the customer still collects here, with the stock sent from ST-LEEDS."
    )


def test_a_short_pick_says_where_the_missing_units_went(stocked):
    sku = stocked.skus[0]
    order = place(stocked, [(sku, 2)])
    soho = order.fulfilments.get()
    client = store_staff_client(stocked.soho)
    client.post(reverse("store:fulfilment_accept", args=["ST-SOHO", soho.pk]))
    client.post(reverse("store:pick_scan", args=["ST-SOHO", soho.pk]), {"code": sku.code})

    response = client.post(
        reverse("store:pick_confirm", args=["ST-SOHO", soho.pk]), {"short_reason": "damaged"}, follow=True
    )

    said = [str(m) for m in response.context["messages"]][-1]
    assert said == f"1 unit short: re-routed to ST-LEEDS. The rest of {order.number} is picked.", said
