"""One search box finds orders and customers of every channel by whatever identifier the caller has."""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.order_search import orders_search
from fulfilment.pickups import fulfilment_ready
from oms.selectors import customers_search
from oms.services import customers_merge
from tests.factories import ChannelFactory
from tests.orders_support import place

from .conftest import Role
from .support import shipped_order


@pytest.fixture
def two_channel_customer(network):
    """One customer who ordered on the web and in the app, giving their phone in two formats."""
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    web = place(network, [(sku, 1)], external_id="WEB-77", customer={"phone": "+447700900123", "name": "Ann Lee"})
    network.web = ChannelFactory(code="app")
    app = place(network, [(sku, 1)], external_id="APP-77", customer={"phone": "07700 900123"})
    return web, app


@pytest.mark.parametrize("typed", ["07700 900123", "+44 7700 900123", "(07700) 900-123", "+447700900123"])
def test_phone_in_any_format_finds_the_customer_and_both_channels_orders(two_channel_customer, typed):
    web, app = two_channel_customer
    assert {o.number for o in orders_search(query=typed)} == {web.number, app.number}
    assert [c.name for c in customers_search(query=typed)] == ["Ann Lee"]


def test_order_number_finds_with_or_without_its_prefix_and_in_lower_case(network):
    network.stock(network.soho, network.skus[0], 1)
    order = place(network, [(network.skus[0], 1)])
    bare = order.number.removeprefix("O-")
    for typed in (order.number, bare, bare.lower()):
        assert [o.pk for o in orders_search(query=typed)] == [order.pk]


def test_external_reference_tracking_and_email_find_the_order(network):
    order = shipped_order(network, units=1, external_id="WEB-900", customer={"email": "Zoe@Example.com"})
    for typed in ("WEB-900", "TRK-WEB-900", "zoe@example.COM"):
        assert [o.pk for o in orders_search(query=typed)] == [order.pk], typed


def test_pickup_code_finds_only_a_parcel_awaiting_collection(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    fulfilment = order.fulfilments.get()
    fulfilment_accept(fulfilment=fulfilment)
    fulfilment_pick(fulfilment=fulfilment, picked={sku.code: 1})
    fulfilment = fulfilment_ready(fulfilment=fulfilment)
    assert [o.pk for o in orders_search(query=fulfilment.pickup_code)] == [order.pk]


def test_a_merged_customers_identifier_finds_the_surviving_customer(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    kept = place(network, [(sku, 1)], external_id="A", customer={"email": "keep@example.com"})
    merged = place(network, [(sku, 1)], external_id="B", customer={"member_number": "M-123", "email": "old@x.com"})
    customers_merge(keep=kept.customer, merge=merged.customer)
    assert [c.pk for c in customers_search(query="old@x.com")] == [kept.customer_id]
    assert {o.pk for o in orders_search(query="old@x.com")} == {kept.pk, merged.pk}


def test_nothing_and_rubbish_find_nothing(network):
    assert list(orders_search(query="   ")) == []
    assert list(customers_search(query="no such thing")) == []


def test_search_page_lists_customers_and_orders_in_few_queries(
    client, login, two_channel_customer, django_assert_max_num_queries
):
    login(Role.AGENT)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("backoffice:home"), {"q": "07700 900123"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ann Lee" in page
    assert all(o.number in page for o in two_channel_customer)


def test_store_staff_cannot_open_the_back_office(client, login, network):
    login(Role.STORE_STAFF, stores=[network.soho])
    assert client.get(reverse("backoffice:home")).status_code == 403
