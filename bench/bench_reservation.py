"""Reservation throughput with 8 concurrent clients: the service beside hand-written SQL.

Each client process makes single- or two-line requests over a shared set of stock rows
and releases about half of them straight away, first through
``inventory.reservations.stock_reserve`` / ``reservations_release``, then as raw psycopg2:
one conditional ``UPDATE … WHERE on_hand - reserved - safety >= q`` per line (rows in id
order), the reservation and ledger INSERTs, in one transaction. The raw path is the floor
any system on this database pays; the target is service/raw >= 0.5. Prints one JSON object.

    .venv/bin/python bench/bench_reservation.py [--clients 8] [--requests 400]
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time

from common import database_url, emit, reset_inventory, setup_django

TARGET_RATIO = 0.5


def load(*, skus: int, locations: int) -> None:
    from inventory.models import Location, Sku, StockLevel, StockMovement

    reset_inventory()
    Sku.objects.bulk_create(Sku(code=f"R-{n:04d}", name=f"Bench product {n}") for n in range(skus))
    Location.objects.bulk_create(
        Location(code=f"L{n:03d}", name=f"Store {n}", kind="store", lat=51.5, lon=-0.1, safety_stock=n % 3)
        for n in range(locations)
    )
    StockLevel.objects.bulk_create(
        StockLevel(sku=sku, location=loc, on_hand=1_000_000)
        for sku in Sku.objects.all()
        for loc in Location.objects.all()
    )
    StockMovement.objects.bulk_create(
        StockMovement(stock_level=lv, kind="receipt", on_hand_delta=lv.on_hand, reference="bench")
        for lv in StockLevel.objects.all()
    )


def plan(seed: int, requests: int, pairs: list) -> list[tuple[list[tuple], bool]]:
    """The same random work for both paths: (lines of (pair, quantity), release afterwards)."""
    rng = random.Random(seed)
    return [
        ([(pair, rng.randint(1, 2)) for pair in rng.sample(pairs, rng.choice([1, 2]))], rng.random() < 0.5)
        for _ in range(requests)
    ]


def run_service(work, barrier) -> float:
    from django.db import connection

    from inventory.models import Location, Sku
    from inventory.reservations import StockRequest, reservations_release, stock_reserve

    skus, locations = Sku.objects.in_bulk(), Location.objects.in_bulk()
    barrier.wait()
    started = time.perf_counter()
    for n, (lines, release) in enumerate(work):
        requests = [StockRequest(skus[s], locations[loc], q) for (s, loc), q in lines]
        reservations = stock_reserve(requests=requests, owner_ref=f"bench:{n}")
        if release:
            reservations_release(reservations=reservations, reason="cancelled")
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


RESERVE = (
    "UPDATE inventory_stocklevel SET reserved = reserved + %(q)s "
    "WHERE id = %(id)s AND on_hand - reserved - %(safety)s >= %(q)s"
)
INSERT_RESERVATION = (
    "INSERT INTO inventory_reservation (owner_ref, stock_level_id, quantity, status, created_at) "
    "VALUES (%s, %s, %s, 'active', now()) RETURNING id"
)
INSERT_MOVEMENT = (
    "INSERT INTO inventory_stockmovement (stock_level_id, kind, on_hand_delta, reserved_delta, reason, reference, "
    "created_at) VALUES (%s, %s, 0, %s, %s, %s, now())"
)


def run_raw(work, barrier) -> float:
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(database_url())
    with conn.cursor() as cur:
        cur.execute(
            "SELECT s.sku_id, s.location_id, s.id, COALESCE(o.quantity, l.safety_stock) "
            "FROM inventory_stocklevel s JOIN inventory_location l ON l.id = s.location_id "
            "LEFT JOIN inventory_safetystock o ON o.sku_id = s.sku_id AND o.location_id = s.location_id"
        )
        levels = {(s, loc): (level_id, safety) for s, loc, level_id, safety in cur.fetchall()}
    conn.commit()
    barrier.wait()
    started = time.perf_counter()
    for n, (lines, release) in enumerate(work):
        owner = f"raw:{n}"
        rows = sorted((levels[pair][0], levels[pair][1], q) for pair, q in lines)
        with conn, conn.cursor() as cur:  # one transaction: commit on success
            for level_id, safety, q in rows:
                cur.execute(RESERVE, {"q": q, "id": level_id, "safety": safety})
                if cur.rowcount != 1:
                    raise RuntimeError("bench stock ran out")
            ids = [
                r[0]
                for r in execute_values(
                    cur, INSERT_RESERVATION.replace("VALUES (%s, %s, %s, 'active', now())", "VALUES %s"),
                    [(owner, level_id, q) for level_id, _, q in rows],
                    template="(%s, %s, %s, 'active', now())", fetch=True,
                )
            ]  # fmt: skip
            execute_values(
                cur, INSERT_MOVEMENT.replace("VALUES (%s, %s, 0, %s, %s, %s, now())", "VALUES %s"),
                [(level_id, "reservation", q, "", owner) for level_id, _, q in rows],
                template="(%s, %s, 0, %s, %s, %s, now())",
            )  # fmt: skip
        if release:
            with conn, conn.cursor() as cur:
                cur.execute(
                    "SELECT id FROM inventory_reservation WHERE id = ANY(%s) AND status = 'active' "
                    "ORDER BY id FOR UPDATE",
                    [ids],
                )
                for level_id, _, q in rows:
                    cur.execute("UPDATE inventory_stocklevel SET reserved = reserved - %s WHERE id = %s", [q, level_id])
                cur.execute(
                    "UPDATE inventory_reservation SET status = 'released', closed_at = now() WHERE id = ANY(%s)", [ids]
                )
                execute_values(
                    cur, INSERT_MOVEMENT.replace("VALUES (%s, %s, 0, %s, %s, %s, now())", "VALUES %s"),
                    [(level_id, "release", -q, "cancelled", owner) for level_id, _, q in rows],
                    template="(%s, %s, 0, %s, %s, %s, now())",
                )  # fmt: skip
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def client(path: str, work, barrier, results) -> None:
    import django

    django.setup()
    results.put((run_service if path == "service" else run_raw)(work, barrier))


def measure(path: str, works: list) -> dict:
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(works)), ctx.Queue()
    processes = [ctx.Process(target=client, args=(path, work, barrier, results)) for work in works]
    for p in processes:
        p.start()
    elapsed = [results.get() for _ in processes]
    for p in processes:
        p.join()
    requests = sum(len(w) for w in works)
    wall = max(elapsed)
    return {"requests": requests, "seconds": round(wall, 3), "requests_per_s": round(requests / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400, help="per client")
    parser.add_argument("--skus", type=int, default=50)
    parser.add_argument("--locations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    setup_django()
    from django.db import connections

    from inventory.models import StockLevel
    from inventory.selectors import inventory_discrepancies

    load(skus=args.skus, locations=args.locations)
    pairs = list(StockLevel.objects.values_list("sku_id", "location_id"))
    works = [plan(args.seed + c, args.requests, pairs) for c in range(args.clients)]
    connections.close_all()

    service = measure("service", works)
    raw = measure("raw", works)
    ratio = round(service["requests_per_s"] / raw["requests_per_s"], 3)
    emit(
        "reservation_throughput",
        {
            "clients": args.clients,
            "stock_rows": len(pairs),
            "lines_per_request": "1 or 2",
            "released_share": 0.5,
            "service": service,
            "raw_sql": raw,
            "ratio": ratio,
            "target_ratio": TARGET_RATIO,
            "target_met": ratio >= TARGET_RATIO,
            "ledger_consistent": inventory_discrepancies() == [],
        },
    )


if __name__ == "__main__":
    main()
