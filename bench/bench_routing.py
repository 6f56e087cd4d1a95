"""Routing latency for 5-line orders over a network of 1,000 stores and 2 warehouses.

Run by hand: ``.venv/bin/python bench/bench_routing.py [--orders N] [--stores N] [--seed N]``.
Prints one JSON object. Pure computation, no database: it times the engine alone, the
part of order placement that grows with the size of the network.
"""

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fulfilment.routing.engine import route  # noqa: E402
from fulfilment.routing.policy import Candidate, RoutingPolicy, RoutingRequest  # noqa: E402

# Great Britain's mainland, roughly: random points here stand for stores and customers.
LAT_RANGE = (50.1, 57.6)
LON_RANGE = (-5.3, 1.7)


def random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(*LAT_RANGE), rng.uniform(*LON_RANGE)


def percentile(ordered: list[float], share: float) -> float:
    return ordered[round(share * (len(ordered) - 1))]


def network(rng: random.Random, stores: int, skus: int) -> list[Candidate]:
    """Stores each range about a third of the catalogue, a few units deep; warehouses nearly all of it."""
    candidates = []
    for location_id in range(1, stores + 1):
        lat, lon = random_point(rng)
        daily = rng.choice([None, 20, 40, 80])
        candidates.append(
            Candidate(
                location_id=location_id,
                code=f"STORE-{location_id:04d}",
                kind="store",
                lat=lat,
                lon=lon,
                ships=rng.random() < 0.7,
                pickup=rng.random() < 0.9,
                priority=rng.choice([0, 0, 0, 1, 2]),
                capacity_left=None if daily is None else rng.randint(0, daily),
                stock={sku: rng.randint(1, 4) for sku in range(1, skus + 1) if rng.random() < 0.3},
                cost=rng.choice([3.0, 4.0, 5.0]),
                daily_capacity=daily,
            )
        )
    for offset, (lat, lon) in enumerate([(52.49, -1.89), (53.80, -1.55)], start=1):
        candidates.append(
            Candidate(
                location_id=stores + offset,
                code=f"WH-{offset}",
                kind="warehouse",
                lat=lat,
                lon=lon,
                ships=True,
                pickup=False,
                priority=0,
                capacity_left=None,
                stock={sku: rng.randint(20, 200) for sku in range(1, skus + 1) if rng.random() < 0.85},
                cost=2.0,
            )
        )
    return candidates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--weight-store", type=float, default=0.0, help="Also weigh the store-or-warehouse term.")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    candidates = network(rng, args.stores, args.skus)
    policy = RoutingPolicy(weight_store=args.weight_store)
    now = datetime(2025, 3, 14, 10, 0)
    requests = [
        RoutingRequest(
            lines={sku: rng.choice([1, 1, 1, 2]) for sku in rng.sample(range(1, args.skus + 1), 5)},
            method="delivery",
            destination=random_point(rng),
            now=now,
        )
        for _ in range(args.orders)
    ]
    for request in requests[:50]:  # warm-up
        route(request, candidates, policy)

    # Wall time is what an order waits; CPU time of this thread shows the cost on a busy host.
    timings, cpu_timings, shipments, routed = [], [], [], 0
    for request in requests:
        start, cpu_start = time.perf_counter(), time.thread_time()
        plan = route(request, candidates, policy)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.thread_time() - cpu_start) * 1000)
        if plan.status == "routed":
            routed += 1
            shipments.append(len(plan.groups))

    timings.sort()
    cpu_timings.sort()
    print(
        json.dumps(
            {
                "benchmark": "routing",
                "stores": args.stores,
                "warehouses": 2,
                "skus": args.skus,
                "lines_per_order": 5,
                "orders": args.orders,
                "seed": args.seed,
                "weight_store": args.weight_store,
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(percentile(timings, 0.95), 2),
                "max_ms": round(timings[-1], 2),
                "cpu_p50_ms": round(statistics.median(cpu_timings), 2),
                "cpu_p95_ms": round(percentile(cpu_timings, 0.95), 2),
                "routed_rate": round(routed / args.orders, 3),
                "split_rate": round(sum(1 for n in shipments if n > 1) / max(1, routed), 3),
                "mean_shipments": round(statistics.mean(shipments), 2) if shipments else None,
            }
        )
    )


if __name__ == "__main__":
    main()
