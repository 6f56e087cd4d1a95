"""Backorders racing for the last units on real PostgreSQL connections: each unit allocated once, the rest waiting."""

from collections import Counter

import pytest
from django.db.models import Sum

from oms.models import Order, OrderLine
from tests.fulfilment.test_order_concurrency import assert_nothing_oversold, outcome, place_concurrently, reserved
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS = 60


def test_60_backorders_for_20_units_allocate_exactly_20_and_backorder_the_rest(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 12)
    network.stock(network.camden, sku, 8)
    calls = [
        lambda i=i: place(
            network, [(sku, 2)], external_id=f"WEB-{i}", customer={"email": f"c{i}@example.com"}, when_short="backorder"
        )
        for i in range(ORDERS)
    ]

    outcomes = Counter(outcome(r) for r in place_concurrently(calls))

    assert outcomes == {"placed": ORDERS}
    assert_nothing_oversold()
    assert reserved(sku) == 20
    lines = OrderLine.objects.filter(order__channel=network.web)
    assert lines.aggregate(n=Sum("backordered"))["n"] == 2 * ORDERS - 20
    for order in Order.objects.prefetch_related("lines", "fulfilments__lines"):
        [line] = order.lines.all()
        allocated = sum(fl.quantity for f in order.fulfilments.all() for fl in f.lines.all())
        assert allocated + line.backordered == 2, order.number
        assert order.status == (Order.Status.BACKORDERED if allocated == 0 else Order.Status.ALLOCATED)
