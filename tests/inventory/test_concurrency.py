"""Reservations under real contention: many PostgreSQL connections hitting the same rows at once.

Each worker thread uses its own Django connection (connections are per thread), waits
at a barrier so all of them start together, and closes its connection at the end.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from inventory.availability import stock_available
from inventory.exceptions import InsufficientStock
from inventory.models import Reservation, StockLevel
from inventory.reservations import StockRequest, hold_place, holds_release_expired, stock_reserve
from inventory.selectors import inventory_discrepancies
from inventory.services import stock_receive
from tests.factories import SkuFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEADLOCK = "40P01"


def run_together(jobs: list[Callable[[], object]]) -> list[object]:
    """Run every job in its own thread and connection, released at the same instant.

    Returns each job's result or the exception it raised, in job order.
    """
    barrier = threading.Barrier(len(jobs))
    outcomes: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            outcomes[index] = job()
        except Exception as exc:  # every outcome is inspected by the test
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return outcomes


def tally(outcomes: list[object]) -> Counter[str]:
    return Counter("ok" if not isinstance(o, Exception) else type(o).__name__ for o in outcomes)


def unexpected(outcomes: list[object]) -> list[Exception]:
    """Anything but success or a clean refusal, e.g. a deadlock or a CHECK violation."""
    return [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InsufficientStock)]


def deadlocks(outcomes: list[object]) -> list[Exception]:
    return [o for o in outcomes if getattr(getattr(o, "__cause__", None), "pgcode", None) == DEADLOCK]


def assert_ledger_clean() -> None:
    assert inventory_discrepancies() == []
    call_command("check_inventory")  # raises CommandError on any disagreement


def test_fifty_buyers_race_for_the_last_ten_units_and_exactly_ten_win(store):
    sku = SkuFactory()
    stock_receive(sku=sku, location=store, quantity=10)

    outcomes = run_together(
        [lambda n=n: stock_reserve(requests=[StockRequest(sku, store, 1)], owner_ref=f"order:{n}") for n in range(50)]
    )

    assert unexpected(outcomes) == []
    assert tally(outcomes) == {"ok": 10, "InsufficientStock": 40}
    level = StockLevel.objects.get(sku=sku, location=store)
    assert (level.on_hand, level.reserved) == (10, 10)
    assert stock_available(sku=sku, location=store) == 0
    assert Reservation.objects.filter(status=Reservation.Status.ACTIVE).count() == 10
    assert_ledger_clean()


def test_two_line_orders_in_opposite_line_order_never_deadlock_or_oversell(store):
    shirt, jeans = SkuFactory(), SkuFactory()
    stock_receive(sku=shirt, location=store, quantity=30)
    stock_receive(sku=jeans, location=store, quantity=30)

    def order(n: int):
        lines = [StockRequest(shirt, store, 1), StockRequest(jeans, store, 1)]
        return stock_reserve(requests=lines if n % 2 else lines[::-1], owner_ref=f"order:{n}")

    outcomes = run_together([lambda n=n: order(n) for n in range(50)])

    assert deadlocks(outcomes) == []
    assert unexpected(outcomes) == []
    # A request is refused only once 30 others have committed both lines.
    assert tally(outcomes) == {"ok": 30, "InsufficientStock": 20}
    assert set(StockLevel.objects.values_list("on_hand", "reserved")) == {(30, 30)}
    assert_ledger_clean()


def test_expiry_job_racing_new_orders_releases_every_hold_without_deadlock(store):
    shirt, jeans = SkuFactory(), SkuFactory()
    stock_receive(sku=shirt, location=store, quantity=20)
    stock_receive(sku=jeans, location=store, quantity=20)
    basket = [StockRequest(shirt, store, 1), StockRequest(jeans, store, 1)]
    holds = [hold_place(requests=basket, channel=None, ttl=timedelta(minutes=15)) for _ in range(10)]
    # The holds' time-to-live passes: ATP already counts their units as free.
    Reservation.objects.filter(owner_ref__in=holds).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert stock_available(sku=shirt, location=store) == 20

    def order(n: int):
        return stock_reserve(requests=basket if n % 2 else basket[::-1], owner_ref=f"order:{n}")

    jobs = [lambda n=n: order(n) for n in range(25)] + [holds_release_expired] * 3
    outcomes = run_together(jobs)

    assert deadlocks(outcomes) == []
    assert unexpected(outcomes) == []
    orders = tally(outcomes[:25])
    assert orders == {"ok": 20, "InsufficientStock": 5}
    # Every hold is released exactly once, by a job or by an order that reused its units.
    assert not Reservation.objects.filter(owner_ref__in=holds, status=Reservation.Status.ACTIVE).exists()
    assert set(StockLevel.objects.values_list("on_hand", "reserved")) == {(20, 20)}
    assert_ledger_clean()
