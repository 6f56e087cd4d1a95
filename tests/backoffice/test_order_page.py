"""The order page and its actions: permission-checked, audited, and bad input changes nothing."""

import re
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from fulfilment.models import Fulfilment
from oms.models import Activity, Customer, Order
from returns.models import Refund, Return
from returns.receiving import ReceivedLine, return_receive
from tests.orders_support import place

from .conftest import Role
from .support import LEEDS_ADDRESS, received_return, shipped_order


def act(client, order, action, **data):
    return client.post(reverse("backoffice:order_action", args=[order.pk, action]), data, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def routed(network):
    """A delivery order of two SKUs routed to Soho; Leeds has the same stock."""
    a, b = network.skus[:2]
    for location in (network.soho, network.leeds):
        network.stock(location, a, 5)
        network.stock(location, b, 5)
    return place(network, [(a, 2), (b, 1)], customer={"email": "ann@example.com", "name": "Ann"})


def test_order_page_shows_lines_fulfilments_routing_and_timeline(client, login, routed):
    login(Role.AGENT)
    page = client.get(reverse("backoffice:order", args=[routed.pk])).content.decode()
    assert routed.number in page
    assert "ST-SOHO" in page and "chosen" in page  # the routing explanation's winner
    assert "Single shipment from ST-SOHO" in page
    assert "allocate" in page  # a transition in the timeline


@pytest.mark.parametrize("orders", [1, 4])
def test_order_and_customer_pages_use_a_fixed_number_of_queries(
    client, login, network, orders, django_assert_max_num_queries
):
    """Queries do not grow with lines, fulfilments, returns or orders."""
    login(Role.AGENT)
    for i in range(orders):
        ret = received_return(network, units=1, external_id=f"WEB-{i}")
    order_url = reverse("backoffice:order", args=[ret.order_id])
    customer_url = reverse("backoffice:customer", args=[ret.order.customer_id])
    with django_assert_max_num_queries(15):
        assert client.get(order_url).status_code == 200
    with django_assert_max_num_queries(13):
        assert client.get(customer_url).status_code == 200


def test_address_change_reroutes_and_the_timeline_says_why(client, login, routed, network):
    login(Role.AGENT)
    response = act(client, routed, "address", **LEEDS_ADDRESS)
    assert response.status_code == 200
    assert "Single shipment from ST-LEEDS" in page_messages(response)[0]
    live = routed.fulfilments.exclude(status="cancelled").get()
    assert live.location == network.leeds
    reroute = Activity.objects.get(order=routed, action="reroute")
    assert reroute.reason.startswith("Single shipment from ST-LEEDS") and reroute.actor.username == "agent"


def test_an_unknown_postcode_is_refused_and_changes_nothing(client, login, routed):
    login(Role.AGENT)
    before = routed.address
    response = act(client, routed, "address", line1="1 Nowhere", city="Atlantis", postcode="ZZ9 9ZZ", country="GB")
    assert "Nothing was changed" in page_messages(response)[0]
    assert "postcode" in page_messages(response)[0].lower()
    routed.refresh_from_db()
    assert routed.address == before
    assert not Activity.objects.filter(order=routed, action="change_address").exists()


def test_cancelling_more_than_is_open_is_refused(client, login, routed):
    login(Role.AGENT)
    line = routed.lines.first()
    response = act(client, routed, "cancel-lines", reason="asked", **{f"line_{line.pk}": 9})
    assert "Nothing was changed" in page_messages(response)[0]
    line.refresh_from_db()
    assert line.cancelled_quantity == 0


def test_cancel_lines_and_force_reroute(client, login, routed, network):
    login(Role.AGENT)
    line = routed.lines.first()
    act(client, routed, "cancel-lines", reason="customer asked", **{f"line_{line.pk}": 1})
    line.refresh_from_db()
    assert line.cancelled_quantity == 1
    response = act(client, routed, "reroute", location=network.soho.pk, reason="store short-staffed")
    assert "Re-routed without ST-SOHO" in page_messages(response)[0]
    assert routed.fulfilments.exclude(status="cancelled").get().location == network.leeds


def test_a_note_is_added_and_an_empty_one_refused(client, login, routed):
    login(Role.AGENT)
    assert "Nothing was changed" in page_messages(act(client, routed, "note", text="   "))[0]
    act(client, routed, "note", text="Customer will be away until Friday.")
    assert routed.notes.get().text == "Customer will be away until Friday."


def test_hold_is_refused_once_routed(client, login, routed):
    login(Role.AGENT)
    response = act(client, routed, "hold", reason="fraud")
    assert "Nothing was changed" in page_messages(response)[0]
    routed.refresh_from_db()
    assert routed.status == Order.Status.ALLOCATED


def test_unknown_action_is_404_and_get_is_not_allowed(client, login, routed):
    login(Role.AGENT)
    assert client.post(reverse("backoffice:order_action", args=[routed.pk, "explode"])).status_code == 404
    assert client.get(reverse("backoffice:order_action", args=[routed.pk, "note"])).status_code == 405


def test_post_without_csrf_token_is_refused(login, routed):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    user = login(Role.AGENT)
    csrf_client.force_login(user)
    response = csrf_client.post(reverse("backoffice:order_action", args=[routed.pk, "note"]), {"text": "hi"})
    assert response.status_code == 403
    assert not routed.notes.exists()


# --- refunds and merges need a supervisor -------------------------------------------------


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_agent_cannot_refund_above_the_limit(client, login, network):
    ret = received_return(network, units=12)  # 120.00
    login(Role.AGENT)
    response = client.post(
        reverse("backoffice:order_action", args=[ret.order_id, "refund"]),
        {"ret": ret.reference, "method": "original_tenders"},
    )
    assert response.status_code == 403
    assert "need a supervisor" in response.content.decode()
    ret.refresh_from_db()
    assert ret.status == Return.Status.RECEIVED
    assert not Refund.objects.exists()


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_agent_refunds_up_to_the_limit_and_supervisor_above(client, login, network):
    small = received_return(network, units=3, external_id="WEB-S")
    large = received_return(network, units=12, external_id="WEB-L")
    login(Role.AGENT)
    act(client, small.order, "refund", ret=small.reference, method="store_credit")
    assert Refund.objects.get(ret=small).amount == Decimal("30.00")
    login(Role.SUPERVISOR)
    response = act(client, large.order, "refund", ret=large.reference, method="original_tenders")
    assert page_messages(response) == [f"Refunded 120.00 GBP for {large.reference}."]
    assert Refund.objects.get(ret=large).created_by.username == "supervisor"


def test_create_return_then_exchange(client, login, network):
    order = shipped_order(network, units=2)
    login(Role.AGENT)
    line = order.lines.get()
    assert "Nothing was changed" in page_messages(act(client, order, "return", **{f"line_{line.pk}": 5}))[0]
    response = act(client, order, "return", reason="too_small", **{f"line_{line.pk}": 1})
    ret = order.returns.get()
    assert page_messages(response) == [f"Return {ret.reference} is authorised."]
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(line.sku.code, 1)])
    replacement_sku = network.skus[1]
    network.stock(network.soho, replacement_sku, 1)
    response = act(client, order, "exchange", ret=ret.reference, sku=replacement_sku.code, quantity=1)
    ret.refresh_from_db()
    assert ret.status == Return.Status.EXCHANGED
    assert page_messages(response) == [f"Replacement order {ret.exchange_order.number} placed for {ret.reference}."]
    assert ret.exchange_order.lines.get().sku == replacement_sku


def test_agent_cannot_merge_customers_and_nothing_changes(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    one = place(network, [(sku, 1)], external_id="A", customer={"email": "one@example.com"})
    two = place(network, [(sku, 1)], external_id="B", customer={"email": "two@example.com"})
    url = reverse("backoffice:customer_merge", args=[one.customer_id])
    login(Role.AGENT)
    assert client.post(url, {"other": "two@example.com"}).status_code == 403
    two.refresh_from_db()
    assert two.customer.merged_into is None and two.customer_id != one.customer_id
    login(Role.SUPERVISOR)
    client.post(url, {"other": "two@example.com"})
    two.refresh_from_db()
    assert two.customer_id == one.customer_id
    assert Customer.objects.get(email="two@example.com").merged_into_id == one.customer_id
    assert Activity.objects.get(order=two, action="customer_merge").actor.username == "supervisor"


def test_fulfilment_methods_read_as_the_store_pages_say_them(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    delivered = place(network, [(sku, 1)])
    collected = place(network, [(sku, 1)], external_id="WEB-2", method="pickup", store=network.soho)
    login(Role.AGENT)
    for order, said in [(delivered, "Ship from store"), (collected, "Click &amp; collect")]:
        page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
        assert said in page, re.findall(r"data-label=\"Method\">[^<]*", page)
        assert "Ship From Store" not in page and "Click And Collect" not in page


def test_order_and_fulfilment_states_read_in_sentence_case(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    held = place(network, [(sku, 1)], external_id="WEB-H", payment_status="pending")
    collection = place(network, [(sku, 1)], external_id="WEB-C", method="pickup", store=network.soho)
    login(Role.AGENT)
    held_page = client.get(reverse("backoffice:order", args=[held.pk])).content.decode()
    assert held.status == Order.Status.ON_HOLD and "On hold" in held_page and "On Hold" not in held_page
    assert Order.Status.IN_FULFILMENT.label == "In fulfilment"
    assert Order.Status.READY_FOR_PICKUP.label == "Ready for pickup"
    assert Fulfilment.Status.PICKING.label == "Picked"  # as the store's own pages call it
    page = client.get(reverse("backoffice:order", args=[collection.pk])).content.decode()
    assert "Pending" in page and "For Pickup" not in page
