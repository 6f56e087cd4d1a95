"""Hand-written SQL of the fulfilment layer, kept only where a benchmark in docs/performance.md shows
the ORM cannot do the job.

* Routing's read of its candidate locations (``candidate_locations``): every order runs it,
  and the ORM's form (two correlated subqueries in annotations) cost four times what the
  database spends on it. It only reads; its columns come from the models' ``_meta``, and
  tests/fulfilment/test_sql.py runs it against the database.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db import connection

from inventory.models import Location

from .models import Fulfilment, ShippingCost

CANDIDATE_FIELDS = ("id", "code", "kind", "lat", "lon", "ships", "pickup", "priority", "daily_capacity")


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


def _in(values: Collection) -> str:
    return ", ".join(["%s"] * len(values))


def candidate_locations(*, ids: Collection[int], zones: tuple[str, ...], since: datetime) -> list[tuple]:
    """Active locations among ``ids`` in id order: ``CANDIDATE_FIELDS``, then the fulfilments taken
    since ``since`` (counted only where a daily capacity is set) and the shipping cost to the most
    specific of ``zones`` (each zone extends the next, so the greatest matching one), else to any
    destination, else None."""
    loc, f, cost = (m._meta.db_table for m in (Location, Fulfilment, ShippingCost))
    columns = ", ".join(f"l.{_col(Location, name)}" for name in CANDIDATE_FIELDS)
    capacity, zone_list = _col(Location, "daily_capacity"), [*zones, ""]
    sql = (
        f"SELECT {columns},"
        f" CASE WHEN l.{capacity} IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM {f} f"
        f" WHERE f.{_col(Fulfilment, 'location')} = l.{_col(Location, 'id')}"
        f" AND f.{_col(Fulfilment, 'created_at')} >= %s AND f.{_col(Fulfilment, 'status')} <> %s) END,"
        f" (SELECT c.{_col(ShippingCost, 'cost')} FROM {cost} c"
        f" WHERE c.{_col(ShippingCost, 'location')} = l.{_col(Location, 'id')}"
        f" AND c.{_col(ShippingCost, 'zone')} IN ({_in(zone_list)})"
        f" ORDER BY c.{_col(ShippingCost, 'zone')} DESC LIMIT 1)"
        f" FROM {loc} l WHERE l.{_col(Location, 'active')} AND l.{_col(Location, 'id')} IN ({_in(ids)})"
        f" ORDER BY l.{_col(Location, 'id')}"
    )
    params = [connection.ops.adapt_datetimefield_value(since), Fulfilment.Status.CANCELLED, *zone_list, *ids]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
