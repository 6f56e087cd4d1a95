"""Click-and-collect timed jobs run by a real Celery worker and beat on Redis.

The reminder and expiry windows are shrunk to seconds (reminder after 1.8 s on the
shelf, expiry after 8.6 s) so beat, ticking every second, fires them during the test.
"""

import pytest
from django.core.management import call_command

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from inventory.models import StockLevel
from oms.models import Activity, Order, OutboxEvent
from tests.celery_worker import celery_worker
from tests.orders_support import place

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FAST_PICKUP_WINDOWS = {
    "OMS_BEAT_INTERVAL_SECONDS": "1",
    "OMS_PICKUP_REMINDER_HOURS": "0.0005",
    "OMS_PICKUP_EXPIRY_DAYS": "0.0001",
}


def on_the_shelf(order: Order) -> Fulfilment:
    fulfilment = order.fulfilments.get()
    fulfilment_accept(fulfilment=fulfilment)
    fulfilment_pick(fulfilment=fulfilment, picked={line.sku.code: line.quantity for line in fulfilment.lines.all()})
    return fulfilment_ready(fulfilment=fulfilment)


def events(order: Order, kind: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(order=order, type=kind).order_by("created"))


def test_collected_parcel_is_left_alone_and_uncollected_one_is_reminded_then_expired(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    collected = place(network, [(sku, 1)], external_id="WEB-1", method="pickup", store=network.soho)
    forgotten = place(network, [(sku, 2)], external_id="WEB-2", method="pickup", store=network.soho)

    with celery_worker(beat=True, env=FAST_PICKUP_WINDOWS) as worker:
        parcel = on_the_shelf(collected)
        assert len(parcel.pickup_code) == 6
        fulfilment_collect(fulfilment=parcel, pickup_code=parcel.pickup_code)
        waiting = on_the_shelf(forgotten)

        worker.wait_for(lambda: events(forgotten, "fulfilment.pickup_reminder"), what="the pickup reminder")
        worker.wait_for(
            lambda: Order.objects.get(pk=forgotten.pk).status == Order.Status.CANCELLED,
            what="the uncollected order to be cancelled",
        )

    assert worker.process.returncode == 0
    assert "Task fulfilment.tasks.expire_pickups[" in worker.log()
    assert "Sending due task remind-pickups" in worker.beat_log()

    # The collected order is complete, its unit left the store, and nobody was chased.
    assert Order.objects.get(pk=collected.pk).status == Order.Status.COMPLETED
    assert Fulfilment.objects.get(pk=parcel.pk).status == Fulfilment.Status.COLLECTED
    assert events(collected, "fulfilment.pickup_reminder") == []

    # The forgotten one was reminded once, then expired: stock back on sale, refund asked for.
    [reminder] = events(forgotten, "fulfilment.pickup_reminder")
    expired = Activity.objects.get(subject=waiting.subject, action="expire")
    assert reminder.created < expired.at
    assert Fulfilment.objects.get(pk=waiting.pk).status == Fulfilment.Status.EXPIRED
    [refund] = events(forgotten, "refund.requested")
    assert refund.data["amount"] == "20.00"
    level = StockLevel.objects.get(sku=sku, location=network.soho)
    assert (level.on_hand, level.reserved) == (4, 0)
    call_command("check_inventory")
