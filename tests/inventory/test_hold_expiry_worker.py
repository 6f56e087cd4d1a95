"""The hold-expiry job really runs in a Celery worker on Redis and frees expired checkout holds."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from inventory.models import Reservation, StockLevel
from inventory.reservations import StockRequest, hold_place
from inventory.selectors import inventory_discrepancies
from inventory.services import stock_receive
from tests.celery_worker import celery_worker

TASK = "inventory.tasks.release_expired_holds"


def test_beat_runs_the_hold_expiry_job_every_minute_or_less():
    entries = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == TASK]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 60


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_worker_releases_an_expired_hold_and_leaves_live_ones(sku, store):
    stock_receive(sku=sku, location=store, quantity=5)
    expired = hold_place(requests=[StockRequest(sku, store, 2)], channel=None, ttl=timedelta(minutes=15))
    live = hold_place(requests=[StockRequest(sku, store, 1)], channel=None, ttl=timedelta(minutes=15))
    Reservation.objects.filter(owner_ref=expired).update(expires_at=timezone.now() - timedelta(seconds=1))

    with celery_worker() as worker:
        worker.send(TASK)
        worker.wait_for(
            lambda: not Reservation.objects.filter(owner_ref=expired, status=Reservation.Status.ACTIVE).exists(),
            what="the expired hold to be released",
        )

    assert f"Task {TASK}[" in worker.log() and "succeeded" in worker.log()
    assert worker.process.returncode == 0
    assert Reservation.objects.get(owner_ref=live).status == Reservation.Status.ACTIVE
    assert StockLevel.objects.get(sku=sku, location=store).reserved == 1
    assert inventory_discrepancies() == []
