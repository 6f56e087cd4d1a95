"""``/healthz``, ``/readyz`` and ``/metrics``: plain views outside the API, with no session or token."""

from __future__ import annotations

import ipaddress
import secrets

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import REGISTRY, GaugeMetricFamily

from . import metrics


@require_GET
def healthz(request):
    """Answer while the process runs; touches nothing else, so a slow database never kills a healthy web process."""
    return JsonResponse({"status": "ok"})


def _database_problem() -> str | None:
    try:
        connection = connections[DEFAULT_DB_ALIAS]
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            return "migrations not applied"
    except Exception as exc:  # any failure to reach or read the database means "not ready"
        return f"{type(exc).__name__}"
    return None


def _broker_problem() -> str | None:
    from omnichannel.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.OMS_READY_BROKER_TIMEOUT_SECONDS)
    except Exception as exc:  # any failure to reach the broker means "not ready"
        return f"{type(exc).__name__}"
    return None


@require_GET
def readyz(request):
    """Answer 200 when the database (migrated) and the broker answer; 503 naming what does not."""
    checks = {"database": _database_problem(), "broker": _broker_problem()}
    failing = {part: problem for part, problem in checks.items() if problem}
    body = {"status": "ready" if not failing else "not ready", "checks": {p: v or "ok" for p, v in checks.items()}}
    return JsonResponse(body, status=503 if failing else 200)


class _OutboxBacklog:
    """Read the outbox backlog at scrape time: events not yet fanned out and deliveries still due."""

    def collect(self):
        from oms.models import OutboxEvent, WebhookDelivery

        events = GaugeMetricFamily("oms_outbox_undispatched_events", "Domain events not yet turned into deliveries")
        events.add_metric([], OutboxEvent.objects.filter(dispatched_at__isnull=True).count())
        due = GaugeMetricFamily("oms_webhook_deliveries_pending", "Webhook deliveries not yet delivered or given up")
        due.add_metric([], WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count())
        return [events, due]


def _may_scrape(request) -> bool:
    token = settings.OMS_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and given and secrets.compare_digest(given, token):
        return True
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@require_GET
def metrics_view(request):
    """Prometheus text format, for loopback callers and those presenting the metrics token."""
    if not _may_scrape(request):
        return HttpResponse("Metrics are served to loopback addresses or with the metrics token.\n", status=403)
    registry = CollectorRegistry()
    if metrics.multiprocess():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Default())
    registry.register(_OutboxBacklog())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _Default:
    """This process's own metrics (the default registry), beside the backlog read at scrape time."""

    def collect(self):
        return REGISTRY.collect()
