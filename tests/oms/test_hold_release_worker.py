"""A timed order hold is lifted by beat and a real Celery worker on Redis, and the order is routed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oms.models import Activity, Order
from oms.services import order_hold
from tests.backoffice.worklist_support import bare_order
from tests.celery_worker import celery_worker

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_beat_releases_a_hold_whose_time_out_passed_and_leaves_an_open_ended_one(network):
    network.stock(network.soho, network.skus[2], 2)
    timed = bare_order(network, "WEB-TIMED")
    open_ended = bare_order(network, "WEB-OPEN")
    order_hold(order=timed, reason="fraud", until=timezone.now() + timedelta(seconds=2))
    order_hold(order=open_ended, reason="customer")

    with celery_worker(beat=True, env={"OMS_BEAT_INTERVAL_SECONDS": "1"}) as worker:
        worker.wait_for(
            lambda: Order.objects.get(pk=timed.pk).status == Order.Status.ALLOCATED,
            what="the timed hold to be released and the order routed",
        )

    assert worker.process.returncode == 0
    assert "Sending due task release-due-holds" in worker.beat_log()
    assert Order.objects.get(pk=open_ended.pk).status == Order.Status.ON_HOLD
    released = Activity.objects.get(order=timed, action="release")
    assert (released.reason, released.actor) == ("its time-out passed", None)
