"""Soak: mixed traffic against gunicorn for a chosen time, with an optional fault half-way.

    .venv/bin/python bench/soak.py [--minutes 10] [--clients 4] [--workers 3]
                                   [--fault kill-worker|pg-restart|broker-down]

Loads the placement network of ``bench_orders.py``, starts gunicorn (as ``bench_http.py``
does) and runs ``--clients`` threads, each picking at random: availability (60%), order
placement (20%), moving a placed order through accept → pick → pack → ship (10%), a
return received at a store (5%), a stock-feed delta from the stores' own credential (5%).
Every 10 s it samples PostgreSQL connections to the bench database and the resident
memory of gunicorn's processes. With ``--fault`` it breaks one thing half-way (SIGKILL to
a gunicorn worker, a PostgreSQL restart, or RabbitMQ — the broker of this run — stopped
for 20 s) and reports how long errors lasted. Afterwards it checks that every order that
was answered 201 exists with its fulfilments, and that every stock counter equals its
ledger. Prints one JSON object; gunicorn's own log is left in ``var/soak-server.log``.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter, defaultdict

from bench_http import free_port, order_body, post, start_server
from bench_orders import load, make_orders
from common import ROOT, emit, latency_summary, setup_django, uk_point

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672//"
CACHE_URL = "redis://127.0.0.1:6379/13"
WEIGHTS = {"availability": 60, "order": 20, "fulfil": 10, "return": 5, "feed": 5}


class Soak:
    def __init__(self, net: dict, rng: random.Random, run: str):
        self.net, self.rng, self.run = net, rng, run
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.outcomes: Counter = Counter()
        self.errors: list[tuple[float, str]] = []  # (when, what): 5xx and failed connections
        self.placed: list[dict] = []  # orders answered 201, waiting to be fulfilled
        self.shipped: list[dict] = []
        self.created_ids: list[int] = []
        self.sequence = 0

    def call(self, op: str, path: str, body: dict, token: str | None = None) -> tuple[int, dict]:
        started = time.perf_counter()
        try:
            status, answer = post({**self.net, "token": token or self.net["token"]}, path, body)
        except OSError as exc:
            status, answer = 0, {"detail": type(exc).__name__}
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency[op].append(elapsed)
            self.outcomes[f"{op}:{status}"] += 1
            if status == 0 or status >= 500:
                self.errors.append((time.monotonic(), f"{op} {path} → {status or answer['detail']}"))
        return status, answer

    def availability(self) -> None:
        lat, lon = uk_point(self.rng)
        lines = [{"sku": self.net["sku_codes"][s], "quantity": 1} for s in self.rng.sample(self.net["sku_ids"], 3)]
        self.call("availability", "/api/v1/availability", {"lines": lines, "destination": {"lat": lat, "lon": lon}})

    def order(self) -> None:
        with self.lock:
            self.sequence += 1
            seq = self.sequence
        [o] = make_orders(self.net, 1, self.rng, f"{self.run}-{seq}")
        body = order_body(o, self.net)
        body["payment"] = {"status": "authorised", "tenders": [{"type": "card", "amount": f"{9.99 * 3:.2f}"}]}
        status, answer = self.call("order", "/api/v1/orders", body)
        if status == 201:
            with self.lock:
                self.created_ids.append(answer["id"])
                self.placed.append(answer)

    def fulfil(self) -> None:
        with self.lock:
            order = self.placed.pop(0) if self.placed else None
        if order is None:
            return self.order()
        for f in order["fulfilments"]:
            base = f"/api/v1/fulfilments/{f['id']}"
            lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in f["lines"]]
            for action, body in [("accept", {}), ("pick", {"lines": lines}), ("pack", {}),
                                 ("ship", {"carrier": "DPD", "tracking": uuid.uuid4().hex[:12]})]:  # fmt: skip
                if self.call("fulfil", f"{base}/{action}", body)[0] != 200:
                    return
        with self.lock:
            self.shipped.append(order)

    def give_back(self) -> None:
        with self.lock:
            order = self.shipped.pop(0) if self.shipped else None
        if order is None:
            return self.availability()
        line = order["lines"][0]
        status, rma = self.call("return", "/api/v1/returns", {"order": order["id"], "lines": [
            {"sku": line["sku"], "quantity": 1}]})  # fmt: skip
        if status == 201:
            store = self.rng.choice(self.net["store_codes"])
            lines = [{"sku": line["sku"], "quantity": 1, "condition": "resellable"}]
            self.call("return", f"/api/v1/returns/{rma['id']}/receive", {"location": store, "lines": lines})

    def feed(self) -> None:
        store, sku = self.rng.choice(self.net["store_rows"])
        rows = [{"location": store, "sku": sku, "delta": self.rng.choice([-1, 1])}]
        self.call("feed", "/api/v1/stock-feeds", {"mode": "delta", "rows": rows}, token=self.net["feed_token"])

    def client(self, until: float) -> None:
        ops = {"availability": self.availability, "order": self.order, "fulfil": self.fulfil,
               "return": self.give_back, "feed": self.feed}  # fmt: skip
        names, weights = list(WEIGHTS), list(WEIGHTS.values())
        while time.monotonic() < until:
            ops[self.rng.choices(names, weights)[0]]()


def rss_mb(master: int) -> float:
    """Resident memory of gunicorn's master and workers, in MB."""
    pids = [str(master), *subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()]
    out = subprocess.run(["ps", "-o", "rss=", "-p", ",".join(pids)], capture_output=True, text=True).stdout
    return round(sum(int(x) for x in out.split()) / 1024, 1)


def pg_connections() -> int:
    import psycopg2
    from common import database_url

    server, name = database_url().rsplit("/", 1)
    conn = psycopg2.connect(f"{server}/postgres")
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name])
        count = cur.fetchone()[0]
    conn.close()
    return count


def watch_readiness(base: str, seconds: float, seen: list) -> threading.Thread:
    """Read /readyz every second for ``seconds``, keeping (seconds since start, status, what is down)."""
    import json
    import urllib.error
    import urllib.request

    def run() -> None:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=5) as response:
                    status, body = response.status, {}
            except urllib.error.HTTPError as exc:
                status, body = exc.code, json.loads(exc.read() or b"{}")
            except OSError as exc:
                status, body = 0, {"checks": {"web": type(exc).__name__}}
            down = [part for part, state in body.get("checks", {}).items() if state != "ok"]
            seen.append((round(time.monotonic() - started, 1), status, ",".join(down)))
            time.sleep(1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def inject(fault: str, server: subprocess.Popen) -> None:
    if fault == "kill-worker":
        worker = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()[0]
        os.kill(int(worker), signal.SIGKILL)
    elif fault == "pg-restart":
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    elif fault == "broker-down":
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True)
        time.sleep(20)
        subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True)


def _readiness_summary(seen: list) -> dict:
    """When /readyz first said not ready, what it named, and when it was ready again."""
    down = [(t, status, parts) for t, status, parts in seen if status != 200]
    if not down:
        return {"samples": len(seen), "ever_not_ready": False}
    back = next((t for t, status, _ in seen if status == 200 and t > down[0][0]), None)
    return {
        "samples": len(seen),
        "not_ready_from_s": down[0][0],
        "named": sorted({parts for _, _, parts in down}),
        "statuses": sorted({status for _, status, _ in down}),
        "ready_again_at_s": back,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--stores", type=int, default=50)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--fault", choices=["kill-worker", "pg-restart", "broker-down"])
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()

    os.environ.setdefault("CELERY_BROKER_URL", BROKER_URL)
    os.environ.setdefault("CACHE_URL", CACHE_URL)
    setup_django()
    from django.db import connection

    from inventory.credentials import location_credential_issue
    from inventory.models import Location, StockLevel
    from inventory.selectors import inventory_discrepancies
    from oms.models import Order
    from oms.services import api_token_issue

    rng = random.Random(args.seed)
    net = load(stores=args.stores, routing_stores=0, skus=args.skus, rng=rng)
    net["token"] = api_token_issue(channel=net["web"], name="soak")
    net["store_codes"] = [c for c in net["web"].sells_from.values_list("code", flat=True) if c.startswith("S")]
    Location.objects.filter(code__in=net["store_codes"]).update(accepts_returns=True)
    net["store_rows"] = list(
        StockLevel.objects.filter(location__code__in=net["store_codes"]).values_list("location__code", "sku__code")
    )
    _, net["feed_token"] = location_credential_issue(name="soak-stores", location_codes=net["store_codes"])
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    connection.close()
    port = free_port()
    net["base"] = f"http://127.0.0.1:{port}"
    log_path = ROOT / "var" / "soak-server.log"
    log_path.parent.mkdir(exist_ok=True)
    server = start_server(port, args.workers, log=log_path.open("w"))
    soak = Soak(net, rng, uuid.uuid4().hex[:6])
    started = time.monotonic()
    until = started + args.minutes * 60
    samples, fault_at, readiness = [], None, []
    try:
        clients = [threading.Thread(target=soak.client, args=(until,)) for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        last_count = 0
        while time.monotonic() < until:
            time.sleep(10)
            done = sum(len(v) for v in soak.latency.values())
            rate = round((done - last_count) / 10, 1)
            samples.append({"t_s": round(time.monotonic() - started), "requests_per_s": rate,
                            "pg_connections": pg_connections(), "gunicorn_rss_mb": rss_mb(server.pid)})  # fmt: skip
            last_count = done
            if args.fault and fault_at is None and time.monotonic() - started >= args.minutes * 30:
                fault_at = time.monotonic()
                watch_readiness(net["base"], 60, readiness)
                inject(args.fault, server)
        for thread in clients:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=30)
    elapsed = time.monotonic() - started
    errors_after_fault = [when for when, _ in soak.errors if fault_at and when >= fault_at]
    existing = set(Order.objects.filter(pk__in=soak.created_ids).values_list("pk", flat=True))
    without_work = Order.objects.filter(pk__in=soak.created_ids, fulfilments__isnull=True).count()
    emit(
        "soak",
        {
            "minutes": args.minutes,
            "clients": args.clients,
            "gunicorn_workers": args.workers,
            "fault": args.fault,
            "requests": sum(len(v) for v in soak.latency.values()),
            "requests_per_s": round(sum(len(v) for v in soak.latency.values()) / elapsed, 1),
            "latency_ms": {op: latency_summary(s) for op, s in soak.latency.items()},
            "outcomes": dict(sorted(soak.outcomes.items())),
            "errors": len(soak.errors),
            "first_errors": [what for _, what in soak.errors[:5]],
            "server_errors_logged": log_path.read_text().count("Traceback"),
            "errors_lasted_s": round(max(errors_after_fault) - fault_at, 1) if errors_after_fault else 0,
            "orders_answered_201": len(soak.created_ids),
            "orders_201_missing": len(soak.created_ids) - len(existing),
            "orders_201_without_fulfilment": without_work,
            "ledger_consistent": inventory_discrepancies() == [],
            "readyz_after_fault": _readiness_summary(readiness),
            "samples": samples,
        },
    )


if __name__ == "__main__":
    main()
