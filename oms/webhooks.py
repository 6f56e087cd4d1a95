"""Webhooks: fan each outbox event out to the endpoints that want it, then deliver it signed, with back-off.

Delivery is at-least-once. An event's outbox row commits with the change it reports; a
delivery run (``oms.outbox``: queued after every commit that writes an event, and run by
beat) creates one delivery per event and endpoint and sends the due ones. Before sending,
a worker leases the delivery by moving ``next_attempt_at`` past the request timeout: other
workers skip it while the request is in flight, and pick it up again if the sender dies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta
from http.client import HTTPException
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from prometheus_client import Counter, Histogram

from .models import Order, OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("http", "https")
BACKOFF_CAP = timedelta(hours=1)
FAN_OUT_BATCH = 500
SEND_BATCH = 100


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect counts as a failure: the receiver must be configured with its real URL


_opener = build_opener(_NoRedirect)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the ``X-OMS-Signature`` header: HMAC-SHA256 of ``"<t>.<body>"`` keyed by the endpoint's secret.

    Signing the time with the body lets a receiver refuse an old request replayed by someone else.
    """
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_customer(event: OutboxEvent) -> dict | None:
    """The customer of the event's order as it stands now (anonymised once erased), for endpoints entitled to it."""
    if event.order_id is None:
        return None
    order = Order.objects.select_related("customer").filter(pk=event.order_id).first()
    if order is None:
        return None
    person = order.customer
    return {
        "name": person.name if person else "",
        "email": person.email if person else None,
        "phone": person.phone if person else None,
        "member_number": person.member_number if person else None,
        "address": order.address or None,
    }


def event_body(event: OutboxEvent, *, customer_data: bool = False) -> bytes:
    """The signed JSON body; the customer's details only for an endpoint configured with ``customer_data``.

    The stored event holds ids and codes only, so personal data is read when sending, never
    copied into the outbox, and an erased person's details are never sent afterwards.
    """
    data = event.data
    if customer_data and (customer := event_customer(event)) is not None:
        data = {**data, "customer": customer}
    payload = {"id": str(event.id), "type": event.type, "created": event.created.isoformat(), "data": data}
    return json.dumps(payload, separators=(",", ":")).encode()


def webhook_backoff(attempts: int) -> timedelta:
    """Return the wait after the ``attempts``-th failure: the base doubling each time, capped at an hour."""
    seconds = settings.OMS_WEBHOOK_BACKOFF_SECONDS * 2 ** min(attempts - 1, 20)
    return min(timedelta(seconds=seconds), BACKOFF_CAP)


def _receives(endpoint: WebhookEndpoint, event: OutboxEvent) -> bool:
    # Events without a channel (network-wide news such as stock availability) go to every channel;
    # an endpoint gets the events that happen after it was registered, not the history before it.
    return (
        event.channel_id in (None, endpoint.channel_id)
        and endpoint.wants(event.type)
        and endpoint.created_at <= event.created
    )


def outbox_fan_out(*, now: datetime | None = None, limit: int = FAN_OUT_BATCH) -> int:
    """Create a pending delivery for each new event and each active endpoint that wants it; return the events handled.

    Concurrent runs take disjoint events (``skip_locked``), and the unique (event, endpoint)
    pair makes a repeated fan-out harmless.
    """
    now = now or timezone.now()
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(dispatched_at__isnull=True)
            .order_by("created")[:limit]
        )
        if not events:
            return 0
        endpoints = list(WebhookEndpoint.objects.filter(active=True))
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
                for event in events
                for endpoint in endpoints
                if _receives(endpoint, event)
            ],
            ignore_conflicts=True,
        )
        OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
    return len(events)


def _lease_next(now: datetime) -> WebhookDelivery | None:
    """Take the most overdue delivery and hide it from other workers until the request has surely ended."""
    lease = timedelta(seconds=2 * settings.OMS_WEBHOOK_TIMEOUT_SECONDS)  # the timeout is per socket operation
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, endpoint__active=True)
            .order_by("next_attempt_at")
            .first()
        )
        if delivery is not None:
            delivery.next_attempt_at = now + lease
            delivery.save(update_fields=["next_attempt_at"])
    return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed event; return the HTTP status (None if there was no answer) and an error without secrets."""
    endpoint = delivery.endpoint
    if urlsplit(endpoint.url).scheme not in ALLOWED_SCHEMES:
        return None, "only http and https URLs are allowed"
    body = event_body(delivery.event, customer_data=endpoint.customer_data)
    request = Request(
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "OMS-Webhooks/1",
            "X-OMS-Event-Id": str(delivery.event_id),
            "X-OMS-Signature": webhook_signature(secret=endpoint.secret, timestamp=int(time.time()), body=body),
        },
    )
    try:
        with _opener.open(request, timeout=settings.OMS_WEBHOOK_TIMEOUT_SECONDS) as response:
            return response.status, ""
    except HTTPError as exc:
        exc.close()
        return exc.code, ""
    except (OSError, HTTPException, ValueError) as exc:  # URLError is an OSError; ValueError: a malformed URL
        reason = exc.reason if isinstance(exc, URLError) else exc
        return None, f"{type(reason).__name__}: {reason}"[:255]


@transaction.atomic
def _record(delivery: WebhookDelivery, *, status_code: int | None, error: str, duration_ms: int, now: datetime):
    """Log the attempt, then mark the delivery delivered, due again after its back-off, or given up."""
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    WebhookAttempt.objects.create(delivery=delivery, status_code=status_code, duration_ms=duration_ms, error=error)
    delivery.attempts += 1
    if status_code is not None and 200 <= status_code < 300:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = WebhookDelivery.Status.DELIVERED, now, None
    elif delivery.status == WebhookDelivery.Status.PENDING:  # not already delivered by a concurrent attempt
        if delivery.attempts >= settings.OMS_WEBHOOK_MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.FAILED, None
        else:
            delivery.next_attempt_at = now + webhook_backoff(delivery.attempts)
    delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    return delivery


_ATTEMPTS = Counter("oms_webhook_attempts_total", "Webhook delivery attempts, by outcome", ["outcome"])
_ATTEMPT_SECONDS = Histogram(
    "oms_webhook_attempt_seconds",
    "Time of one webhook delivery attempt",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def _observe(status_code: int | None, seconds: float) -> None:
    """Count one attempt as delivered (2xx), refused (another answer) or unreachable (no answer)."""
    outcome = "unreachable" if status_code is None else "delivered" if 200 <= status_code < 300 else "refused"
    _ATTEMPTS.labels(outcome=outcome).inc()
    _ATTEMPT_SECONDS.observe(seconds)


def webhook_deliveries_send_due(*, now: datetime | None = None, limit: int = SEND_BATCH) -> int:
    """Send due deliveries one at a time, each leased first; return the number of attempts made."""
    attempts = 0
    while attempts < limit and (delivery := _lease_next(now or timezone.now())) is not None:
        started = time.monotonic()
        status_code, error = _post(delivery)
        seconds = time.monotonic() - started
        _observe(status_code, seconds)
        duration_ms = round(seconds * 1000)
        delivery = _record(
            delivery, status_code=status_code, error=error, duration_ms=duration_ms, now=now or timezone.now()
        )
        logger.info(
            "webhook event %s to endpoint %s: %s (attempt %s, %s)",
            delivery.event_id,
            delivery.endpoint_id,
            status_code or error.split(":", 1)[0],
            delivery.attempts,
            delivery.status,
        )
        attempts += 1
    return attempts


def webhooks_dispatch(*, now: datetime | None = None) -> int:
    """Fan out every new event, then send what is due; return the number of delivery attempts made."""
    while outbox_fan_out(now=now) == FAN_OUT_BATCH:
        pass
    return webhook_deliveries_send_due(now=now)
