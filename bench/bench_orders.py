"""Order placement throughput beside hand-written SQL, queries per order and routing latency.

Run by hand on PostgreSQL (DATABASE_URL, default the local ``oms_bench`` database, which
is created, migrated and refilled on every run):

    .venv/bin/python bench/bench_orders.py [--orders 2000] [--clients 8] [--stores 200]

* ``orm``: 3-line delivery orders through ``oms.services.order_place`` (customer,
  routing, reservation, fulfilment, audit and outbox rows), ``--clients`` processes at once.
* ``sql``: the same orders written by raw psycopg2 in one transaction each: customer,
  order, lines, fulfilment and its lines, one conditional reservation UPDATE per line
  (in id order), reservations, ledger, activity and outbox rows, the order's routing
  explanation (the one the service stored for a warm-up order, serialised anew) and event
  payloads of the service's shape. No routing: the stock is taken at a warehouse chosen
  up front. It is the floor any system on this database pays.
* ``orm_to_sql_ratio``: how far the service is from that floor; a figure to watch, not a target.
  The target is the service's own throughput against a run before a change (``--baseline``,
  orders/s): at least 70% of it.
* ``queries_per_order``: SQL statements of ``order_place`` for a sample of orders.
* ``routing``: a 5-line order over 1,000 stores and 2 warehouses: ``routing_candidates``
  plus ``route()``, and ``route()`` alone on the same candidates.

Clients are processes, not threads, so the Python side is not serialised by the GIL.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

from common import database_url, emit, latency_summary, reset_inventory, setup_django, uk_point

# The service keeps at least this share of the throughput a baseline run measured (--baseline).
TARGET_SHARE_OF_BASELINE = 0.70
TARGET_QUERIES = 25
TARGET_ROUTE_P95_MS = 20.0
LINES_PER_ORDER = 3
CUSTOMERS = 20_000
DEEP = 1_000_000


# --- data ------------------------------------------------------------------------------


def load(*, stores: int, routing_stores: int, skus: int, rng: random.Random) -> dict:
    """Two networks sharing two warehouses: ``stores`` deep-stocked stores for placement,
    ``routing_stores`` thinly stocked ones for the routing latency, each sold by its own channel."""
    from inventory.models import Channel, Location, Sku, StockLevel, StockMovement

    reset_inventory()
    Sku.objects.bulk_create(Sku(code=f"B-{n:05d}", name=f"Bench product {n}") for n in range(skus))
    sku_ids = list(Sku.objects.values_list("id", flat=True))

    def store(code: str) -> Location:
        lat, lon = uk_point(rng)
        return Location(code=code, name=code, kind="store", lat=lat, lon=lon, ships=True, pickup=True)

    warehouses = Location.objects.bulk_create(
        [
            Location(code="W-MIDLANDS", name="Midlands DC", kind="warehouse", lat=52.45, lon=-1.73, ships=True),
            Location(code="W-NORTH", name="Northern DC", kind="warehouse", lat=53.74, lon=-1.60, ships=True),
        ]
    )
    placement = Location.objects.bulk_create(store(f"S{n:04d}") for n in range(stores))
    routing = Location.objects.bulk_create(store(f"R{n:04d}") for n in range(routing_stores))

    levels = [StockLevel(sku_id=s, location_id=w.pk, on_hand=DEEP) for w in warehouses for s in sku_ids]
    levels += [StockLevel(sku_id=s, location_id=loc.pk, on_hand=DEEP // 100) for loc in placement for s in sku_ids
               if rng.random() < 0.3]  # fmt: skip
    levels += [StockLevel(sku_id=s, location_id=loc.pk, on_hand=rng.randint(1, 4)) for loc in routing for s in sku_ids
               if rng.random() < 0.3]  # fmt: skip
    StockLevel.objects.bulk_create(levels, batch_size=5000)
    StockMovement.objects.bulk_create(
        (
            StockMovement(stock_level_id=lv.pk, kind="receipt", on_hand_delta=lv.on_hand, reference="bench")
            for lv in StockLevel.objects.only("id", "on_hand").iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    web = Channel.objects.create(code="bench-web", name="Bench web shop", kind="web")
    web.sells_from.set([*warehouses, *placement])
    wide = Channel.objects.create(code="bench-routing", name="Bench 1,000 stores", kind="web")
    wide.sells_from.set([*warehouses, *routing])
    warehouse_levels = {
        (s, loc): pk
        for pk, s, loc in StockLevel.objects.filter(location__in=warehouses).values_list("id", "sku_id", "location_id")
    }
    return {
        "web": web,
        "wide": wide,
        "sku_ids": sku_ids,
        "sku_codes": dict(Sku.objects.values_list("id", "code")),
        "warehouse_ids": [w.pk for w in warehouses],
        "warehouse_levels": warehouse_levels,
    }


def make_orders(net: dict, count: int, rng: random.Random, run: str) -> list[dict]:
    orders = []
    for n in range(count):
        lat, lon = uk_point(rng)
        orders.append(
            {
                "external_id": f"{run}-{n}",
                "skus": rng.sample(net["sku_ids"], LINES_PER_ORDER),
                "lat": lat,
                "lon": lon,
                "email": f"c{rng.randrange(CUSTOMERS)}@bench.example",
                "warehouse": rng.choice(net["warehouse_ids"]),
            }
        )
    return orders


# --- clients ---------------------------------------------------------------------------


def run_clients(worker, chunks: list[list[dict]], net: dict) -> dict:
    """Run ``worker(chunk, net)`` in one process per chunk, all started together; time the whole."""
    from django.db import connections

    connections.close_all()  # children must not share the parent's socket
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(chunks) + 1), ctx.Queue()

    def client(chunk):
        outcomes = Counter()
        barrier.wait()
        try:
            outcomes.update(worker(chunk, net))
        finally:
            results.put(outcomes)

    processes = [ctx.Process(target=client, args=(chunk,)) for chunk in chunks]
    for p in processes:
        p.start()
    barrier.wait()
    started = time.perf_counter()
    outcomes = Counter()
    for _ in processes:
        outcomes.update(results.get())
    seconds = time.perf_counter() - started
    for p in processes:
        p.join()
    placed = outcomes.pop("placed", 0)
    return {
        "orders": placed,
        "failed": dict(outcomes),
        "seconds": round(seconds, 3),
        "orders_per_second": round(placed / seconds, 1),
    }


def order_input(o: dict, net: dict):
    from oms.intake import OrderInput, OrderLineInput

    address = {"line1": "1 High Street", "city": "Anytown", "postcode": "AB1 2CD", "country": "GB"}
    return OrderInput(
        channel=net["web"],
        external_id=o["external_id"],
        lines=[OrderLineInput(net["sku_codes"][s], 1, "9.99") for s in o["skus"]],
        address={**address, "lat": o["lat"], "lon": o["lon"]},
        customer={"email": o["email"]},
    )


def place_with_orm(chunk: list[dict], net: dict) -> Counter:
    from django.db import connection

    from oms.services import order_place

    outcomes = Counter()
    try:
        for o in chunk:
            try:
                order_place(data=order_input(o, net))
                outcomes["placed"] += 1
            except Exception as exc:  # counted and reported, the run goes on
                outcomes[type(exc).__name__] += 1
    finally:
        connection.close()
    return outcomes


class HandWritten:
    """The writes of one placed order as plain INSERT/UPDATE statements on one psycopg2 connection.

    Column lists come from the models so the statements follow the schema; every value
    the ORM would default (order number, uuids, empty JSON) is given the same way.
    """

    def __init__(self, conn):
        from django.apps import apps

        from oms.models import new_order_number

        self.conn = conn
        self.order_number = new_order_number
        self.models = {label: apps.get_model(label) for label in (
            "oms.Customer", "oms.Order", "oms.OrderLine", "oms.OutboxEvent", "oms.Activity",
            "fulfilment.Fulfilment", "fulfilment.FulfilmentLine", "inventory.Reservation", "inventory.StockMovement",
        )}  # fmt: skip

    def insert(self, cur, label: str, rows: list[dict]) -> list[int]:
        from django.db.models import AutoField
        from psycopg2.extras import Json

        model = self.models[label]
        fields = [f for f in model._meta.concrete_fields if not isinstance(f, AutoField)]
        now = datetime.now(UTC)
        values = []
        for row in rows:
            for f in fields:
                if f.attname in row:
                    value = row[f.attname]
                elif getattr(f, "auto_now_add", False) or getattr(f, "auto_now", False):
                    value = now
                elif f.has_db_default() and not f.has_default():
                    value = f.db_default  # what the database would fill in
                else:
                    value = f.get_default()
                values.append(Json(value) if isinstance(value, dict | list) else value)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        columns = ", ".join(f.column for f in fields)
        sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES {', '.join([one] * len(rows))}"
        cur.execute(f"{sql} RETURNING {model._meta.pk.column}", values)
        return [r[0] for r in cur.fetchall()]

    def place(self, o: dict, net: dict) -> bool:
        """Write one order; False (and nothing written) when a line's stock is short."""
        with self.conn, self.conn.cursor() as cur:
            cur.execute(
                "SELECT id FROM oms_customer WHERE email = %s AND merged_into_id IS NULL ORDER BY id LIMIT 1",
                [o["email"]],
            )
            row = cur.fetchone()
            customer = row[0] if row else self.insert(cur, "oms.Customer", [{"email": o["email"], "name": ""}])[0]
            web = net["web"].pk
            number = self.order_number()
            [order] = self.insert(cur, "oms.Order", [{
                "number": number,
                "channel_id": web, "external_id": o["external_id"], "customer_id": customer, "currency": "GBP",
                "total": Decimal("29.97"), "method": "delivery", "status": "placed", "lat": o["lat"], "lon": o["lon"],
                "address": {"line1": "1 High Street", "city": "Anytown", "postcode": "AB1 2CD", "country": "GB"},
            }])  # fmt: skip
            lines = self.insert(cur, "oms.OrderLine", [
                {"order_id": order, "sku_id": s, "quantity": 1, "unit_price": Decimal("9.99")} for s in o["skus"]
            ])  # fmt: skip
            self.insert(cur, "oms.OutboxEvent", [{"type": "order.created", "channel_id": web, "order_id": order,
                                                  "data": {"order": order, "number": number}}])  # fmt: skip
            [fulfilment] = self.insert(cur, "fulfilment.Fulfilment", [{
                "order_id": order, "location_id": o["warehouse"], "source_location_id": o["warehouse"],
                "method": "ship_from_warehouse", "status": "pending",
            }])  # fmt: skip
            self.insert(cur, "fulfilment.FulfilmentLine", [
                {"fulfilment_id": fulfilment, "order_line_id": line, "sku_id": s, "quantity": 1}
                for line, s in zip(lines, o["skus"], strict=True)
            ])  # fmt: skip
            levels = sorted(net["warehouse_levels"][(s, o["warehouse"])] for s in o["skus"])
            for level in levels:
                cur.execute(
                    "UPDATE inventory_stocklevel SET reserved = reserved + 1 WHERE id = %s AND on_hand - reserved >= 1",
                    [level],
                )
                if cur.rowcount != 1:
                    self.conn.rollback()
                    return False
            owner = f"order:{order}"
            self.insert(cur, "inventory.Reservation", [
                {"owner_ref": owner, "stock_level_id": lv, "channel_id": web, "quantity": 1, "status": "active"}
                for lv in levels
            ])  # fmt: skip
            self.insert(cur, "inventory.StockMovement", [
                {"stock_level_id": lv, "kind": "reservation", "reserved_delta": 1, "reference": owner} for lv in levels
            ])  # fmt: skip
            routing = net["routing"]  # the explanation the service stored for a warm-up order, written anew
            cur.execute(
                "UPDATE oms_order SET status = 'allocated', routing_policy_version = 0, routing = %s WHERE id = %s",
                [json.dumps(routing), order],
            )
            summary = routing["summary"]
            self.insert(cur, "oms.Activity", [{"order_id": order, "subject": "order", "action": "allocate",
                                               "from_state": "placed", "to_state": "allocated",
                                               "reason": summary}])  # fmt: skip
            self.insert(cur, "oms.OutboxEvent", [{"type": "order.status_changed", "channel_id": web, "order_id": order,
                                                  "data": {"order": order, "order_number": number, "subject": "order",
                                                           "from": "placed", "to": "allocated", "action": "allocate",
                                                           "reason": summary}}])  # fmt: skip
        return True


def place_with_sql(chunk: list[dict], net: dict) -> Counter:
    import psycopg2
    from psycopg2.errors import UniqueViolation

    conn = psycopg2.connect(database_url())
    writer, outcomes = HandWritten(conn), Counter()
    try:
        for o in chunk:
            try:
                placed = writer.place(o, net)
            except UniqueViolation:  # another client created the same customer first: go again
                placed = writer.place(o, net)
            outcomes["placed" if placed else "InsufficientStock"] += 1
    finally:
        conn.close()
    return outcomes


# --- single-process measures -----------------------------------------------------------


def queries_per_order(orders: list[dict], net: dict) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oms.services import order_place

    counts = []
    for o in orders:
        with CaptureQueriesContext(connection) as ctx:
            order_place(data=order_input(o, net))
        counts.append(len(ctx.captured_queries))
    return {"sample": len(counts), "mean": round(sum(counts) / len(counts), 1), "min": min(counts), "max": max(counts)}


def routing_latency(net: dict, count: int, rng: random.Random) -> dict:
    from django.utils import timezone

    from fulfilment.routing.candidates import routing_candidates, routing_policy_for
    from fulfilment.routing.engine import route
    from fulfilment.routing.policy import RoutingRequest

    channel = net["wide"]
    policy = routing_policy_for(channel=channel)
    with_candidates, route_only, candidate_counts = [], [], []
    for n in range(count + 20):  # the first 20 warm connections and caches
        skus = rng.sample(net["sku_ids"], 5)
        request = RoutingRequest(lines=dict.fromkeys(skus, 1), method="delivery", destination=uk_point(rng),
                                 now=timezone.now())  # fmt: skip
        started = time.perf_counter()
        candidates = routing_candidates(channel=channel, sku_ids=skus, near=request.destination)
        loaded = time.perf_counter()
        route(request, candidates, policy)
        done = time.perf_counter()
        if n >= 20:
            with_candidates.append(done - started)
            route_only.append(done - loaded)
            candidate_counts.append(len(candidates))
    return {
        "stores": channel.sells_from.filter(kind="store").count(),
        "lines": 5,
        "mean_candidates": round(sum(candidate_counts) / len(candidate_counts)),
        "with_routing_candidates": latency_summary(with_candidates),
        "route_only": latency_summary(route_only),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="Orders per method (ORM, then SQL).")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--stores", type=int, default=200)
    parser.add_argument("--routing-stores", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--routes", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument(
        "--baseline",
        type=float,
        default=None,
        help="Orders/s of the service measured on this machine before a change (e.g. the previous release "
        "run just before): the run must keep 70% of it.",
    )
    args = parser.parse_args()

    # Each commit queues a webhook delivery run; publish it in memory, the broker is not what is measured.
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    setup_django()
    from django.db import connection

    from oms.models import Order

    rng = random.Random(args.seed)
    net = load(stores=args.stores, routing_stores=args.routing_stores, skus=args.skus, rng=rng)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    run = uuid.uuid4().hex[:6]

    warm = make_orders(net, 50, rng, f"{run}-warm")
    place_with_orm(warm, net)  # plans, caches and customers' first rows before timing
    net["routing"] = Order.objects.filter(external_id=warm[-1]["external_id"]).values_list("routing", flat=True).get()
    orders = make_orders(net, args.orders, rng, f"{run}-orm")
    orm = run_clients(place_with_orm, [orders[i :: args.clients] for i in range(args.clients)], net)
    orders = make_orders(net, args.orders, rng, f"{run}-sql")
    sql = run_clients(place_with_sql, [orders[i :: args.clients] for i in range(args.clients)], net)
    ratio = orm["orders_per_second"] / sql["orders_per_second"]
    queries = queries_per_order(make_orders(net, 50, rng, f"{run}-count"), net)
    routing = routing_latency(net, args.routes, rng)

    emit(
        "order_placement",
        {
            "clients": args.clients,
            "lines_per_order": LINES_PER_ORDER,
            "stores": args.stores,
            "orm": orm,
            "sql": sql,
            "orm_to_sql_ratio": round(ratio, 3),
            "queries_per_order": queries,
            "routing": routing,
            "baseline_orders_per_second": args.baseline,
            "targets": {
                "share_of_baseline": TARGET_SHARE_OF_BASELINE if args.baseline else None,
                "queries_per_order": TARGET_QUERIES,
                "route_p95_ms": TARGET_ROUTE_P95_MS,
            },
            "targets_met": {
                "share_of_baseline": (
                    orm["orders_per_second"] >= TARGET_SHARE_OF_BASELINE * args.baseline if args.baseline else None
                ),
                "queries_per_order": queries["max"] <= TARGET_QUERIES,
                "route_p95_ms": routing["with_routing_candidates"]["p95_ms"] <= TARGET_ROUTE_P95_MS,
            },
        },
    )


if __name__ == "__main__":
    main()
