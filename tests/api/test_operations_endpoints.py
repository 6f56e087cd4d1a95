"""Liveness, readiness and metrics as a load balancer and Prometheus read them."""

import pytest
from django.test import Client

from omnichannel.celery import app as celery_app
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_is_migrated_and_the_broker_answers():
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_says_503_and_names_the_broker_when_it_does_not_answer(monkeypatch, settings):
    settings.OMS_READY_BROKER_TIMEOUT_SECONDS = 0.5
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"] != "ok"


def _sample(text: str, prefix: str) -> float:
    lines = [line for line in text.splitlines() if line.startswith(prefix)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_metrics_count_placements_and_show_the_outbox_backlog(api, network):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 5)
    scrape = Client(REMOTE_ADDR="127.0.0.1")
    before = scrape.get("/metrics").content.decode()
    placed = _sample(before, 'oms_order_placements_total{status="201"}')
    timed = _sample(before, "oms_order_placement_seconds_count")

    assert api.post("/api/v1/orders", order_body(network, [(sku, 2)]), format="json").status_code == 201
    response = scrape.get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _sample(text, 'oms_order_placements_total{status="201"}') == placed + 1
    assert _sample(text, "oms_order_placement_seconds_count") == timed + 1
    assert _sample(text, "oms_outbox_undispatched_events") >= 1


def test_metrics_are_refused_to_remote_callers_without_the_token(settings):
    settings.OMS_METRICS_TOKEN = "scrape-secret"
    remote = Client(REMOTE_ADDR="203.0.113.9")
    assert remote.get("/metrics").status_code == 403
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert remote.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200
