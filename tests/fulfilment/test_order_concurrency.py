"""Orders racing for the last units on real PostgreSQL connections: none oversold, none deadlocked."""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum

from inventory.exceptions import InsufficientStock
from inventory.models import ChannelCap, Reservation, StockLevel
from oms.models import Customer, Order
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = 200
# PostgreSQL here allows 100 connections; the rest wait their turn at the semaphore.
MAX_CONNECTIONS = 40


def place_concurrently(orders: list) -> list:
    """Run each ``place(...)`` call on its own thread and connection, all released at once.

    Returns per call the order, or the exception it raised.
    """
    barrier = threading.Barrier(len(orders))
    gate = threading.Semaphore(MAX_CONNECTIONS)
    results: list = [None] * len(orders)

    def run(i: int, call) -> None:
        barrier.wait()
        with gate:
            try:
                results[i] = call()
            except Exception as exc:  # collected for the assertions below
                results[i] = exc
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(orders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "an order never finished"
    return results


def outcome(result) -> str:
    if isinstance(result, Order):
        return "placed"
    if isinstance(result, InsufficientStock):
        return "insufficient_stock"
    pgcode = getattr(result.__cause__, "pgcode", None)
    return f"{type(result).__name__} pgcode={pgcode}: {result}"


def assert_nothing_oversold() -> None:
    assert not StockLevel.objects.filter(reserved__gt=F("on_hand")).exists()
    assert not ChannelCap.objects.filter(used__gt=F("quantity")).exists()
    call_command("check_inventory")


def reserved(sku) -> int:
    return StockLevel.objects.filter(sku=sku).aggregate(n=Sum("reserved"))["n"]


def test_200_orders_for_50_units_place_exactly_50(network):
    sku = network.skus[0]
    for store, units in ((network.soho, 20), (network.camden, 20), (network.leeds, 10)):
        network.stock(store, sku, units)
    calls = [
        lambda i=i: place(network, [(sku, 1)], external_id=f"WEB-{i}", customer={"email": f"c{i}@example.com"})
        for i in range(ORDERS)
    ]

    outcomes = Counter(outcome(r) for r in place_concurrently(calls))

    assert outcomes == {"placed": 50, "insufficient_stock": 150}
    assert Order.objects.count() == 50
    assert reserved(sku) == 50
    assert Reservation.objects.filter(status="active").aggregate(n=Sum("quantity"))["n"] == 50
    assert_nothing_oversold()


def test_two_line_orders_in_opposite_line_order_neither_deadlock_nor_oversell(network):
    a, b = network.skus[:2]
    for store, units_a, units_b in ((network.soho, 20, 15), (network.camden, 20, 15), (network.leeds, 10, 10)):
        network.stock(store, a, units_a)
        network.stock(store, b, units_b)
    # A flash-sale cap on each SKU puts a second kind of shared row in every transaction.
    ChannelCap.objects.create(channel=network.web, sku=a, quantity=45)
    ChannelCap.objects.create(channel=network.web, sku=b, quantity=45)
    calls = [
        lambda i=i: place(
            network,
            [(a, 1), (b, 1)] if i % 2 else [(b, 1), (a, 1)],
            external_id=f"WEB-{i}",
            customer={"email": f"c{i}@example.com"},
        )
        for i in range(ORDERS)
    ]

    outcomes = Counter(outcome(r) for r in place_concurrently(calls))

    # b has 40 units: every one of them is sold, each with one unit of a, and no more.
    assert outcomes == {"placed": 40, "insufficient_stock": 160}
    assert reserved(a) == reserved(b) == 40
    assert set(ChannelCap.objects.values_list("used", flat=True)) == {40}
    assert_nothing_oversold()


def test_a_new_customer_ordering_from_many_devices_at_once_is_created_once(network):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 100)
    calls = [
        lambda i=i: place(network, [(sku, 1)], external_id=f"WEB-{i}", customer={"email": "new@example.com"})
        for i in range(20)
    ]

    results = place_concurrently(calls)

    assert Counter(outcome(r) for r in results) == {"placed": 20}
    assert Customer.objects.count() == 1
    assert {r.customer_id for r in results} == {Customer.objects.get().pk}


def test_the_same_order_sent_many_times_at_once_is_placed_once(network):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 100)
    calls = [lambda: place(network, [(sku, 1)], external_id="WEB-1") for _ in range(20)]

    results = place_concurrently(calls)

    assert Counter(outcome(r) for r in results) == {"placed": 20}
    assert {r.pk for r in results} == set(Order.objects.values_list("pk", flat=True))
    assert Order.objects.count() == 1
    assert reserved(sku) == 1
    assert_nothing_oversold()
