"""Placing an order costs a fixed number of SQL statements, however big the network is."""

import pytest

from oms.models import Order
from tests.factories import LocationFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db

# Statements for one 3-line delivery order from a returning customer, from the idempotency
# check to the outbox rows: resolve SKUs and customer, write the order and its lines, read
# candidates (ATP, then locations; the channel's locations are a subquery of the stock
# read), reserve (row guards, one guarded UPDATE per stock row, the channel's caps only
# when one applies, then the ledger and the reservations; no savepoint: a lost race takes
# its UPDATEs back), write the fulfilment and its lines, and
# the allocate transition: the order's changed fields and its audit row; then the order's
# created and status-changed events in one outbox INSERT.
# The routing policies come from the cache (read by the customer's first order). Two of them
# are the test's own outer savepoint (SAVEPOINT/RELEASE around order_place); a request has
# BEGIN/COMMIT instead.
QUERIES_PER_3_LINE_ORDER = 20


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


def test_a_first_time_customer_costs_only_their_insert(network, django_assert_num_queries):
    a, b, c = network.skus
    for sku in (a, b, c):
        network.stock(network.soho, sku, 5)
    place(network, [(a, 1)], external_id="WEB-0")  # the channel's policy and locations are read here

    with django_assert_num_queries(QUERIES_PER_3_LINE_ORDER + 2):  # the INSERT, no savepoint, then read back
        order = place(network, [(a, 1), (b, 1), (c, 1)], external_id="WEB-1", customer={"email": "new@example.com"})

    assert order.customer.email == "new@example.com"
    assert order.status == Order.Status.ALLOCATED
