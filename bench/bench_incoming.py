"""Availability with supply to come: a 5-SKU basket's ``incoming`` among 1,000 stores, inbound and backorders.

Loads ``bench_atp``'s network (1,000 stores spread like the UK's population, two
warehouses, 100 SKUs stocked everywhere except the first 20, which are pre-orders), 300
inbound documents of 5 lines each due over the next 30 days at the warehouses and
stores, and 1,000 waiting backorder lines of the pre-order SKUs placed through
``order_place``. Then times, for random 5-SKU baskets (two of them pre-orders):

* ``incoming``: ``oms.promises.incoming`` — the supply the channel may still promise per
  SKU by date, after the waiting backorders took theirs first placed first served;
* ``availability``: ``fulfilment.availability.availability_for`` end to end (network ATP,
  ``incoming``, delivery and the 20 nearest pickup stores' ready times) from random UK
  points, as checkout's ``POST /api/v1/availability`` runs it.

Prints one JSON object; the target is p95 <= 5 ms for ``incoming``.

    .venv/bin/python bench/bench_incoming.py [--lookups 1000] [--stores 1000]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import timedelta

from bench_atp import load
from common import emit, latency_summary, setup_django, uk_point

TARGET_P95_MS = 5.0
PRE_ORDER_SKUS = 20


def supply_and_backorders(*, rng: random.Random, channel, documents: int, backorders: int) -> None:
    from decimal import Decimal

    from django.utils import timezone

    from inventory.inbound import inbound_create
    from inventory.models import Location, Sku, StockLevel
    from oms.intake import OrderInput, OrderLineInput
    from oms.services import order_place

    skus = list(Sku.objects.order_by("pk"))
    pre_orders = skus[:PRE_ORDER_SKUS]
    StockLevel.objects.filter(sku__in=pre_orders).update(on_hand=0)
    codes = list(Location.objects.values_list("code", flat=True))
    today = timezone.localdate()
    for n in range(documents):
        lines = {sku.code: rng.randint(5, 40) for sku in rng.sample(skus, 5)}
        inbound_create(
            reference=f"PO-{n:05d}",
            location=rng.choice(codes[-2:] if n % 2 else codes),
            expected_on=today + timedelta(days=rng.randint(1, 30)),
            lines=list(lines.items()),
        )
    for n in range(backorders):
        lat, lon = uk_point(rng)
        order_place(
            data=OrderInput(
                channel=channel,
                external_id=f"PRE-{n}",
                lines=[OrderLineInput(rng.choice(pre_orders).code, rng.randint(1, 3), Decimal("10.00"))],
                method="delivery",
                address={"line1": "1 Bench Street", "city": "London", "postcode": "WC2N 5DU", "country": "GB",
                         "lat": lat, "lon": lon},
                customer={"email": f"c{n % 300}@example.com"},
                when_short="backorder",
            )
        )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--backorders", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args()

    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from fulfilment.availability import availability_for
    from inventory.models import Sku
    from oms.models import OrderLine
    from oms.promises import incoming

    rng = random.Random(args.seed)
    sku_ids, channel = load(stores=args.stores, skus=100, rng=rng)
    supply_and_backorders(rng=rng, channel=channel, documents=args.documents, backorders=args.backorders)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    codes = dict(Sku.objects.values_list("pk", "code"))
    pre_orders, stocked = sku_ids[:PRE_ORDER_SKUS], sku_ids[PRE_ORDER_SKUS:]

    def basket() -> list[int]:
        return rng.sample(pre_orders, 2) + rng.sample(stocked, 3)

    def incoming_lookup():
        return incoming(sku_ids=basket(), channel=channel)

    def availability_lookup():
        lat, lon = uk_point(rng)
        lines = [(codes[s], rng.randint(1, 2)) for s in basket()]
        return availability_for(channel=channel, lines=lines, lat=lat, lon=lon)

    results = {}
    for name, lookup in (("incoming", incoming_lookup), ("availability", availability_lookup)):
        for _ in range(100):  # warm connections, plans and caches
            lookup()
        with CaptureQueriesContext(connection) as queries:
            lookup()
        seconds = []
        for _ in range(args.lookups):
            started = time.perf_counter()
            lookup()
            seconds.append(time.perf_counter() - started)
        results[name] = {"queries": len(queries.captured_queries), **latency_summary(seconds)}
    emit(
        "availability_incoming",
        {
            "stores": args.stores + 2,
            "inbound_documents": args.documents,
            "waiting_lines": OrderLine.objects.filter(backordered__gt=0).count(),
            "basket_skus": 5,
            **results,
            "target_p95_ms": TARGET_P95_MS,
            "target_met": results["incoming"]["p95_ms"] <= TARGET_P95_MS,
        },
    )


if __name__ == "__main__":
    main()
