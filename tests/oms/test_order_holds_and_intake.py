from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import Channel, Reservation
from oms.exceptions import TransitionNotAllowed
from oms.intake import OrderLineInput
from oms.models import Customer, Order
from oms.services import (
    customers_merge,
    order_hold,
    order_place_for_walk_in,
    order_release,
    orders_expire_unpaid,
    orders_release_due_holds,
)
from tests.factories import ChannelFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_unpaid_order_is_held_without_stock_then_expires(network, settings):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 1)], payment_status="pending")
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "payment")
    assert not Reservation.objects.exists()
    assert orders_expire_unpaid() == 0
    later = timezone.now() + timedelta(hours=settings.OMS_UNPAID_EXPIRY_HOURS, minutes=1)
    assert orders_expire_unpaid(now=later) == 1
    assert orders_expire_unpaid(now=later) == 0
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


def test_an_expired_unpaid_order_has_nothing_left_open_on_its_lines(network, settings):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 2), (b, 1)], payment_status="pending")
    later = timezone.now() + timedelta(hours=settings.OMS_UNPAID_EXPIRY_HOURS, minutes=1)
    assert orders_expire_unpaid(now=later) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert [(line.cancelled_quantity, line.open_quantity) for line in order.lines.order_by("pk")] == [(2, 0), (1, 0)]
    assert order.activities.filter(action="cancel", reason="unpaid").exists()


def test_released_hold_routes_the_order(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 1)], payment_status="pending")
    order_release(order=order, note="payment captured")
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED
    assert network.level(network.soho, a).reserved == 1


def test_allocated_order_cannot_be_held_and_the_error_names_the_allowed_actions(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 1)], payment_status="pending")
    order_release(order=order)
    order.refresh_from_db()
    with pytest.raises(TransitionNotAllowed) as exc:
        order_hold(order=order, reason="fraud")
    assert "cancel" in exc.value.allowed


def test_hold_with_a_time_limit_is_released_when_due(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 1)], payment_status="pending")
    order_release(order=order)
    other = place(network, [(a, 1)], external_id="WEB-2", payment_status="authorised")
    assert other.status == Order.Status.ALLOCATED
    # A fresh placed order held for a fraud check, for 10 minutes.
    third = Order.objects.create(
        channel=network.web, external_id="WEB-3", currency="GBP", method="delivery", lat=51.5, lon=-0.12
    )
    third.lines.create(sku=a, quantity=1, unit_price="5.00")
    order_hold(order=third, reason="fraud", until=timezone.now() + timedelta(minutes=10))
    assert orders_release_due_holds() == 0
    assert orders_release_due_holds(now=timezone.now() + timedelta(minutes=11)) == 1
    third.refresh_from_db()
    assert third.status == Order.Status.ALLOCATED


def test_unknown_sku_and_bad_quantity_are_reported_per_line_and_nothing_is_created(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    from oms.intake import OrderInput
    from oms.services import order_place

    data = OrderInput(
        channel=network.web,
        external_id="BAD-1",
        lines=[OrderLineInput("NOPE", 1), OrderLineInput(a.code, 0)],
        address={"line1": "x", "city": "London", "postcode": "WC2N 5DU", "country": "GB", "lat": 51.5, "lon": -0.1},
    )
    with pytest.raises(InvalidInput) as exc:
        order_place(data=data)
    assert set(exc.value.errors) == {"lines[0].sku", "lines[1].quantity"}
    assert not Order.objects.exists() and not Customer.objects.exists()


def test_pickup_at_a_store_without_collection_is_refused(network):
    a = network.skus[0]
    network.stock(network.warehouse, a, 5)
    with pytest.raises(InvalidInput) as exc:
        place(network, [(a, 1)], method="pickup", store=network.warehouse)
    assert "fulfilment.store" in exc.value.errors
    assert not Order.objects.exists()


def test_address_without_coordinates_and_unknown_postcode_is_refused(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    from oms.intake import OrderInput
    from oms.services import order_place

    data = OrderInput(
        channel=network.web,
        external_id="X",
        lines=[OrderLineInput(a.code, 1)],
        address={"line1": "1 Nowhere", "city": "Atlantis", "postcode": "ZZ99 9ZZ", "country": "GB"},
    )
    with pytest.raises(InvalidInput) as exc:
        order_place(data=data)
    assert "fulfilment.address.postcode" in exc.value.errors
    assert not Order.objects.exists()


def test_endless_aisle_order_for_a_walk_in_customer_is_collected_in_store(network):
    a = network.skus[0]
    network.stock(network.warehouse, a, 5)
    network.stock(network.soho, a, 5)
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    staff = get_user_model().objects.create_user("sam")
    order = order_place_for_walk_in(
        store=network.camden, staff=staff, lines=[OrderLineInput(a.code, 2, "15.00")], customer={"name": "Walk-in"}
    )
    assert order.channel.kind == "store"
    assert order.placed_by == staff
    f = order.fulfilments.get()
    assert (f.location, f.method) == (network.camden, "click_and_collect")
    assert f.source_location in (network.soho, network.warehouse)
    assert f.ready_by > order.created_at


def test_merging_customers_moves_their_orders(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    one = place(network, [(a, 1)], external_id="W1", customer={"email": "pat@example.com"})
    two = place(network, [(a, 1)], external_id="W2", customer={"phone": "+44 7700 900999"})
    kept = customers_merge(keep=one.customer, merge=two.customer)
    assert kept.phone == "+447700900999"
    assert set(kept.orders.values_list("external_id", flat=True)) == {"W1", "W2"}
