"""Transfers stepped at once from several tablets while their orders are cancelled and new
collections reserve the same SKUs: each transfer ships once, none deadlock, the ledger agrees
(PostgreSQL)."""

from collections import Counter

import pytest

from core.errors import DomainError
from fulfilment.store_transfers import store_transfer_receive, store_transfer_ship
from inventory.models import Transfer
from oms.services import order_cancel
from tests.fulfilment.test_order_concurrency import assert_nothing_oversold, place_concurrently
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_ships_cancels_and_new_collections_at_once_ship_each_transfer_once(network):
    a, b = network.skus[:2]
    network.stock(network.warehouse, a, 40)
    network.stock(network.warehouse, b, 40)
    orders = [
        place(network, [(a, 1), (b, 1)], method="pickup", store=network.soho, external_id=f"C-{n}") for n in range(8)
    ]
    transfers = {t.supplies_ref: t for t in Transfer.objects.all()}
    assert len(transfers) == 8

    def ship(order):
        transfer = transfers[order.fulfilments.get().subject]
        return lambda: store_transfer_ship(transfer=Transfer.objects.get(pk=transfer.pk), store=network.warehouse)

    def cancel(order):
        return lambda: order_cancel(order=order, reason="customer")

    def collect(n):
        return lambda: place(network, [(b, 1), (a, 1)], method="pickup", store=network.soho, external_id=f"N-{n}")

    calls = [ship(o) for o in orders] * 2 + [cancel(o) for o in orders[::2]] + [collect(n) for n in range(8)]
    results = place_concurrently(calls)

    failures = [r for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)]
    assert failures == [], failures[:3]
    states = Counter(
        Transfer.objects.filter(pk__in=[t.pk for t in transfers.values()]).values_list("status", flat=True)
    )
    assert states["in_transit"] + states["cancelled"] == 8
    assert states["in_transit"] >= 4  # the orders nobody cancelled all shipped, once
    for transfer in Transfer.objects.filter(status="in_transit"):
        store_transfer_receive(transfer=transfer, store=network.soho)
    assert_nothing_oversold()
