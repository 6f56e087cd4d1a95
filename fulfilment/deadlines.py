"""Rules of work in time: which stores routing may not use now, and by when work must be accepted and ready.

Kept apart from the services that apply them so routing, availability and the deadline
job read one rule each.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from oms.models import Order

from .models import Fulfilment
from .routing.candidates import routing_policy_for
from .routing.policy import WAREHOUSE, PlannedGroup
from .store_hours import add_open_minutes, unavailable_stores


def routing_unavailable(
    order: Order | None = None, *, at: datetime | None = None, stores: dict[int, str] | None = None
) -> dict[int, str]:
    """Stores routing must skip now (paused, closed today): location id → why.

    The customer's own pickup store is never skipped: they collect there whatever
    happens, and a closed day only moves the ready time to its next opening.
    ``stores``: ``unavailable_stores`` when the caller read it once for many orders.
    """
    found = unavailable_stores(at=at) if stores is None else stores
    if order is not None and order.pickup_location_id in found:
        found = {k: v for k, v in found.items() if k != order.pickup_location_id}
    return found


def accept_deadline(group: PlannedGroup, source_kind: str | None, *, now: datetime | None = None) -> datetime | None:
    """When the location picking this work from its own shelf must have accepted it (None: no deadline).

    Counted in the location's opening hours from now: ``OMS_ACCEPT_MINUTES`` for stores,
    ``OMS_WAREHOUSE_ACCEPT_MINUTES`` for warehouses (none by default). Transfers into a
    pickup store are never given one, so they are never moved automatically.
    """
    if source_kind is None or group.source_location_id != group.location_id:
        return None
    table = settings.OMS_WAREHOUSE_ACCEPT_MINUTES if source_kind == WAREHOUSE else settings.OMS_ACCEPT_MINUTES
    return _after(table.get(group.method), location_id=group.location_id, now=now)


def ready_deadline(fulfilment: Fulfilment, *, now: datetime | None = None) -> datetime | None:
    """By when accepted work must be ready for pickup or shipped (None: no deadline): its ``due_by``.

    ``OMS_READY_MINUTES`` (stores) or ``OMS_WAREHOUSE_READY_MINUTES`` per method, counted in
    opening hours from acceptance. A transfer into a pickup store keeps the ready time the
    customer was promised instead.
    """
    if fulfilment.source_location_id != fulfilment.location_id:
        return None
    warehouse = fulfilment.location.kind == WAREHOUSE
    table = settings.OMS_WAREHOUSE_READY_MINUTES if warehouse else settings.OMS_READY_MINUTES
    return _after(table.get(fulfilment.method), location_id=fulfilment.location_id, now=now)


def _after(minutes, *, location_id: int, now: datetime | None) -> datetime | None:
    if not minutes:
        return None
    return add_open_minutes(location_id=location_id, start=now or timezone.now(), minutes=minutes)


def deadline_moves_work(fulfilment: Fulfilment) -> bool:
    """Whether a missed accept deadline takes this work away: always at a store; at a warehouse
    only when the channel's routing policy says ``reroute_warehouse_on_deadline``."""
    if fulfilment.location.kind != WAREHOUSE:
        return True
    return routing_policy_for(channel=fulfilment.order.channel).reroute_warehouse_on_deadline
