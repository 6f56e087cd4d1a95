"""Webhooks delivered by real Celery workers and beat on Redis to a local receiver that checks every signature.

Back-off, beat interval and request timeout are shrunk to seconds so retries and the
lease after a killed worker run out during the test.
"""

import signal

import pytest
from django.utils import timezone

from oms.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from oms.outbox import deliver_webhooks
from tests.celery_worker import celery_worker
from tests.oms.webhook_receiver import HANG, WebhookReceiver
from tests.orders_support import place

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECRET = "whsec-worker-test-secret"
FAST_WEBHOOKS = {
    "OMS_BEAT_INTERVAL_SECONDS": "1",
    "OMS_WEBHOOK_BACKOFF_SECONDS": "0.5",
    "OMS_WEBHOOK_MAX_ATTEMPTS": "20",
    "OMS_WEBHOOK_TIMEOUT_SECONDS": "3",  # so a delivery's lease is 6 s
}


@pytest.fixture
def route_kicks(monkeypatch):
    """Queue the delivery runs that this process's commits ask for on a real worker instead of running them here."""

    def route(worker):
        monkeypatch.setattr(deliver_webhooks, "delay", lambda: worker.send("oms.outbox.deliver_webhooks"))

    return route


def all_delivered() -> bool:
    deliveries = WebhookDelivery.objects.all()
    return deliveries.exists() and not deliveries.exclude(status=WebhookDelivery.Status.DELIVERED).exists()


def event_ids() -> set[str]:
    return {str(pk) for pk in OutboxEvent.objects.values_list("pk", flat=True)}


def test_events_reach_a_receiver_that_was_down_each_exactly_once(network, route_kicks):
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    with WebhookReceiver(SECRET, script=[503] * 4) as receiver:
        WebhookEndpoint.objects.create(channel=network.web, url=receiver.url, secret=SECRET)
        with (
            celery_worker(beat=True, env=FAST_WEBHOOKS) as worker,
            celery_worker(queue=worker.queue, env=FAST_WEBHOOKS) as second,
        ):
            route_kicks(worker)
            for n in range(3):
                place(network, [(sku, 1)], external_id=f"WEB-{n}")
            worker.wait_for(all_delivered, what="every event to be delivered", timeout=60)
            second.wait_for(lambda: True, what="the second worker to be alive")

    assert worker.process.returncode == 0 and second.process.returncode == 0
    assert "Sending due task deliver-webhooks" in worker.beat_log()
    assert "Task oms.outbox.deliver_webhooks[" in worker.log() + second.log()
    expected = event_ids()
    assert len(expected) >= 6  # each order: created, then allocated
    # Two workers claimed side by side, yet every event was accepted once: no receiver de-duplication needed.
    assert receiver.accepted_ids == expected
    assert len(receiver.accepted) == len(expected)
    assert all(r.signature_ok for r in receiver.received)
    assert [r.answered for r in receiver.received[:4]] == [503] * 4
    assert WebhookAttempt.objects.filter(status_code=503).count() == 4
    assert WebhookAttempt.objects.filter(status_code=200).count() == len(expected)


def test_delivery_cut_off_by_a_killed_worker_is_sent_by_the_next_one(network, route_kicks):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    with WebhookReceiver(SECRET, script=[HANG]) as receiver:
        WebhookEndpoint.objects.create(channel=network.web, url=receiver.url, secret=SECRET)
        with celery_worker(env=FAST_WEBHOOKS) as doomed:
            route_kicks(doomed)
            place(network, [(sku, 1)])
            doomed.wait_for(receiver.hanging.is_set, what="the first request to reach the receiver")
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait(timeout=10)

        assert doomed.process.returncode == -signal.SIGKILL
        cut_off = WebhookDelivery.objects.get(event_id=receiver.received[0].headers["x-oms-event-id"])
        assert (cut_off.status, cut_off.attempts, cut_off.log.count()) == ("pending", 0, 0)
        assert cut_off.next_attempt_at > timezone.now()  # still leased to the dead worker
        receiver.release.set()

        with celery_worker(beat=True, env=FAST_WEBHOOKS) as successor:
            successor.wait_for(all_delivered, what="every event to be delivered", timeout=60)

    assert successor.process.returncode == 0
    assert receiver.accepted_ids == event_ids()
    assert str(cut_off.event_id) in receiver.accepted_ids
    cut_off.refresh_from_db()
    assert (cut_off.status, cut_off.attempts) == ("delivered", 1)
    assert [a.status_code for a in cut_off.log.all()] == [200]
