"""Webhooks: fan-out of outbox events, signed delivery to a real local receiver, back-off, give-up and replay."""

import hashlib
import hmac
import json
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from omnichannel.celery import app
from oms import webhooks
from oms.models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from oms.outbox import deliver_webhooks, delivery_run_queue, webhook_delivery_replay
from oms.webhooks import (
    outbox_fan_out,
    webhook_backoff,
    webhook_signature,
    webhooks_dispatch,
)
from tests.factories import ChannelFactory
from tests.oms.webhook_receiver import HANG, WebhookReceiver
from tests.orders_support import place

SECRET = "whsec-test-0123456789"

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_webhooks(settings):
    settings.OMS_WEBHOOK_MAX_ATTEMPTS = 4
    settings.OMS_WEBHOOK_BACKOFF_SECONDS = 10
    settings.OMS_WEBHOOK_TIMEOUT_SECONDS = 2
    return settings


def event(channel, type="order.status_changed", **data) -> OutboxEvent:
    return OutboxEvent.objects.create(type=type, channel=channel, data=data or {"order": 1, "to": "allocated"})


def endpoint(channel, url="http://127.0.0.1:9/hooks", **kwargs) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(channel=channel, url=url, secret=SECRET, **kwargs)


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/hooks"


def test_signature_is_hmac_sha256_of_timestamp_dot_body_keyed_by_the_secret():
    body = b'{"id":"e1","type":"order.created","created":"2026-01-01T00:00:00+00:00","data":{}}'

    header = webhook_signature(secret="s3cret", timestamp=1767225600, body=body)

    expected = hmac.new(b"s3cret", b"1767225600." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1767225600,v1={expected}"


def test_fan_out_reaches_only_the_channels_active_endpoints_that_want_the_type(channel):
    other = ChannelFactory()
    everything = endpoint(channel)
    created_only = endpoint(channel, event_types=["order.created"])
    endpoint(channel, active=False)
    other_channels = endpoint(other)
    status_changed = event(channel, "order.status_changed")
    order_created = event(channel, "order.created")
    network_wide = event(None, "stock.availability_changed", sku="SKU-1")
    endpoint(channel)  # registered after the events: it gets only later ones

    assert outbox_fan_out() == 3
    assert outbox_fan_out() == 0

    pairs = set(WebhookDelivery.objects.values_list("event_id", "endpoint_id"))
    assert pairs == {
        (status_changed.pk, everything.pk),
        (order_created.pk, everything.pk),
        (order_created.pk, created_only.pk),
        (network_wide.pk, everything.pk),
        (network_wide.pk, other_channels.pk),
    }
    assert not OutboxEvent.objects.filter(dispatched_at__isnull=True).exists()
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {WebhookDelivery.Status.PENDING}


def test_fan_out_again_after_a_crash_creates_no_second_delivery(channel):
    hook = endpoint(channel)
    e = event(channel)
    outbox_fan_out()
    OutboxEvent.objects.filter(pk=e.pk).update(dispatched_at=None)  # as if the marking never committed

    outbox_fan_out()

    assert WebhookDelivery.objects.filter(event=e, endpoint=hook).count() == 1


def test_receiver_gets_the_signed_event_with_its_id_in_a_header(channel):
    with WebhookReceiver(SECRET) as receiver:
        endpoint(channel, url=receiver.url)
        e = event(channel, "order.created", order=7, number="O-ABCDEFGH")

        assert webhooks_dispatch() == 1

    [request] = receiver.received
    assert request.signature_ok and request.answered == 200
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-oms-event-id"] == str(e.pk)
    assert json.loads(request.body) == {
        "id": str(e.pk),
        "type": "order.created",
        "created": e.created.isoformat(),
        "data": {"order": 7, "number": "O-ABCDEFGH"},
    }
    t, v1 = (part.split("=", 1)[1] for part in request.headers["x-oms-signature"].split(","))
    assert v1 == hmac.new(SECRET.encode(), f"{t}.".encode() + request.body, hashlib.sha256).hexdigest()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("delivered", 1, None)
    assert delivery.delivered_at is not None


def test_failing_endpoint_is_retried_with_doubling_delays_then_given_up(channel, fast_webhooks):
    with WebhookReceiver(SECRET, script=[500] * 10) as receiver:
        endpoint(channel, url=receiver.url)
        event(channel)
        now = timezone.now()
        delays = []
        for _ in range(10):
            if not webhooks_dispatch(now=now):
                break
            delivery = WebhookDelivery.objects.get()
            if delivery.next_attempt_at is None:
                break
            assert webhooks_dispatch(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0  # not due yet
            delays.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at

        assert webhooks_dispatch(now=now + timedelta(days=1)) == 0

    assert delays == [10, 20, 40]
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 4, None)
    assert [(a.status_code, a.error) for a in delivery.log.all()] == [(500, "")] * 4
    assert len(receiver.received) == 4


def test_back_off_is_capped_at_an_hour(fast_webhooks):
    assert webhook_backoff(1) == timedelta(seconds=10)
    assert webhook_backoff(4) == timedelta(seconds=80)
    assert webhook_backoff(60) == timedelta(hours=1)


def test_delivery_succeeds_after_failures_and_the_log_shows_each_attempt(channel, fast_webhooks):
    with WebhookReceiver(SECRET, script=[503, 502]) as receiver:
        endpoint(channel, url=receiver.url)
        e = event(channel)
        now = timezone.now()
        for _ in range(3):
            webhooks_dispatch(now=now)
            now = WebhookDelivery.objects.get().next_attempt_at or now

    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    log = list(delivery.log.all())
    assert [a.status_code for a in log] == [503, 502, 200]
    assert all(a.duration_ms >= 0 and a.error == "" for a in log)
    assert receiver.accepted == [str(e.pk)]


def test_unreachable_endpoint_logs_the_error_without_a_status(channel, fast_webhooks):
    endpoint(channel, url=closed_port_url())
    event(channel)

    assert webhooks_dispatch() == 1

    delivery = WebhookDelivery.objects.get()
    [attempt] = delivery.log.all()
    assert attempt.status_code is None
    assert "ConnectionRefused" in attempt.error
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=9)


def test_slow_endpoint_times_out_and_is_retried(channel, fast_webhooks):
    fast_webhooks.OMS_WEBHOOK_TIMEOUT_SECONDS = 0.3
    with WebhookReceiver(SECRET, script=[HANG]) as receiver:
        endpoint(channel, url=receiver.url)
        e = event(channel)
        webhooks_dispatch()
        receiver.release.set()
        webhooks_dispatch(now=WebhookDelivery.objects.get().next_attempt_at)

    assert [(a.status_code, "timed out" in a.error) for a in WebhookDelivery.objects.get().log.all()] == [
        (None, True),
        (200, False),
    ]
    assert receiver.accepted == [str(e.pk)]


def test_redirect_and_non_http_urls_count_as_failures(channel, fast_webhooks):
    with WebhookReceiver(SECRET, script=[302]) as receiver:
        endpoint(channel, url=receiver.url)
        endpoint(channel, url="ftp://127.0.0.1/hooks")
        event(channel)
        assert webhooks_dispatch() == 2

    codes = dict(WebhookAttempt.objects.values_list("delivery__endpoint__url", "status_code"))
    assert codes == {receiver.url: 302, "ftp://127.0.0.1/hooks": None}
    assert WebhookAttempt.objects.get(status_code=None).error == "only http and https URLs are allowed"
    assert not WebhookDelivery.objects.filter(status="delivered").exists()


def test_a_leased_delivery_is_left_alone_until_its_lease_ends(channel, fast_webhooks):
    """A worker that dies mid-request leaves its delivery pending; it is sent once the lease runs out."""
    with WebhookReceiver(SECRET) as receiver:
        endpoint(channel, url=receiver.url)
        e = event(channel)
        outbox_fan_out()
        now = timezone.now()
        webhooks._lease_next(now)  # taken by a worker that then dies

        assert webhooks_dispatch(now=now + timedelta(seconds=3)) == 0
        assert webhooks_dispatch(now=now + timedelta(seconds=4)) == 1

    assert receiver.accepted == [str(e.pk)]
    assert WebhookDelivery.objects.get().status == "delivered"


def test_inactive_endpoint_keeps_its_deliveries_pending(channel):
    hook = endpoint(channel, url=closed_port_url())
    event(channel)
    outbox_fan_out()
    WebhookEndpoint.objects.filter(pk=hook.pk).update(active=False)

    assert webhooks_dispatch() == 0
    assert WebhookDelivery.objects.get().status == "pending"


def test_replay_sends_the_same_event_id_again_with_a_fresh_retry_budget(channel, fast_webhooks):
    with WebhookReceiver(SECRET) as receiver:
        endpoint(channel, url=receiver.url)
        e = event(channel)
        webhooks_dispatch()
        delivery = WebhookDelivery.objects.get()
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=4)

        replayed = webhook_delivery_replay(delivery=delivery)

        assert (replayed.status, replayed.attempts, replayed.delivered_at) == ("pending", 0, None)
        assert replayed.next_attempt_at <= timezone.now()
        assert webhooks_dispatch() == 1

    assert receiver.accepted == [str(e.pk), str(e.pk)]
    assert receiver.accepted_ids == {str(e.pk)}
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert delivery.log.count() == 2


def test_admin_replay_action_requeues_the_selected_deliveries(admin_client, channel):
    endpoint(channel, url=closed_port_url())
    event(channel)
    outbox_fan_out()
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=4, next_attempt_at=None)

    response = admin_client.post(
        reverse("admin:oms_webhookdelivery_changelist"), {"action": "replay", "_selected_action": [delivery.pk]}
    )

    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("pending", 0)


def test_admin_never_shows_an_endpoint_secret_and_a_blank_field_keeps_it(admin_client, channel):
    hook = endpoint(channel, url="https://shop.example.com/hooks")
    url = reverse("admin:oms_webhookendpoint_change", args=[hook.pk])

    page = admin_client.get(url).content.decode()
    listing = admin_client.get(reverse("admin:oms_webhookendpoint_changelist")).content.decode()
    response = admin_client.post(
        url, {"channel": channel.pk, "url": hook.url, "event_types": "[]", "active": "on", "secret": ""}
    )

    assert SECRET not in page and SECRET not in listing
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.secret == SECRET


def test_placing_an_order_delivers_its_events_once_the_transaction_commits(network, django_capture_on_commit_callbacks):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    with WebhookReceiver(SECRET) as receiver:
        endpoint(network.web, url=receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            order = place(network, [(sku, 1)])

    events = OutboxEvent.objects.filter(order=order)
    assert {"order.created", "order.status_changed"} <= set(events.values_list("type", flat=True))
    assert sorted(receiver.accepted) == sorted(str(pk) for pk in events.values_list("pk", flat=True))
    assert all(r.signature_ok for r in receiver.received)


def test_admin_generates_a_secret_for_a_new_endpoint_and_shows_it_once(admin_client, channel):
    response = admin_client.post(
        reverse("admin:oms_webhookendpoint_add"),
        {"channel": channel.pk, "url": "https://shop.example.com/hooks", "event_types": "[]", "active": "on"},
        follow=True,
    )

    hook = WebhookEndpoint.objects.get()
    assert len(hook.secret) == 64
    assert f"Give the receiver this signing secret now: {hook.secret}" in map(str, response.context["messages"])
    assert hook.secret not in admin_client.get(reverse("admin:oms_webhookendpoint_changelist")).content.decode()


def test_a_burst_of_commits_queues_one_delivery_run_per_interval_and_loses_none(settings, monkeypatch):
    """Under load a process sends a few broker messages a second, not one per commit; the last kick is still sent."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.OMS_WEBHOOK_KICK_INTERVAL_SECONDS = 0.5
    runs, queued = [], threading.Event()

    def count_run():
        runs.append(time.monotonic())
        queued.set()

    monkeypatch.setattr(deliver_webhooks, "delay", count_run)
    time.sleep(0.6)  # a sender thread left by an earlier test finishes its pause
    delivery_run_queue()
    assert queued.wait(5)
    for _ in range(49):
        delivery_run_queue()
    time.sleep(0.3)
    assert len(runs) == 1  # inside the pause: nothing more is sent yet
    time.sleep(0.6)
    assert len(runs) == 2  # the 49 later kicks folded into one run after the pause
    assert runs[1] - runs[0] >= 0.45


def test_every_beat_job_names_a_task_the_worker_registers(settings):
    """The delivery task lives beside the kick that queues it, not in ``oms.tasks``: the worker must still know it."""
    app.loader.import_default_modules()

    assert {job["task"] for job in settings.CELERY_BEAT_SCHEDULE.values()} <= set(app.tasks)
    assert settings.CELERY_BEAT_SCHEDULE["deliver-webhooks"]["task"] == deliver_webhooks.name
