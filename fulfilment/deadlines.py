"""Rules of store work in time: which stores routing may not use now, and by when a store must accept.

Kept apart from the services that apply them so routing, availability and the deadline
job read one rule each.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from oms.models import Order

from .routing import WAREHOUSE, PlannedGroup
from .store_hours import add_open_minutes, unavailable_stores


def routing_unavailable(order: Order | None = None, *, at: datetime | None = None) -> dict[int, str]:
    """Stores routing must skip now (paused, closed today): location id → why.

    The customer's own pickup store is never skipped: they collect there whatever
    happens, and a closed day only moves the ready time to its next opening.
    """
    found = unavailable_stores(at=at)
    if order is not None and order.pickup_location_id in found:
        found = {k: v for k, v in found.items() if k != order.pickup_location_id}
    return found


def accept_deadline(group: PlannedGroup, source_kind: str | None, *, now: datetime | None = None) -> datetime | None:
    """When the store picking this work from its own shelf must have accepted it (None: no deadline).

    Counted in the store's opening hours from now; warehouse work and transfers into a
    pickup store are never given one, so they are never moved automatically.
    """
    if source_kind in (None, WAREHOUSE) or group.source_location_id != group.location_id:
        return None
    minutes = settings.OMS_ACCEPT_MINUTES.get(group.method)
    if not minutes:
        return None
    return add_open_minutes(location_id=group.location_id, start=now or timezone.now(), minutes=minutes)
