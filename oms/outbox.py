"""Delivery runs of the outbox: the task that runs one, and the kick that queues one when a transaction commits.

Every change that writes an event kicks (``oms.events``); beat runs the same task every
few seconds, so a kick lost to a crash or a broker outage only delays delivery.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import WebhookDelivery
from .webhooks import webhooks_dispatch

logger = logging.getLogger(__name__)


@shared_task
def deliver_webhooks() -> int:
    """Fan new outbox events out to webhook endpoints and send the deliveries that are due."""
    return webhooks_dispatch()


class _DeliveryRunSender:
    """Sends delivery runs to the broker from a daemon thread, so no request or service call waits on it.

    Kicks that arrive while a send is under way, or within OMS_WEBHOOK_KICK_INTERVAL_SECONDS
    after it, fold into one more send: a busy process queues a few runs a second, not one
    per commit (each run is a broker message and a worker's look at the outbox). A broker
    that is slow or down costs this thread its connection attempts, never a request; what
    it fails to queue, beat runs a few seconds later.
    """

    def __init__(self) -> None:
        self._start_over()
        os.register_at_fork(after_in_child=self._start_over)  # a forked process inherits no threads

    def _start_over(self) -> None:
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._send_forever, name="webhook-kicks", daemon=True)
                self._thread.start()
        self._wanted.set()

    def _send_forever(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            try:
                deliver_webhooks.delay()
            except Exception as exc:  # the broker is down: the outbox keeps the events, beat sends them later
                logger.warning("could not queue a webhook delivery run (%s); beat will run it", type(exc).__name__)
            time.sleep(settings.OMS_WEBHOOK_KICK_INTERVAL_SECONDS)


_sender = _DeliveryRunSender()


def delivery_run_queue() -> None:
    """Queue one delivery run now: on the sender's thread, or here and now in eager set-ups (tests)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:  # deliver on this connection, as the change's caller waits
        deliver_webhooks.delay()
    else:
        _sender.kick()


# Delivery runs queued by this thread's commits so far. A kick remembers the count when it is
# made; at commit the first of its transaction's kicks finds it unchanged and queues the run,
# the others find it moved on: one run per commit, however many events the commit wrote.
_queued = threading.local()


def _queue_unless_queued_since(count: int) -> None:
    if getattr(_queued, "runs", 0) == count:
        _queued.runs = count + 1
        delivery_run_queue()


def outbox_kick() -> None:
    """Queue one delivery run for when the current transaction commits (at once outside a transaction).

    ``robust`` keeps an eager run's error from failing a committed change.
    """
    count = getattr(_queued, "runs", 0)
    transaction.on_commit(lambda: _queue_unless_queued_since(count), robust=True)


@transaction.atomic
def webhook_delivery_replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, due now with a fresh retry budget; the event id stays so receivers can de-duplicate."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.delivered_at = None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    outbox_kick()
    return delivery
