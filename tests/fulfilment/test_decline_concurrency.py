"""Declines re-routing while new orders reserve the same SKUs: none deadlock, none oversell (PostgreSQL)."""

import pytest

from fulfilment import actions
from fulfilment.models import Fulfilment
from inventory.exceptions import InsufficientStock
from tests.fulfilment.test_order_concurrency import assert_nothing_oversold, place_concurrently
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_declines_and_new_orders_for_the_same_skus_at_once_neither_deadlock_nor_oversell(network):
    a, b = network.skus[:2]
    for location in (network.soho, network.camden, network.warehouse):
        network.stock(location, a, 30)
        network.stock(location, b, 30)
    declined = [place(network, [(a, 1), (b, 1)], external_id=f"D-{n}").fulfilments.get() for n in range(10)]
    for fulfilment in declined[::2]:
        actions.fulfilment_accept(fulfilment=fulfilment)

    def decline(fulfilment):
        return lambda: actions.fulfilment_decline(
            fulfilment=Fulfilment.objects.get(pk=fulfilment.pk), reason_code="damaged"
        )

    def order(n):
        lines = [(b, 1), (a, 2)] if n % 2 else [(a, 2), (b, 1)]  # both line orders, like the checkouts
        return lambda: place(network, lines, external_id=f"N-{n}")

    calls = [decline(f) for f in declined] + [order(n) for n in range(30)]
    results = place_concurrently(calls)

    failures = [r for r in results if isinstance(r, Exception) and not isinstance(r, InsufficientStock)]
    assert failures == [], failures[:3]
    assert_nothing_oversold()
