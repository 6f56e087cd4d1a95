"""Availability look-up latency: a 5-SKU basket against the 20 nearest of 1,000 stores.

Loads 1,000 stores spread like the UK's population (plus two warehouses), 100 SKUs
stocked everywhere, then times ``nearest_locations_with_stock`` from random UK points.
Prints one JSON object; the target is p95 <= 5 ms.

    .venv/bin/python bench/bench_atp.py [--lookups 2000] [--stores 1000]
"""

from __future__ import annotations

import argparse
import random
import time

from common import emit, latency_summary, reset_inventory, setup_django, uk_point

TARGET_P95_MS = 5.0


def load(*, stores: int, skus: int, rng: random.Random):
    from inventory.models import Channel, Location, Sku, StockLevel, StockMovement

    reset_inventory()
    Sku.objects.bulk_create(Sku(code=f"B-{n:05d}", name=f"Bench product {n}") for n in range(skus))
    locations = []
    for n in range(stores):
        lat, lon = uk_point(rng)
        locations.append(
            Location(code=f"S{n:04d}", name=f"Store {n}", kind="store", lat=lat, lon=lon, ships=True, pickup=True,
                     safety_stock=rng.choice([0, 1, 2]))
        )  # fmt: skip
    locations += [
        Location(code="W-MIDLANDS", name="Midlands DC", kind="warehouse", lat=52.45, lon=-1.73, ships=True),
        Location(code="W-NORTH", name="Northern DC", kind="warehouse", lat=53.74, lon=-1.60, ships=True),
    ]
    Location.objects.bulk_create(locations)
    sku_ids = list(Sku.objects.values_list("id", flat=True))
    location_ids = list(Location.objects.values_list("id", flat=True))
    levels = [
        StockLevel(sku_id=s, location_id=loc, on_hand=rng.randint(0, 12)) for s in sku_ids for loc in location_ids
    ]
    StockLevel.objects.bulk_create(levels, batch_size=5000)
    StockMovement.objects.bulk_create(
        (
            StockMovement(stock_level_id=lv.pk, kind="receipt", on_hand_delta=lv.on_hand, reference="bench")
            for lv in StockLevel.objects.only("id", "on_hand").iterator(chunk_size=5000)
        ),
        batch_size=5000,
    )
    channel = Channel.objects.create(code="web", name="Web shop", kind="web", buffer=1)
    return sku_ids, channel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--skus", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from inventory.nearby import nearest_locations_with_stock

    rng = random.Random(args.seed)
    sku_ids, channel = load(stores=args.stores, skus=args.skus, rng=rng)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    def lookup():
        basket = {sku_id: rng.randint(1, 2) for sku_id in rng.sample(sku_ids, 5)}
        lat, lon = uk_point(rng)
        return nearest_locations_with_stock(lines=basket, lat=lat, lon=lon, channel=channel, limit=20)

    for _ in range(100):  # warm connections, plans and caches
        lookup()
    with CaptureQueriesContext(connection) as queries:
        lookup()
    queries_per_lookup = len(queries.captured_queries)

    seconds = []
    for _ in range(args.lookups):
        started = time.perf_counter()
        found = lookup()
        seconds.append(time.perf_counter() - started)
        assert len(found) == 20
    summary = latency_summary(seconds)
    emit(
        "atp_lookup",
        {
            "stores": args.stores + 2,
            "skus": args.skus,
            "basket_skus": 5,
            "nearest": 20,
            "queries_per_lookup": queries_per_lookup,
            **summary,
            "target_p95_ms": TARGET_P95_MS,
            "target_met": summary["p95_ms"] <= TARGET_P95_MS,
        },
    )


if __name__ == "__main__":
    main()
