"""Promise dates: the waiting backorders take the supply still to come, first placed first served.

The supply still to come is ``inventory.availability.supply_lots``: open inbound documents'
units not received yet and free transfers in transit, each at its location and expected
date. The lines waiting for a SKU take its lots in placement order (order created, then
order, then line), each the soonest lots at the locations its order's channel may sell
from, as many as it still waits for. A line covered in full is promised the day of the
last lot it needed (today for supply already overdue); one that is not is promised
nothing (``null``), yet keeps what it took, because when the goods arrive the waiting
lines are filled in that same order and those units go to it. ``incoming`` is what is left
for a channel to promise after that.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from inventory.atp import channel_location_ids, channels_location_ids
from inventory.availability import Lot, supply_lots
from inventory.models import Channel

from .events import event_emit
from .models import Order, OrderLine
from .selectors import WAITING_FOR_SUPPLY, waiting_for_supply

PROMISE_CHANGED = "order.promise_changed"


@dataclass
class _Line:
    pk: int
    order_id: int
    channel_id: int
    sku_id: int
    sku: str
    backordered: int
    promised_on: date | None


def _waiting(sku_ids: Collection[int], *, promised_too: bool) -> list[_Line]:
    """The lines of live orders with units waiting for these SKUs, in placement order; with
    ``promised_too`` also the lines that still carry a promise they no longer need."""
    waiting = waiting_for_supply()
    rows = (
        OrderLine.objects.filter(waiting | Q(promised_on__isnull=False) if promised_too else waiting)
        .filter(sku_id__in=list(sku_ids))
        .order_by("order__created_at", "order_id", "pk")
        .values_list(
            "pk", "order_id", "order__channel_id", "sku_id", "sku__code", "backordered", "promised_on", "order__status"
        )
    )
    return [
        _Line(pk, order_id, channel_id, sku_id, sku, backordered if status in WAITING_FOR_SUPPLY else 0, promised_on)
        for pk, order_id, channel_id, sku_id, sku, backordered, promised_on, status in rows
    ]


def _take(lots: list[Lot], lines: list[_Line]) -> tuple[dict[int, date | None], list[int]]:
    """Let ``lines`` (placement order) take ``lots`` (soonest first): each line's promise, and the units
    left of each lot."""
    left = [lot.quantity for lot in lots]
    by_sku: dict[int, list[int]] = defaultdict(list)
    for i, lot in enumerate(lots):
        by_sku[lot.sku_id].append(i)
    sells_from = channels_location_ids(channel_ids={line.channel_id for line in lines if line.backordered})
    today = timezone.localdate()
    promised: dict[int, date | None] = {}
    for line in lines:
        need, last = line.backordered, None
        allowed = sells_from.get(line.channel_id)
        for i in by_sku[line.sku_id]:
            if not need:
                break
            if left[i] and (allowed is None or lots[i].location_id in allowed):
                taken = min(need, left[i])
                left[i] -= taken
                need -= taken
                last = lots[i]
        promised[line.pk] = max(last.on, today) if last is not None and not need else None
    return promised, left


def _writable(lines: list[_Line]) -> list[_Line]:
    """The lines no other transaction is changing: they are this call's to write.

    A line another transaction holds (a placement, a cancel, a fill) gets its promise from
    that transaction's own refresh; waiting for it could deadlock.
    """
    free = set(
        OrderLine.objects.select_for_update(skip_locked=True)
        .filter(pk__in=[line.pk for line in lines])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [line for line in lines if line.pk in free]


def promises_refresh(*, sku_ids: Iterable[int], announced: Order | None = None) -> dict[int, date | None]:
    """Work out the promise date of every line waiting for these SKUs again; write those that changed.

    Each order whose waiting lines' promises moved is told once, by an ``order.promise_changed``
    event listing those lines (``previous`` is the promise before). A line that no longer
    waits (filled, cancelled) loses its promise silently. ``announced`` is an order the
    caller tells of its lines itself (a new backorder's ``order.backordered``). Returns the
    changed lines: order line id → promise.
    """
    sku_ids = set(sku_ids)
    lines = _waiting(sku_ids, promised_too=True) if sku_ids else []
    if not lines:
        return {}
    promised, _ = _take(supply_lots(sku_ids=sku_ids), lines)
    moved = [line for line in lines if promised[line.pk] != line.promised_on]
    if not moved:
        return {}
    with transaction.atomic():
        moved = _writable(moved)
        OrderLine.objects.bulk_update(
            [OrderLine(pk=line.pk, promised_on=promised[line.pk]) for line in moved], ["promised_on"]
        )
        _announce([line for line in moved if line.backordered], promised, announced)
    return {line.pk: promised[line.pk] for line in moved}


def _announce(moved: list[_Line], promised: dict[int, date | None], announced: Order | None) -> None:
    by_order: dict[int, list[_Line]] = defaultdict(list)
    for line in moved:
        if announced is None or line.order_id != announced.pk:
            by_order[line.order_id].append(line)
    orders = Order.objects.only("pk", "number", "channel_id").in_bulk(list(by_order))
    for order_id in sorted(by_order):
        order = orders[order_id]
        changes = [
            {
                "sku": line.sku,
                "backordered": line.backordered,
                "promised_on": promised_iso(promised[line.pk]),
                "previous": promised_iso(line.promised_on),
            }
            for line in by_order[order_id]
        ]
        event_emit(
            PROMISE_CHANGED, order=order, data={"order": order.pk, "order_number": order.number, "lines": changes}
        )


def promised_iso(day: date | None) -> str | None:
    """A promise as events carry it: an ISO date, or None."""
    return None if day is None else day.isoformat()


def incoming(*, sku_ids: Iterable[int], channel: Channel) -> dict[int, list[tuple[date, int]]]:
    """The supply still to come that ``channel`` may promise, per SKU: [(date, units)], soonest first.

    Units the waiting backorders will take (first placed, first served) are not counted.
    """
    sku_ids = set(sku_ids)
    found: dict[int, list[tuple[date, int]]] = {sku_id: [] for sku_id in sku_ids}
    lots = supply_lots(sku_ids=sku_ids)
    allowed = channel_location_ids(channel=channel) if lots else None
    if not any(allowed is None or lot.location_id in allowed for lot in lots):
        return found
    _, left = _take(lots, _waiting(sku_ids, promised_too=False))
    today = timezone.localdate()
    merged: dict[int, dict[date, int]] = defaultdict(dict)
    for lot, units in zip(lots, left, strict=True):
        if units and (allowed is None or lot.location_id in allowed):
            on = max(lot.on, today)
            merged[lot.sku_id][on] = merged[lot.sku_id].get(on, 0) + units
    for sku_id, days in merged.items():
        found[sku_id] = sorted(days.items())
    return found
