"""Backorders and receipts of one SKU from many connections at once: every unit received is allocated
exactly once, first placed first served, nothing oversold, no deadlock, and no order left waiting
while stock it may use is free."""

import queue
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from fulfilment.models import Fulfilment, FulfilmentLine
from inventory.inbound import inbound_create, inbound_receive
from inventory.services import stock_level_for
from oms.models import Order, OrderLine
from tests.inventory.test_concurrency import assert_ledger_clean
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONNECTIONS = 60  # the server allows 100; other suites' connections need room too


def run_concurrently(jobs: list[Callable[[], object]]) -> list[object]:
    """Run the jobs over ``CONNECTIONS`` threads with a connection each, all released at once."""
    todo: queue.Queue = queue.Queue()
    for item in enumerate(jobs):
        todo.put(item)
    outcomes: list[object] = [None] * len(jobs)
    workers = min(CONNECTIONS, len(jobs))
    barrier = threading.Barrier(workers)

    def worker() -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            while True:
                try:
                    index, job = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    outcomes[index] = job()
                except Exception as exc:  # every outcome is inspected by the test
                    outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return outcomes


def failures(outcomes: list[object]) -> list[Exception]:
    return [o for o in outcomes if isinstance(o, Exception)]


def allocated_units() -> dict[int, int]:
    """Order id → units in its live fulfilments."""
    found: dict[int, int] = {}
    for order_id, quantity in FulfilmentLine.objects.exclude(fulfilment__status__in=Fulfilment.INACTIVE).values_list(
        "fulfilment__order_id", "quantity"
    ):
        found[order_id] = found.get(order_id, 0) + quantity
    return found


def test_concurrent_backorders_and_partial_receipts_allocate_every_unit_once_in_placement_order(network):
    sku, wh = network.skus[0], network.warehouse
    stock_level_for(sku=sku, location=wh)  # the warehouse stocks it, none on hand yet
    supply = inbound_create(
        reference="PO-RUSH", location=wh.code, expected_on=timezone.localdate() + timedelta(days=3),
        lines=[(sku.code, 350)],
    )  # fmt: skip

    def backorder(n: int, quantity: int):
        return lambda: place(network, [(sku, quantity)], external_id=f"WEB-{n}", when_short="backorder").pk

    def receive(units: int):
        return lambda: inbound_receive(supply=supply, lines=[(sku.code, units)])

    # 1. A hundred backorders at once (1, 2 or 3 units: 199 in all); nothing is on hand.
    first = run_concurrently([backorder(n, 1 + n % 3) for n in range(100)])
    assert failures(first) == []
    assert allocated_units() == {}

    # 2. Ten partial receipts of 10 at once, while thirty more backorders (2 units each) arrive.
    second = run_concurrently([receive(10) for _ in range(10)] + [backorder(100 + n, 2) for n in range(30)])
    assert failures(second) == []
    allocated = allocated_units()
    assert sum(allocated.values()) == 100  # every unit received, allocated once
    in_order = list(Order.objects.filter(pk__in=first).order_by("created_at", "pk"))
    got = [allocated.get(o.pk, 0) for o in in_order]
    wanted = [o.lines.get().quantity for o in in_order]
    # First placed, first served: a run of orders filled in full, at most one in part, then none.
    filled = next(i for i, (g, w) in enumerate(zip(got, wanted, strict=True)) if g < w)
    assert got[:filled] == wanted[:filled]
    assert all(g == 0 for g in got[filled + 1 :])
    assert not any(allocated.get(pk, 0) for pk in second[10:])  # the later orders wait behind them

    # 3. Enough for everyone arrives in ten receipts, while twenty more backorders come in.
    third = run_concurrently([receive(25) for _ in range(10)] + [backorder(200 + n, 2) for n in range(20)])
    assert failures(third) == []
    assert not OrderLine.objects.filter(backordered__gt=0).exists()  # nobody waits while stock is free
    demand = sum(OrderLine.objects.values_list("quantity", flat=True))
    assert demand == 299
    assert sum(allocated_units().values()) == demand
    level = network.level(wh, sku)
    assert (level.on_hand, level.reserved) == (350, 299)
    assert_ledger_clean()


def test_an_order_backordered_while_its_stock_arrives_is_never_left_waiting(network):
    """A placement that found nothing, racing the receipt that brings it: either the placement sees the
    units, or the receipt sees the backorder. Neither may miss the other."""
    sku, wh = network.skus[0], network.warehouse
    stock_level_for(sku=sku, location=wh)
    supply = inbound_create(
        reference="PO-RACE", location=wh.code, expected_on=timezone.localdate() + timedelta(days=3),
        lines=[(sku.code, 150)],
    )  # fmt: skip
    for round_ in range(5):
        jobs = [lambda: inbound_receive(supply=supply, lines=[(sku.code, 30)])] + [
            (lambda n=n, r=round_: place(network, [(sku, 1)], external_id=f"WEB-{r}-{n}", when_short="backorder"))
            for n in range(30)
        ]
        assert failures(run_concurrently(jobs)) == []
        assert list(OrderLine.objects.filter(backordered__gt=0).values_list("order__number", flat=True)) == []
    level = network.level(wh, sku)
    assert (level.on_hand, level.reserved) == (150, 150)
    assert_ledger_clean()
