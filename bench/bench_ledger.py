"""check_inventory on a large ledger, before and after a checkpoint.

Loads ``--movements`` ledger rows (default 20 million) over ``--skus`` × ``--locations``
stock rows straight into the tables (INSERT … SELECT generate_series: the point is the
size of the ledger, not how it was written), sets every counter to its ledger sum, then
times ``inventory_discrepancies`` over the whole ledger, a checkpoint, and the same check
again with ``--recent`` movements written after the checkpoint.

    .venv/bin/python bench/bench_ledger.py [--movements 20000000] [--recent 10000]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from common import emit, reset_inventory, setup_django


def load(*, skus: int, locations: int, movements: int) -> int:
    """Fill the catalogue, stock rows and ledger with plain SQL; return the number of stock rows."""
    from django.db import connection

    levels = skus * locations
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO inventory_sku (code, name, category, attributes, final_sale, active)"
            " SELECT 'B' || n, 'Bench SKU ' || n, 'bench', '{}'::jsonb, false, true FROM generate_series(1, %s) n",
            [skus],
        )
        cur.execute(
            "INSERT INTO inventory_location (code, name, kind, lat, lon, address, city, postcode, country, ships,"
            " pickup, accepts_returns, priority, safety_stock, timezone, active)"
            " SELECT 'L' || n, 'Bench ' || n, 'store', 51.5, -0.1, '', '', '', 'GB', true, true, true, 0, 0,"
            " 'Europe/London', true FROM generate_series(1, %s) n",
            [locations],
        )
        cur.execute(
            "INSERT INTO inventory_stocklevel (sku_id, location_id, on_hand, reserved)"
            " SELECT s.id, l.id, 0, 0 FROM inventory_sku s CROSS JOIN inventory_location l"
        )
        cur.execute("SELECT min(id), max(id) FROM inventory_stocklevel")
        first, last = cur.fetchone()
        # Receipts of 1–3 units, spread over the stock rows and over the last three years.
        cur.execute(
            "INSERT INTO inventory_stockmovement (stock_level_id, kind, on_hand_delta, reserved_delta, reason,"
            " reference, created_at)"
            " SELECT %s + (n %% %s), 'receipt', 1 + (n %% 3), 0, '', 'bench',"
            " now() - interval '3 years' + (n * interval '3 years' / %s)"
            " FROM generate_series(1, %s) n",
            [first, last - first + 1, movements, movements],
        )
        cur.execute(
            "UPDATE inventory_stocklevel l SET on_hand = s.total FROM"
            " (SELECT stock_level_id, sum(on_hand_delta) total FROM inventory_stockmovement GROUP BY 1) s"
            " WHERE s.stock_level_id = l.id"
        )
        cur.execute("VACUUM ANALYZE inventory_stockmovement")
        cur.execute("VACUUM ANALYZE inventory_stocklevel")
    return levels


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return value, round(time.perf_counter() - started, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movements", type=int, default=20_000_000)
    parser.add_argument("--skus", type=int, default=200)
    parser.add_argument("--locations", type=int, default=500)
    parser.add_argument("--recent", type=int, default=10_000)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from inventory.ledger import ledger_checkpoint
    from inventory.models import StockLevel
    from inventory.selectors import inventory_discrepancies
    from inventory.services import stock_receive

    reset_inventory()
    (levels, load_s) = timed(lambda: load(skus=args.skus, locations=args.locations, movements=args.movements))
    full, full_s = timed(inventory_discrepancies)
    checkpoint, checkpoint_s = timed(lambda: ledger_checkpoint(now=timezone.now() + timedelta(hours=1)))
    rows = list(StockLevel.objects.select_related("sku", "location").order_by("?")[: args.recent])
    _, recent_write_s = timed(
        lambda: [stock_receive(sku=r.sku, location=r.location, quantity=1, reference="recent") for r in rows]
    )
    after, after_s = timed(inventory_discrepancies)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_total_relation_size('inventory_stockmovement')")
        ledger_bytes = cur.fetchone()[0]
    emit(
        "ledger_check",
        {
            "movements": args.movements,
            "stock_rows": levels,
            "ledger_mb": round(ledger_bytes / 2**20),
            "load_s": load_s,
            "check_full_ledger_s": full_s,
            "checkpoint_s": checkpoint_s,
            "checkpoint_movements": checkpoint.movements,
            "recent_movements": len(rows),
            "check_after_checkpoint_s": after_s,
            "consistent": full == [] and after == [],
            "speed_up": round(full_s / after_s, 1) if after_s else None,
        },
    )


if __name__ == "__main__":
    main()
