"""Fill on arrival: one receipt of 10,000 units against 5,000 waiting backorder lines.

Loads a warehouse and 5,000 backordered delivery orders (one line of 2 units each, over
20 SKUs, placed through ``order_place`` with ``when_short: backorder`` against an empty
warehouse), then times one ``inbound_receive`` of 500 units of each SKU: the units go on
hand and every waiting line is allocated in the same transaction, first placed first
served. Prints one JSON object; the target is at least 1,000 lines allocated per second.

    .venv/bin/python bench/bench_backorder_fill.py [--lines 5000] [--skus 20]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from common import emit, reset_inventory, setup_django

TARGET_LINES_PER_S = 1000.0


def load(*, lines: int, skus: int):
    from decimal import Decimal

    from django.utils import timezone

    from inventory.inbound import inbound_create
    from inventory.models import Channel, Location, Sku
    from inventory.services import stock_level_for
    from oms.intake import OrderInput, OrderLineInput
    from oms.services import order_place

    reset_inventory()
    Sku.objects.bulk_create(Sku(code=f"B-{n:05d}", name=f"Bench product {n}") for n in range(skus))
    warehouse = Location.objects.create(
        code="W-MIDLANDS", name="Midlands DC", kind="warehouse", lat=52.45, lon=-1.73, ships=True, pickup=False
    )
    channel = Channel.objects.create(code="web", name="Web shop", kind="web")
    catalogue = list(Sku.objects.order_by("pk"))
    for sku in catalogue:
        stock_level_for(sku=sku, location=warehouse)
    address = {"line1": "1 Bench Street", "city": "London", "postcode": "WC2N 5DU", "country": "GB"}
    for n in range(lines):
        sku = catalogue[n % skus]
        order_place(
            data=OrderInput(
                channel=channel,
                external_id=f"BENCH-{n}",
                lines=[OrderLineInput(sku.code, 2, Decimal("10.00"))],
                method="delivery",
                address={**address, "lat": 51.5080, "lon": -0.1281},
                customer={"email": f"c{n % 500}@example.com"},
                when_short="backorder",
            )
        )
    supply = inbound_create(
        reference="PO-BENCH",
        location=warehouse.code,
        expected_on=timezone.localdate() + timedelta(days=2),
        lines=[(sku.code, 2 * lines // skus) for sku in catalogue],
    )
    return supply, catalogue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--skus", type=int, default=20)
    args = parser.parse_args()

    setup_django()
    from django.db import connection

    from inventory.inbound import inbound_receive
    from oms.models import OrderLine

    supply, catalogue = load(lines=args.lines, skus=args.skus)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    waiting = OrderLine.objects.filter(backordered__gt=0).count()
    units = 2 * args.lines // args.skus
    started = time.perf_counter()
    inbound_receive(supply=supply, lines=[(sku.code, units) for sku in catalogue])
    seconds = time.perf_counter() - started
    left = OrderLine.objects.filter(backordered__gt=0).count()
    filled = waiting - left
    rate = filled / seconds
    emit(
        "backorder_fill",
        {
            "waiting_lines": waiting,
            "units_received": units * len(catalogue),
            "lines_filled": filled,
            "lines_left_waiting": left,
            "seconds": round(seconds, 3),
            "lines_per_second": round(rate, 1),
            "target_lines_per_second": TARGET_LINES_PER_S,
            "met": rate >= TARGET_LINES_PER_S and left == 0,
        },
    )


if __name__ == "__main__":
    main()
