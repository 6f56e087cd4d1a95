"""ATP of SKUs at locations now and as inbound transfers arrive, read through the rule's hot statement."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from .models import Channel, Location, Sku, Transfer, TransferLine
from .sql import atp_read


def stock_availability(
    *,
    sku_ids: Iterable[int],
    location_ids: Iterable[int] | None = None,
    channel: Channel | None = None,
    now: datetime | None = None,
) -> dict[tuple[int, int], int]:
    """ATP of each (sku id, location id) that has a stock row at an active location the channel may use.

    One hand-written statement (``inventory.sql.atp_read``, the rule rendered from
    ``inventory.atp``), the channel's locations included: it is checkout's and the stock
    pages' hottest read, and compiling the ORM's form cost more than running it
    (docs/performance.md, "Hand-written SQL that remains").
    """
    sku_ids = list(set(sku_ids))
    location_ids = None if location_ids is None else list(set(location_ids))
    if not sku_ids or location_ids == []:
        return {}
    rows = atp_read(sku_ids=sku_ids, location_ids=location_ids, channel=channel, now=now or timezone.now())
    return {(sku_id, location_id): atp for sku_id, location_id, atp in rows}


def stock_available(*, sku: Sku, location: Location, channel: Channel | None = None) -> int:
    """ATP of one SKU at one location for a channel."""
    return stock_availability(sku_ids=[sku.pk], location_ids=[location.pk], channel=channel).get(
        (sku.pk, location.pk), 0
    )


# --- future ATP ------------------------------------------------------------------------


def incoming_lines() -> QuerySet[TransferLine]:
    """Transfer lines on their way that bring stock anyone may be promised: a transfer that supplies
    one order's collection brings units already reserved for it."""
    return TransferLine.objects.filter(transfer__status=Transfer.Status.IN_TRANSIT, transfer__supplies_ref="")


def inbound_by_date(*, sku_ids: Iterable[int], location: Location) -> list[tuple[datetime, int, int]]:
    """Units in transit to a location, free to promise, as (expected at, sku id, quantity), soonest first."""
    rows = (
        incoming_lines()
        .filter(sku_id__in=list(sku_ids), transfer__destination=location)
        .order_by("transfer__expected_at", "pk")
    )
    return list(rows.values_list("transfer__expected_at", "sku_id", "quantity"))


def future_atp(*, sku: Sku, location: Location, channel: Channel | None = None) -> list[tuple[datetime, int]]:
    """ATP now, then after each inbound arrival: a list of (from when, units promisable)."""
    now = timezone.now()
    atp = stock_available(sku=sku, location=location, channel=channel)
    timeline = [(now, atp)]
    for expected_at, _, quantity in inbound_by_date(sku_ids=[sku.pk], location=location):
        atp += quantity
        timeline.append((max(expected_at, now), atp))
    return timeline


def ready_at(*, lines: Mapping[int, int], location: Location, channel: Channel | None = None) -> datetime | None:
    """The earliest time every line can be promised at ``location``, counting inbound transfers."""
    now = timezone.now()
    atp = stock_availability(sku_ids=lines, location_ids=[location.pk], channel=channel)
    have = {sku_id: atp.get((sku_id, location.pk), 0) for sku_id in lines}
    missing = {s for s, q in lines.items() if have[s] < q}
    if not missing:
        return now
    for expected_at, sku_id, quantity in inbound_by_date(sku_ids=missing, location=location):
        have[sku_id] += quantity
        if all(have[s] >= lines[s] for s in missing):
            return max(expected_at, now)
    return None
