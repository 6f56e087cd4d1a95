"""Placing an order costs a fixed number of SQL statements, however big the network is."""

import pytest

from oms.models import Order
from tests.factories import LocationFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db

# Statements for one 3-line delivery order from a returning customer, from the idempotency
# check to the outbox row: resolve SKUs and customer, write the order and its lines, read
# candidates, route, write the fulfilment and its lines, reserve each line (one guarded
# UPDATE per stock row), write reservations, ledger, audit and outbox rows, and the
# savepoints that let a lost stock race re-route. Two of the 27 are the test's own outer
# savepoint (SAVEPOINT/RELEASE around order_place), which a request does not pay: 25 there.
QUERIES_PER_3_LINE_ORDER = 27


def test_placing_a_3_line_order_takes_a_fixed_number_of_queries(network, django_assert_num_queries):
    a, b, c = network.skus
    far_away = LocationFactory.create_batch(20, lat=55.95, lon=-3.19)  # Edinburgh: candidates that lose
    for store in (network.soho, network.camden, network.warehouse, *far_away):
        for sku in (a, b, c):
            network.stock(store, sku, 5)
    place(network, [(a, 1)], external_id="WEB-0")  # the customer's first order creates them

    with django_assert_num_queries(QUERIES_PER_3_LINE_ORDER):
        order = place(network, [(a, 1), (b, 1), (c, 2)], external_id="WEB-1")

    assert order.status == Order.Status.ALLOCATED
    assert order.fulfilments.get().location == network.soho
