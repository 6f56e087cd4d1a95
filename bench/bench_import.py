"""Stock-feed import rate: a 1,000,000-row snapshot CSV through ``manage.py import_stock``.

Creates 1,000 SKUs at 1,000 locations, writes a snapshot file (location,sku,on_hand) for
every pair, imports it once into empty stock (every row creates a stock level and a
ledger entry), then imports a second snapshot in which about half of the counts changed.
Prints one JSON object with rows per second for both runs and the one-minute load average
before the first import and after each (``load``).

    .venv/bin/python bench/bench_import.py [--skus 1000] [--locations 1000]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import tempfile
import time
from pathlib import Path

from common import emit, reset_inventory, setup_django


def load_catalogue(*, skus: int, locations: int) -> tuple[list[str], list[str]]:
    from inventory.models import Location, Sku

    reset_inventory()
    sku_codes = [f"F-{n:06d}" for n in range(skus)]
    location_codes = [f"ST{n:04d}" for n in range(locations)]
    Sku.objects.bulk_create((Sku(code=c, name=c) for c in sku_codes), batch_size=5000)
    Location.objects.bulk_create(
        (Location(code=c, name=c, kind="store", lat=51.5, lon=-0.1) for c in location_codes), batch_size=5000
    )
    return sku_codes, location_codes


def write_snapshot(path: Path, sku_codes, location_codes, counts: dict) -> int:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["location", "sku", "on_hand"])
        for location in location_codes:
            out.writerows([location, sku, counts[(location, sku)]] for sku in sku_codes)
    return len(location_codes) * len(sku_codes)


def timed_import(path: Path) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("import_stock", str(path), mode="snapshot", stdout=io.StringIO())
    return time.perf_counter() - started


def load() -> float:
    """The one-minute load average: other work on the machine inflates the figures."""
    return round(os.getloadavg()[0], 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1000)
    parser.add_argument("--locations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args()

    setup_django()
    from inventory.models import StockLevel
    from inventory.selectors import inventory_discrepancies

    rng = random.Random(args.seed)
    sku_codes, location_codes = load_catalogue(skus=args.skus, locations=args.locations)
    counts = {(loc, sku): rng.randint(0, 20) for loc in location_codes for sku in sku_codes}
    runs = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "snapshot.csv"
        rows = write_snapshot(path, sku_codes, location_codes, counts)
        loads = [load()]
        runs["initial"] = timed_import(path)
        loads.append(load())
        for key in rng.sample(sorted(counts), len(counts) // 2):
            counts[key] += rng.choice([-1, 1]) if counts[key] else 1
        write_snapshot(path, sku_codes, location_codes, counts)
        runs["update"] = timed_import(path)
        loads.append(load())
    emit(
        "stock_import",
        {
            "rows": rows,
            "mode": "snapshot",
            "stock_levels": StockLevel.objects.count(),
            **{f"{name}_seconds": round(s, 2) for name, s in runs.items()},
            **{f"{name}_rows_per_s": round(rows / s) for name, s in runs.items()},
            "load": loads,
            "ledger_consistent": inventory_discrepancies() == [],
        },
    )


if __name__ == "__main__":
    main()
