"""Order placement and availability through the HTTP API, under gunicorn, beside the service layer.

Run by hand on PostgreSQL (DATABASE_URL, default the local ``oms_bench`` database, which
is created, migrated and refilled on every run):

    .venv/bin/python bench/bench_http.py [--orders 800] [--clients 8] [--workers 3]

Loads the placement network of ``bench_orders.py`` (two warehouses, ``--stores`` deeply
stocked stores, one channel with an API token), starts gunicorn on a free local port
and measures, in the same run:

* ``service``: 3-line delivery orders through ``oms.services.order_place``, ``--clients``
  processes at once (the same work as ``bench_orders.py``'s ``orm`` figure);
* ``http``: the same kind of orders as ``POST /api/v1/orders`` from ``--clients``
  processes, each with its own ``Idempotency-Key``; target: at least half the service rate;
* ``availability``: ``POST /api/v1/availability`` for a 3-SKU basket from random UK points,
  one request at a time; target: p95 <= 15 ms.

The API's rate limit is lifted for the server it starts. Both paths queue their webhook
delivery runs on a real broker, as in production: Redis (``--broker``, or CELERY_BROKER_URL),
whose bench queue is emptied afterwards; no worker consumes it during the run. Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

from bench_orders import load, make_orders, place_with_orm, run_clients
from common import ROOT, emit, latency_summary, setup_django, uk_point

TARGET_HTTP_SHARE = 0.5
TARGET_AVAILABILITY_P95_MS = 15.0
BROKER_URL = "redis://127.0.0.1:6379/14"  # a database of its own: the tests use 15
CACHE_URL = "redis://127.0.0.1:6379/13"
ADDRESS = {"line1": "1 High Street", "city": "Anytown", "postcode": "AB1 2CD", "country": "GB"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, log=None) -> subprocess.Popen:
    """gunicorn with the bench's environment; returns once it answers."""
    # Plain http on the loopback, and persistent connections as in production behind gunicorn.
    env = {
        **os.environ,
        "OMS_API_RATE": "1000000/min",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "omnichannel.wsgi", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env, stderr=log,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=5).close()
            return server
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("gunicorn exited before it answered") from None
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within a minute")


def post(net: dict, path: str, body: dict, key: str | None = None) -> tuple[int, dict]:
    headers = {"Authorization": f"Token {net['token']}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(
        f"{net['base']}{path}", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def order_body(o: dict, net: dict) -> dict:
    return {
        "external_id": o["external_id"],
        "customer": {"email": o["email"]},
        "lines": [{"sku": net["sku_codes"][s], "quantity": 1, "unit_price": "9.99"} for s in o["skus"]],
        "currency": "GBP",
        "fulfilment": {"method": "delivery", "address": {**ADDRESS, "lat": o["lat"], "lon": o["lon"]}},
    }


def place_over_http(chunk: list[dict], net: dict) -> Counter:
    outcomes = Counter()
    for o in chunk:
        status, _ = post(net, "/api/v1/orders", order_body(o, net), key=uuid.uuid4().hex)
        outcomes["placed" if status == 201 else f"http_{status}"] += 1
    return outcomes


def availability_latency(net: dict, count: int, rng: random.Random) -> dict:
    seconds = []
    for n in range(count + 20):  # the first 20 warm every worker's connection
        lat, lon = uk_point(rng)
        body = {
            "lines": [{"sku": net["sku_codes"][s], "quantity": 1} for s in rng.sample(net["sku_ids"], 3)],
            "destination": {"lat": lat, "lon": lon},
        }
        started = time.perf_counter()
        status, _ = post(net, "/api/v1/availability", body)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"availability answered {status}")
        if n >= 20:
            seconds.append(elapsed)
    return latency_summary(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=800, help="Orders per path (service, then HTTP).")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--broker", default=BROKER_URL, help="Celery broker of both paths (CELERY_BROKER_URL wins)")
    args = parser.parse_args()

    broker_url = os.environ.setdefault("CELERY_BROKER_URL", args.broker)  # inherited by gunicorn and the clients
    os.environ.setdefault("CACHE_URL", CACHE_URL)  # the workers' shared rate-limit counters, as in production
    setup_django()
    from django.db import connection

    from omnichannel.celery import app as celery_app
    from oms.services import api_token_issue

    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1)  # a broker that is down would make both figures meaningless

    rng = random.Random(args.seed)
    net = load(stores=args.stores, routing_stores=0, skus=args.skus, rng=rng)
    net["token"] = api_token_issue(channel=net["web"], name="bench")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    run = uuid.uuid4().hex[:6]

    port = free_port()
    net["base"] = f"http://127.0.0.1:{port}"
    connection.close()
    server = start_server(port, args.workers)
    try:
        place_with_orm(make_orders(net, 50, rng, f"{run}-warm"), net)
        place_over_http(make_orders(net, 50, rng, f"{run}-warm-http"), net)
        orders = make_orders(net, args.orders, rng, f"{run}-svc")
        service = run_clients(place_with_orm, [orders[i :: args.clients] for i in range(args.clients)], net)
        orders = make_orders(net, args.orders, rng, f"{run}-http")
        http = run_clients(place_over_http, [orders[i :: args.clients] for i in range(args.clients)], net)
        availability = availability_latency(net, args.lookups, rng)
    finally:
        server.terminate()
        server.wait(timeout=30)
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(celery_app.conf.task_default_queue)
    share = http["orders_per_second"] / service["orders_per_second"]
    emit(
        "http_api",
        {
            "clients": args.clients,
            "gunicorn_workers": args.workers,
            "broker": broker_url.split("://", 1)[0],
            "stores": args.stores,
            "lines_per_order": 3,
            "service": service,
            "http": http,
            "http_to_service_ratio": round(share, 3),
            "availability": {"basket_skus": 3, **availability},
            "targets": {"http_to_service_ratio": TARGET_HTTP_SHARE, "availability_p95_ms": TARGET_AVAILABILITY_P95_MS},
            "targets_met": {
                "http_to_service_ratio": share >= TARGET_HTTP_SHARE,
                "availability_p95_ms": availability["p95_ms"] <= TARGET_AVAILABILITY_P95_MS,
            },
        },
    )


if __name__ == "__main__":
    main()
