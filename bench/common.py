"""Shared set-up for the benchmarks: a dedicated PostgreSQL database, fresh data, JSON output.

Every benchmark reads DATABASE_URL (default: a local ``oms_bench`` database), creates
that database when it is missing, migrates it and empties the inventory tables, so a run
never depends on what an earlier run left behind.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/oms_bench"

# Rough outlines of the UK's population centres: (lat, lon, spread in degrees, weight).
UK_CITIES = [
    (51.507, -0.128, 0.25, 30),  # London
    (52.486, -1.890, 0.15, 8),  # Birmingham
    (53.480, -2.242, 0.15, 8),  # Manchester
    (53.800, -1.549, 0.12, 5),  # Leeds
    (55.864, -4.252, 0.12, 5),  # Glasgow
    (53.408, -2.991, 0.10, 4),  # Liverpool
    (54.978, -1.618, 0.10, 4),  # Newcastle
    (53.383, -1.465, 0.10, 4),  # Sheffield
    (51.455, -2.588, 0.10, 4),  # Bristol
    (55.953, -3.188, 0.10, 4),  # Edinburgh
    (52.954, -1.158, 0.10, 3),  # Nottingham
    (50.909, -1.404, 0.10, 3),  # Southampton
    (51.481, -3.179, 0.10, 3),  # Cardiff
    (54.597, -5.930, 0.10, 3),  # Belfast
    (52.205, 0.119, 0.08, 2),  # Cambridge
]
UK_BOX = (50.0, 58.6, -5.8, 1.7)  # lat min, lat max, lon min, lon max


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_URL


def setup_django() -> None:
    """Point Django at the bench database (creating and migrating it) and load the apps."""
    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key")
    os.environ.setdefault("CACHE_URL", f"file://{ROOT / 'var' / 'bench-cache'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnichannel.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT))
    _create_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    server, name = url.rsplit("/", 1)
    conn = psycopg2.connect(f"{server}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


def reset_inventory() -> None:
    """Empty every inventory table (and whatever refers to them) before loading bench data."""
    from django.apps import apps
    from django.db import connection

    tables = [m._meta.db_table for m in apps.get_app_config("inventory").get_models()]
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def uk_point(rng: random.Random, *, urban_share: float = 0.6) -> tuple[float, float]:
    """A random point in the UK: mostly around a city, otherwise anywhere in the outline box."""
    if rng.random() < urban_share:
        lat, lon, spread, _ = rng.choices(UK_CITIES, weights=[c[3] for c in UK_CITIES])[0]
        return rng.gauss(lat, spread), rng.gauss(lon, spread * 1.6)
    lat_min, lat_max, lon_min, lon_max = UK_BOX
    return rng.uniform(lat_min, lat_max), rng.uniform(lon_min, lon_max)


def percentile(samples: list[float], pct: float) -> float:
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "samples": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def emit(benchmark: str, result: dict) -> None:
    """Print one JSON object: the benchmark's name, when and where it ran, and its result."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        server_version = cur.fetchone()[0]
    record = {
        "benchmark": benchmark,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": server_version},
        **result,
    }
    print(json.dumps(record))
