"""Till sales racing each other and web orders for the same units on real PostgreSQL connections.

Declines are left out: a decline racing placements can deadlock on PostgreSQL without any
till sale (its release and re-route touch stock rows out of id order), which is a matter
for the decline service, not for sales.
"""

import io

import pytest
from django.core.management import call_command

from fulfilment.sales import SaleInput, sale_record
from oms.intake import OrderLineInput
from oms.models import Order
from tests.factories import ChannelFactory
from tests.fulfilment.test_order_concurrency import place_concurrently
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("run", range(3))
def test_till_sales_and_web_orders_at_once_leave_the_ledger_true_and_nothing_deadlocked(network, run):
    a, b = network.skus[0], network.skus[1]
    for sku in (a, b):
        network.stock(network.soho, sku, 10)
        network.stock(network.camden, sku, 10)
    till = ChannelFactory(code="tills", kind="store")
    for i in range(6):  # reserved at Soho: the tills take from these
        place(network, [(a, 1), (b, 1)], external_id=f"WEB-E{i}")

    def sale(i):
        lines = [OrderLineInput(a.code, 3, "5"), OrderLineInput(b.code, 2, "5")]
        data = SaleInput(channel=till, store=network.soho.code, external_id=f"TILL-{i}", lines=lines)
        return sale_record(data=data)[0]

    calls = [lambda i=i: sale(i) for i in range(8)]
    calls += [lambda i=i: place(network, [(b, 1), (a, 1)], external_id=f"WEB-L{i}") for i in range(8)]
    results = place_concurrently(calls)
    problems = [r for r in results if not isinstance(r, Order) and type(r).__name__ != "InsufficientStock"]
    assert not problems, [(i, str(r)) for i, r in enumerate(results) if r in problems]
    assert Order.objects.filter(method=Order.Method.IN_STORE, status=Order.Status.COMPLETED).count() == 8
    call_command("check_inventory", stdout=io.StringIO())  # raises on any counter the ledger does not explain
