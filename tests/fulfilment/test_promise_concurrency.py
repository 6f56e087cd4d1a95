"""Promise dates on real PostgreSQL connections: backorders, cancels and supply changes racing never deadlock."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.inbound import inbound_create
from oms.models import Order, OrderLine
from oms.promises import promises_refresh
from oms.services import order_cancel
from tests.fulfilment.test_order_concurrency import outcome, place_concurrently
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DUE = timezone.localdate() + timedelta(days=5)


def test_backorders_and_cancels_racing_for_promised_supply_all_finish_and_settle_in_placement_order(network):
    sku = network.skus[0]
    inbound_create(reference="PO-1", location=network.warehouse.code, expected_on=DUE, lines=[(sku.code, 40)])
    early = [
        place(
            network,
            [(sku, 2)],
            external_id=f"EARLY-{i}",
            customer={"email": f"e{i}@example.com"},
            when_short="backorder",
        )
        for i in range(10)
    ]
    assert {line.promised_on for line in OrderLine.objects.all()} == {DUE}
    # 30 more backorders of 2 while the first 10 orders cancel their waiting units: each cancel
    # frees supply for later orders while new ones take it.
    calls = [
        lambda i=i: place(
            network, [(sku, 2)], external_id=f"WEB-{i}", customer={"email": f"c{i}@example.com"}, when_short="backorder"
        )
        for i in range(30)
    ] + [lambda o=o: order_cancel(order=o, reason="no longer wanted") for o in early]

    outcomes = Counter(outcome(r) for r in place_concurrently(calls))

    assert outcomes == {"placed": 40}, outcomes
    # Every promise written is one the supply could give; the next change of the SKU settles any
    # a concurrent writer held back, and then exactly the first 20 waiting orders are promised.
    promises_refresh(sku_ids=[sku.pk])
    waiting = list(
        OrderLine.objects.filter(backordered__gt=0)
        .exclude(order__status=Order.Status.CANCELLED)
        .order_by("order__created_at", "order_id", "pk")
        .values_list("promised_on", flat=True)
    )
    assert waiting == [DUE] * 20 + [None] * 10
    assert not OrderLine.objects.filter(backordered=0, promised_on__isnull=False).exists()
