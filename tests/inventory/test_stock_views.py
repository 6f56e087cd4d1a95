"""The store stock page and endless aisle: scope, bad input, transfers and query counts."""

from __future__ import annotations

import pytest
from django.utils import timezone

from inventory.models import Channel, StockMovement, Transfer
from inventory.transfers import transfer_send
from oms.models import Order
from tests.conftest import store_staff_client
from tests.factories import ChannelFactory, LocationFactory, SkuFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def soho(network):
    return store_staff_client(network.soho)


def url(network, path):
    return f"/store/{network.soho.code}/{path}"


def test_staff_of_another_store_get_404_and_change_nothing(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    transfer = transfer_send(destination=network.soho, lines=[(sku, 2)], expected_at=timezone.now())
    camden = store_staff_client(network.camden, "cam")
    assert camden.get(url(network, "stock/"), {"sku": sku.code}).status_code == 404
    assert camden.get(url(network, "order/")).status_code == 404
    assert (
        camden.post(url(network, "stock/count/"), {"sku": sku.code, "counted": 0, "reason": "lost"}).status_code == 404
    )
    assert (
        camden.post(url(network, "stock/adjust/"), {"sku": sku.code, "delta": -5, "reason": "lost"}).status_code == 404
    )
    assert camden.post(url(network, f"stock/transfers/{transfer.pk}/receive/")).status_code == 404
    own = f"/store/{network.camden.code}/stock/transfers/{transfer.pk}/receive/"
    assert camden.post(own).status_code == 404  # a transfer to another store is not theirs to book in
    assert network.level(network.soho, sku).on_hand == 5
    transfer.refresh_from_db()
    assert transfer.status == Transfer.Status.IN_TRANSIT


def test_bad_adjustments_and_counts_are_refused_and_change_nothing(network, soho):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    place(network, [(sku, 2)], method="pickup", store=network.soho)  # 2 of the 3 reserved
    before = StockMovement.objects.count()
    for path, data, says in [
        ("stock/adjust/", {"sku": sku.code, "delta": "0", "reason": "lost"}, "Must not be zero."),
        ("stock/adjust/", {"sku": sku.code, "delta": "two", "reason": "lost"}, "Enter a whole number."),
        ("stock/adjust/", {"sku": sku.code, "delta": "-1", "reason": "bored"}, "Select a valid choice."),
        ("stock/adjust/", {"sku": sku.code, "delta": "-2", "reason": "lost"}, "below what is reserved"),
        ("stock/count/", {"sku": sku.code, "counted": "-1", "reason": "lost"}, "greater than or equal to 0"),
        ("stock/count/", {"sku": sku.code, "counted": "1", "reason": "lost"}, "Below the 2 units reserved."),
    ]:
        response = soho.post(url(network, path), data)
        assert response.status_code == 400, data
        assert says in response.content.decode(), data
    assert soho.post(url(network, "stock/count/"), {"sku": "NO-SUCH", "counted": "1"}).status_code == 404
    assert StockMovement.objects.count() == before
    assert network.level(network.soho, sku).on_hand == 3


def test_adjustment_with_a_reason_is_booked_and_shown(network, soho):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    response = soho.post(
        url(network, "stock/adjust/"), {"sku": sku.code, "delta": "-1", "reason": "damaged", "note": "shelf fell"}
    )
    assert response.status_code == 302
    assert "stock/?sku=" in response.url
    movement = StockMovement.objects.first()
    assert (movement.kind, movement.on_hand_delta, movement.reason, movement.reference) == (
        "adjustment",
        -1,
        "damaged",
        "shelf fell",
    )
    assert f"{sku.code}: 2 on hand" in soho.get(response.url).content.decode()


def test_an_inbound_transfer_is_received_once(network, soho):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 5)
    transfer = transfer_send(
        source=network.warehouse, destination=network.soho, lines=[(sku, 4)], expected_at=timezone.now()
    )
    page = soho.get(url(network, "stock/")).content.decode()
    assert transfer.reference in page
    assert soho.post(url(network, f"stock/transfers/{transfer.pk}/receive/")).status_code == 302
    assert network.level(network.soho, sku).on_hand == 4
    response = soho.post(url(network, f"stock/transfers/{transfer.pk}/receive/"), follow=True)
    assert "was already received" in response.content.decode()
    assert network.level(network.soho, sku).on_hand == 4


def test_typing_part_of_a_name_lists_the_products(network, soho):
    SkuFactory(code="TEE-BLUE-M", name="Linen tee blue M")
    SkuFactory(code="TEE-BLUE-L", name="Linen tee blue L")
    page = soho.get(url(network, "stock/"), {"sku": "linen blue"}).content.decode()
    assert "2 products match" in page
    assert "TEE-BLUE-M" in page and "TEE-BLUE-L" in page
    page = soho.get(url(network, "stock/"), {"sku": "nothing like it"}).content.decode()
    assert "No product matches “nothing like it”" in page


def test_endless_aisle_refuses_bad_lines_and_an_empty_basket(network, soho):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    sku = network.skus[0]
    response = soho.post(url(network, "order/"), {"action": "add", "sku": sku.code, "quantity": "0", "price": "5"})
    assert response.status_code == 400
    assert "Give a quantity of at least 1" in response.content.decode()
    response = soho.post(url(network, "order/"), {"action": "place", "name": "Pat", "email": "p@example.com"})
    assert "Add at least one product" in response.content.decode()
    soho.post(url(network, "order/"), {"action": "add", "sku": sku.code, "quantity": "1", "price": "5"})
    response = soho.post(url(network, "order/"), {"action": "place", "name": "Pat", "method": "delivery"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Give an e-mail or a phone number" in page and "Needed for home delivery." in page
    response = soho.post(
        url(network, "order/"), {"action": "place", "name": "Pat", "phone": "07700 900123", "method": "collect"}
    )
    assert f"No units of {sku.name} are available across the network" in response.content.decode()  # nobody has it
    assert not Order.objects.exists()


def test_endless_aisle_collection_here_and_its_confirmation_is_this_stores_only(network, soho):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    sku = network.skus[0]
    network.stock(network.camden, sku, 2)
    soho.post(url(network, "order/"), {"action": "add", "sku": sku.code, "quantity": "2", "price": "9.50"})
    response = soho.post(
        url(network, "order/"), {"action": "place", "name": "Pat", "phone": "07700 900123", "method": "collect"}
    )
    placed = Order.objects.get()
    assert response.url == url(network, f"order/{placed.number}/")
    shipment = placed.fulfilments.get()
    assert (shipment.location, shipment.source_location, shipment.method) == (
        network.soho,
        network.camden,
        "click_and_collect",
    )
    assert f"Order {placed.number} placed" in soho.get(response.url).content.decode()
    assert "aisle-basket" not in "".join(soho.session.keys())
    camden = store_staff_client(network.camden, "cam")
    assert camden.get(f"/store/{network.camden.code}/order/{placed.number}/").status_code == 404


def test_stock_and_aisle_pages_have_a_bounded_number_of_queries(network, soho, django_assert_max_num_queries):
    sku = network.skus[0]
    for n in range(8):
        store = LocationFactory(lat=51.5 + n / 100, lon=-0.13)
        network.stock(store, sku, n + 1)
    network.stock(network.warehouse, sku, 9)
    for _ in range(3):
        transfer_send(destination=network.soho, lines=[(sku, 1), (network.skus[1], 2)], expected_at=timezone.now())
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    with django_assert_max_num_queries(14):
        response = soho.get(url(network, "stock/"), {"sku": sku.code})
    assert response.content.decode().count(" km</td>") == 6  # 5 nearest stores and the warehouse
    soho.post(url(network, "order/"), {"action": "add", "sku": sku.code, "quantity": "1", "price": "5"})
    with django_assert_max_num_queries(14):
        assert soho.get(url(network, "order/"), {"sku": sku.code}).status_code == 200
