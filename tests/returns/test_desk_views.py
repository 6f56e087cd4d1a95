"""The returns desk pages: finding orders, booking goods in, settling, scope, bad input and query counts."""

from __future__ import annotations

import pytest

from inventory.models import Channel, StockMovement
from oms.models import Order
from returns.models import Return
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request
from tests.conftest import store_staff_client
from tests.factories import ChannelFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def soho(network):
    return store_staff_client(network.soho)


def desk_url(network, path=""):
    return f"/store/{network.soho.code}/returns/{path}"


def test_one_match_opens_the_order_and_several_are_listed(network, soho, delivered_web_order):
    response = soho.get(desk_url(network), {"q": delivered_web_order.number.lower()})
    assert response.status_code == 302
    assert response.url == desk_url(network, f"order/{delivered_web_order.pk}/")
    sku = network.skus[0]
    place(network, [(sku, 1)], external_id="WEB-2")  # same customer e-mail
    response = soho.get(desk_url(network), {"q": "A@Example.com"})
    assert response.status_code == 200
    assert response.content.decode().count(f"/store/{network.soho.code}/returns/order/") == 2


def test_nothing_found_says_so(network, soho):
    response = soho.get(desk_url(network), {"q": "NOPE-404"})
    assert "Nothing matches “NOPE-404”" in response.content.decode()


def test_a_return_label_opens_the_return_and_books_it_in_here(network, soho, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    response = soho.get(desk_url(network), {"q": ret.reference.lower()})
    assert response.url == desk_url(network, f"{ret.reference}/")
    response = soho.post(
        desk_url(network, f"{ret.reference}/"),
        {f"quantity-{ret.lines.get().pk}": "2", f"condition-{ret.lines.get().pk}": "damaged"},
    )
    assert response.status_code == 302
    ret.refresh_from_db()
    assert (ret.status, ret.received_location) == (Return.Status.INSPECTED, network.soho)
    assert network.level(network.soho, sku).on_hand == 0  # damaged: received and written off
    assert StockMovement.objects.filter(reference=ret.reference, kind="write_off").exists()


def test_returning_more_than_was_sent_is_refused_and_changes_nothing(network, soho, delivered_web_order):
    line = delivered_web_order.lines.get()
    url = desk_url(network, f"order/{delivered_web_order.pk}/")
    response = soho.post(url, {f"quantity-{line.pk}": "4", f"condition-{line.pk}": "resellable"})
    assert response.status_code == 400
    assert f"Check the quantity and condition of {line.sku.code}" in response.content.decode()
    response = soho.post(url, {f"quantity-{line.pk}": "0"})
    assert "Choose how many of at least one item" in response.content.decode()
    response = soho.post(url, {f"quantity-{line.pk}": "1", f"condition-{line.pk}": "melted"})
    assert response.status_code == 400
    assert not Return.objects.exists()
    assert not StockMovement.objects.filter(stock_level__location=network.soho).exists()


def test_a_refusal_by_the_return_rules_rolls_the_whole_return_back(network, soho, delivered_web_order):
    network.soho.accepts_returns = False
    network.soho.save()
    line = delivered_web_order.lines.get()
    response = soho.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "1"})
    assert response.status_code == 400
    assert f"{network.soho.code} does not accept returns." in response.content.decode()
    assert not Return.objects.exists()


def test_exchange_hands_the_replacement_over_at_the_desk(network, soho, delivered_web_order):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    returned, replacement = network.skus[0], network.skus[1]
    network.stock(network.soho, replacement, 1)
    line = delivered_web_order.lines.get()
    soho.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "1"})
    ret = Return.objects.get()
    assert ret.channel.kind == "store"
    rl = ret.lines.get()
    response = soho.post(
        desk_url(network, f"{ret.reference}/settle/"), {"action": "exchange", f"replacement-{rl.pk}": replacement.code}
    )
    assert response.url == desk_url(network, f"{ret.reference}/receipt/")
    ret.refresh_from_db()
    assert ret.status == Return.Status.EXCHANGED
    assert ret.exchange_order.fulfilments.get().status == "collected"
    assert network.level(network.soho, returned).on_hand == 1
    assert network.level(network.soho, replacement).on_hand == 0
    assert f"Exchanged for order {ret.exchange_order.number}" in soho.get(response.url).content.decode()


def test_an_unknown_replacement_is_refused_and_the_return_stays_open(network, soho, delivered_web_order):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    line = delivered_web_order.lines.get()
    soho.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "1"})
    ret = Return.objects.get()
    response = soho.post(
        desk_url(network, f"{ret.reference}/settle/"),
        {"action": "exchange", f"replacement-{ret.lines.get().pk}": "NO-SUCH"},
        follow=True,
    )
    assert "Unknown SKU &#x27;NO-SUCH&#x27;" in response.content.decode()
    ret.refresh_from_db()
    assert ret.status == Return.Status.INSPECTED
    assert Order.objects.count() == 1


def test_staff_of_another_store_get_404_and_change_nothing(network, delivered_web_order):
    camden = store_staff_client(network.camden, "cam")
    sku = network.skus[0]
    line = delivered_web_order.lines.get()
    assert camden.get(desk_url(network), {"q": delivered_web_order.number}).status_code == 404
    response = camden.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "1"})
    assert response.status_code == 404
    assert not Return.objects.exists()
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1)])
    own_desk = f"/store/{network.camden.code}/returns/{ret.reference}/"
    assert camden.post(own_desk + "settle/", {"action": "refund"}).status_code == 404
    assert camden.get(own_desk + "receipt/").status_code == 404
    assert camden.post(own_desk, {f"quantity-{ret.lines.get().pk}": "1"}).status_code == 404
    ret.refresh_from_db()
    assert ret.status == Return.Status.RECEIVED
    assert not hasattr(ret, "refund_record")


def test_posts_need_the_csrf_token(network, delivered_web_order):
    client = store_staff_client(network.soho)
    client.handler.enforce_csrf_checks = True
    line = delivered_web_order.lines.get()
    response = client.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "1"})
    assert response.status_code == 403
    assert not Return.objects.exists()


def test_desk_pages_have_a_bounded_number_of_queries(network, soho, delivered_web_order, django_assert_max_num_queries):
    for n in range(2, 6):
        place(network, [(network.skus[0], 1)], external_id=f"WEB-{n}")
    network.stock(network.warehouse, network.skus[0], 10)
    with django_assert_max_num_queries(16):
        assert soho.get(desk_url(network), {"q": "a@example.com"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert soho.get(desk_url(network, f"order/{delivered_web_order.pk}/")).status_code == 200
    line = delivered_web_order.lines.get()
    soho.post(desk_url(network, f"order/{delivered_web_order.pk}/"), {f"quantity-{line.pk}": "2"})
    ret = Return.objects.get()
    with django_assert_max_num_queries(9):
        assert soho.get(desk_url(network, f"{ret.reference}/")).status_code == 200
    soho.post(desk_url(network, f"{ret.reference}/settle/"), {"action": "refund", "method": "store_credit"})
    with django_assert_max_num_queries(9):
        response = soho.get(desk_url(network, f"{ret.reference}/receipt/"))
    assert "Refunded 20.00 GBP" in response.content.decode()


def test_returning_more_than_was_sent_says_how_many_can_come_back(network, soho, delivered_web_order):
    line = delivered_web_order.lines.get()
    url = desk_url(network, f"order/{delivered_web_order.pk}/")
    response = soho.post(url, {f"quantity-{line.pk}": "99", f"condition-{line.pk}": "resellable"})
    assert response.status_code == 400
    can = line.quantity
    said = f"Check the quantity and condition of {line.sku.code}: only {can} can be returned."
    assert said in response.content.decode()
