"""ATP of SKUs at locations now, read through the rule's hot statement, and the supply still to come by date."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import NamedTuple

from django.db.models import DateField, DateTimeField, F, QuerySet, Value
from django.utils import timezone

from .models import Channel, InboundLine, InboundSupply, Location, Sku, Transfer, TransferLine
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


class Lot(NamedTuple):
    """Units of a SKU expected at a location from one inbound line or one transfer line."""

    at: datetime  # when they are expected: a transfer's time, the start of an inbound document's day
    sku_id: int
    location_id: int
    quantity: int

    @property
    def on(self) -> date:
        return timezone.localdate(self.at)


def incoming_lines() -> QuerySet[TransferLine]:
    """Transfer lines on their way that bring stock anyone may be promised: a transfer that supplies
    one order's collection brings units already reserved for it."""
    return TransferLine.objects.filter(transfer__status=Transfer.Status.IN_TRANSIT, transfer__supplies_ref="")


def supply_lots(*, sku_ids: Iterable[int], location_ids: Iterable[int] | None = None) -> list[Lot]:
    """The supply still to come for these SKUs at active locations, soonest first: the units of open
    inbound documents not received yet, and free transfers in transit.

    The one reading of future supply: promise dates, ``incoming`` availability, ``future_atp``
    and ``ready_at`` all count the same lots. A closed document will bring nothing more; a
    document past its day still counts until it is received or closed.
    """
    sku_ids = list(set(sku_ids))
    location_ids = None if location_ids is None else list(set(location_ids))
    if not sku_ids or location_ids == []:
        return []
    inbound = InboundLine.objects.filter(
        sku_id__in=sku_ids,
        supply__status=InboundSupply.Status.OPEN,
        supply__location__active=True,
        received__lt=F("quantity"),
    )
    moving = incoming_lines().filter(sku_id__in=sku_ids, transfer__destination__active=True)
    if location_ids is not None:
        inbound = inbound.filter(supply__location_id__in=location_ids)
        moving = moving.filter(transfer__destination_id__in=location_ids)
    # One statement for both: an inbound row has its day, a transfer row its time.
    inbound = inbound.annotate(
        lot_day=F("supply__expected_on"),
        lot_at=Value(None, output_field=DateTimeField()),
        lot_location=F("supply__location_id"),
        lot_units=F("quantity") - F("received"),
    )
    moving = moving.annotate(
        lot_day=Value(None, output_field=DateField()),
        lot_at=F("transfer__expected_at"),
        lot_location=F("transfer__destination_id"),
        lot_units=F("quantity"),
    )
    columns = ("lot_day", "lot_at", "sku_id", "lot_location", "lot_units", "pk")
    rows = inbound.values_list(*columns).union(moving.values_list(*columns), all=True)
    zone = timezone.get_current_timezone()
    keyed = [
        ((at or datetime.combine(day, time.min, tzinfo=zone)), at is not None, pk, sku_id, location_id, units)
        for day, at, sku_id, location_id, units, pk in rows
    ]
    keyed.sort()  # soonest first; at the same instant inbound documents first
    return [Lot(at, sku_id, location_id, units) for at, _, _, sku_id, location_id, units in keyed]


def inbound_by_date(*, sku_ids: Iterable[int], location: Location) -> list[tuple[datetime, int, int]]:
    """Units coming to a location, free to promise, as (expected at, sku id, quantity), soonest first."""
    return [(lot.at, lot.sku_id, lot.quantity) for lot in supply_lots(sku_ids=sku_ids, location_ids=[location.pk])]


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
    """The earliest time every line can be promised at ``location``, counting the supply still to come."""
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
