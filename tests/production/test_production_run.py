"""The documented production run works: the Procfile's processes on PostgreSQL and RabbitMQ.

From a fresh database, the release step, the operator imports and the Procfile's web,
worker and beat commands (as docs/deployment.md gives them) serve a channel that places,
ships and returns an order over HTTP, while the worker delivers its webhooks.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import IN_CI
from tests.oms.webhook_receiver import WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
PG_SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "oms_production_run"
BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"

pytestmark = pytest.mark.postgres


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def _fresh_database() -> None:
    admin = psycopg2.connect(f"{PG_SERVER}/postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    admin.close()


class Site:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")


@pytest.fixture
def production(tmp_path):
    if not _answers(5672):
        if IN_CI:
            pytest.fail("RabbitMQ is not answering on 127.0.0.1:5672 and CI=true requires the production run")
        pytest.skip("needs RabbitMQ on 127.0.0.1:5672")
    _fresh_database()
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": f"{PG_SERVER}/{DATABASE}",
        "CELERY_BROKER_URL": BROKER_URL,
        "CACHE_URL": "redis://127.0.0.1:6379/12",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",  # TLS would end at the load balancer; the test speaks plain http
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "1",
        "BEAT_SCHEDULE": str(tmp_path / "beat-schedule"),
        "OMS_BEAT_INTERVAL_SECONDS": "1",
    }
    procfile = _procfile()

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    subprocess.run(["bash", "-c", procfile["release"]], cwd=ROOT, env=env, check=True, timeout=300)
    token = manage("create_channel", "web", "--name", "Web shop", "--kind", "web").strip().splitlines()[-1]
    manage("create_channel", "marketplace", "--name", "Marketplace", "--kind", "marketplace")
    for command, file in [
        ("import_locations", "locations"),
        ("import_skus", "skus"),
        ("import_stock", "stock_snapshot"),
    ]:
        manage(command, f"docs/examples/{file}.csv")

    processes, logs = {}, {}
    for name in ("web", "worker", "beat"):
        logs[name] = tmp_path / f"{name}.log"
        processes[name] = subprocess.Popen(
            ["bash", "-c", f"exec {procfile[name]}"],
            cwd=ROOT,
            env=env,
            stdout=logs[name].open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    site = Site(f"http://127.0.0.1:{port}", token)
    site.manage, site.logs = manage, logs
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{site.base}/readyz", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert all(p.poll() is None for p in processes.values()), {n: logs[n].read_text()[-2000:] for n in logs}
            time.sleep(0.5)
        else:
            pytest.fail(f"/readyz never said ready: {logs['web'].read_text()[-3000:]}")
        yield site
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)


def test_the_procfile_processes_place_ship_and_return_an_order_and_deliver_its_webhooks(production):
    site = production
    secret = secrets.token_hex(16)
    with WebhookReceiver(secret) as receiver:
        site.manage(
            "shell",
            "-c",
            "from oms.models import Channel, WebhookEndpoint; "
            f"WebhookEndpoint.objects.create(channel=Channel.objects.get(code='web'), url={receiver.url!r}, "
            f"secret={secret!r})",
        )
        status, order = site.call(
            "POST",
            "/api/v1/orders",
            {
                "external_id": "PROD-1",
                "customer": {"email": "p@example.com", "name": "P. Person"},
                "lines": [{"sku": "TEE001-NVY-M", "quantity": 2, "unit_price": "12.00"}],
                "currency": "GBP",
                "fulfilment": {
                    "method": "delivery",
                    "address": {
                        "line1": "1 Park Row",
                        "city": "Leeds",
                        "postcode": "LS1 5AB",
                        "country": "GB",
                        "lat": 53.797,
                        "lon": -1.546,
                    },
                },
                "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": "24.00"}]},
            },
        )
        assert status == 201, order
        [fulfilment] = order["fulfilments"]
        base = f"/api/v1/fulfilments/{fulfilment['id']}"
        for action, body in [
            ("accept", {}),
            ("pick", {"lines": [{"sku": "TEE001-NVY-M", "quantity": 2}]}),
            ("pack", {}),
            ("ship", {"carrier": "DPD", "tracking": "DPD-1"}),
        ]:
            status, answer = site.call("POST", f"{base}/{action}", body)
            assert status == 200, (action, answer)
        status, shipped = site.call("GET", f"/api/v1/orders/{order['id']}")
        assert shipped["status"] == "shipped", shipped

        status, rma = site.call(
            "POST", "/api/v1/returns", {"order": order["id"], "lines": [{"sku": "TEE001-NVY-M", "quantity": 1}]}
        )
        assert status == 201, rma
        status, received = site.call(
            "POST",
            f"/api/v1/returns/{rma['id']}/receive",
            {"location": "ST-YORK-1", "lines": [{"sku": "TEE001-NVY-M", "quantity": 1, "condition": "resellable"}]},
        )
        assert status == 200, received

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "shipped" not in _order_states(receiver):
            time.sleep(0.5)
        assert "order.created" in _types(receiver), site.logs["worker"].read_text()[-3000:]
        assert "shipped" in _order_states(receiver), site.logs["worker"].read_text()[-3000:]
        assert all(r.signature_ok for r in receiver.received)
    status, stock = site.call("GET", "/api/v1/stock?sku=TEE001-NVY-M&location=ST-YORK-1")
    assert status == 200, stock
    assert [row["on_hand"] for row in stock["locations"]] == [1]  # the returned unit, restocked at York


def _types(receiver) -> set[str]:
    return {json.loads(r.body)["type"] for r in receiver.received}


def _order_states(receiver) -> set[str]:
    bodies = [json.loads(r.body) for r in receiver.received]
    return {b["data"].get("to") for b in bodies if b["type"] == "order.status_changed"}
