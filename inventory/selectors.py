"""Reads of the catalogue and of stock as the staff pages and the channels see it.

ATP itself is ``inventory.atp``; locations by distance are ``inventory.nearby``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch, Q, Sum
from django.db.models.functions import Upper

from .availability import stock_availability
from .ledger import ledger_totals
from .models import Barcode, Channel, Location, Reservation, Sku, SkuAlias, StockLevel, Transfer, TransferLine
from .nearby import LocationAvailability, nearest_locations_with_stock

# --- catalogue -------------------------------------------------------------------------


def _skus_by_code(codes: list[str]) -> dict[str, Sku]:
    """SKUs by their own code, with what an order line needs (``attributes`` and cost stay deferred)."""
    skus = Sku.objects.filter(code__in=codes).only("code", "name", "category", "final_sale", "active")
    return {sku.code: sku for sku in skus}


def skus_resolve(*, codes: Iterable[str], channel: Channel | None = None) -> dict[str, Sku]:
    """Map each code to its SKU, trying the SKU code, then a barcode, then the channel's alias,
    then the SKU code in any case (people type "shirt-m" for SHIRT-M).

    Codes that match nothing are absent from the result. Without a channel an alias
    resolves only when exactly one channel uses it.
    """
    wanted = {c.strip() for c in codes if c and c.strip()}
    if not wanted:
        return {}
    found = _skus_by_code(list(wanted))
    rest = wanted - found.keys()
    if rest:
        found.update({b.code: b.sku for b in Barcode.objects.filter(code__in=rest).select_related("sku")})
        rest -= found.keys()
    if rest:
        aliases = SkuAlias.objects.filter(code__in=rest).select_related("sku")
        if channel is not None:
            aliases = aliases.filter(channel=channel)
        by_code: dict[str, dict[int, Sku]] = defaultdict(dict)
        for alias in aliases:
            by_code[alias.code][alias.sku_id] = alias.sku
        found.update({c: next(iter(s.values())) for c, s in by_code.items() if len(s) == 1})
        rest -= found.keys()
    if rest:
        found.update(_skus_by_code_any_case(rest))
    return found


def _skus_by_code_any_case(codes: set[str]) -> dict[str, Sku]:
    """SKUs whose code is one of ``codes`` but for case ("shirt-m" is SHIRT-M), on the upper-case index;
    a code two SKUs share but for case is left out as ambiguous."""
    by_upper: dict[str, dict[int, Sku]] = defaultdict(dict)
    for sku in Sku.objects.alias(code_upper=Upper("code")).filter(code_upper__in={c.upper() for c in codes}):
        by_upper[sku.code.upper()][sku.pk] = sku
    return {c: next(iter(s.values())) for c in codes if len(s := by_upper.get(c.upper(), {})) == 1}


def sku_resolve(*, code: str, channel: Channel | None = None) -> Sku | None:
    """Return the SKU a scanned or typed code means (SKU code, GTIN/EAN or channel alias)."""
    return skus_resolve(codes=[code], channel=channel).get(code.strip())


# --- ledger check ----------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    sku: str
    location: str
    field: str
    counter: int
    expected: int
    source: str


def inventory_discrepancies() -> list[Discrepancy]:
    """Every stock counter that disagrees with the ledger or with the live reservations.

    The ledger's sums come from the newest checkpoint plus the movements after it
    (``inventory.ledger``), so the check reads recent movements, not all history.
    """
    ledger = ledger_totals()
    live = dict(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE)
        .values_list("stock_level_id")
        .annotate(total=Sum("quantity"))
    )
    found = []
    levels = StockLevel.objects.values_list("id", "sku__code", "location__code", "on_hand", "reserved")
    for level_id, sku, location, on_hand, reserved in levels.iterator(chunk_size=5000):
        ledger_on_hand, ledger_reserved = ledger.get(level_id, (0, 0))
        checks = [
            ("on_hand", on_hand, ledger_on_hand, "ledger"),
            ("reserved", reserved, ledger_reserved, "ledger"),
            ("reserved", reserved, live.get(level_id, 0), "reservations"),
        ]
        found += [Discrepancy(sku, location, f, have, want, src) for f, have, want, src in checks if have != want]
    return found


# --- stock by location -----------------------------------------------------------------


@dataclass(frozen=True)
class LocationStock:
    location: str
    on_hand: int
    reserved: int
    available: int


def stock_by_location(
    *, sku: Sku, channel: Channel | None = None, location: Location | None = None
) -> list[LocationStock]:
    """On-hand, reserved and the channel's ATP of one SKU at every active location holding a stock row."""
    levels = StockLevel.objects.filter(sku=sku, location__active=True).select_related("location")
    if location is not None:
        levels = levels.filter(location=location)
    levels = list(levels.order_by("location__code"))
    atp = stock_availability(sku_ids=[sku.pk], location_ids=[lv.location_id for lv in levels], channel=channel)
    return [
        LocationStock(lv.location.code, lv.on_hand, lv.reserved, atp.get((sku.pk, lv.location_id), 0)) for lv in levels
    ]


# --- store stock look-up ---------------------------------------------------------------


def skus_search(*, query: str, limit: int = 20) -> list[Sku]:
    """Active SKUs whose code or name contains the words typed, for when nothing was scanned."""
    words = query.split()
    if not words:
        return []
    match = Q()
    for word in words:
        match &= Q(code__icontains=word) | Q(name__icontains=word)
    return list(Sku.objects.filter(match, active=True).order_by("code")[:limit])


@dataclass(frozen=True)
class StockPicture:
    """One SKU as a store sees it: its own figures, the nearest stores holding it, the warehouses."""

    sku: Sku
    here: LocationStock
    nearby_stores: list[LocationAvailability]
    warehouses: list[LocationAvailability]
    stores_searched: int


def stock_picture(
    *, sku: Sku, location: Location, channel: Channel | None = None, stores: int = 5, search: int = 20
) -> StockPicture:
    """What ``location`` holds of ``sku`` and where else it is: among the ``search`` nearest other
    stores, the ``stores`` closest with something to promise; every active warehouse, nearest first."""
    here = stock_by_location(sku=sku, channel=channel, location=location)
    lines = {sku.pk: 1}
    others = nearest_locations_with_stock(
        lines=lines, lat=location.lat, lon=location.lon, channel=channel, limit=search,
        filters=Q(kind=Location.Kind.STORE) & ~Q(pk=location.pk),
    )  # fmt: skip
    warehouses = nearest_locations_with_stock(
        lines=lines, lat=location.lat, lon=location.lon, channel=channel, filters=Q(kind=Location.Kind.WAREHOUSE)
    )
    return StockPicture(
        sku=sku,
        here=here[0] if here else LocationStock(location.code, 0, 0, 0),
        nearby_stores=[s for s in others if s.covers(lines)][:stores],
        warehouses=warehouses,
        stores_searched=search,
    )


def transfers_inbound(*, location: Location) -> list[Transfer]:
    """Transfers requested or on their way to ``location``, soonest first, with their lines and source."""
    rows = Transfer.objects.filter(
        destination=location, status__in=[Transfer.Status.REQUESTED, Transfer.Status.IN_TRANSIT]
    )
    return list(rows.select_related("source").prefetch_related(_transfer_lines()).order_by("expected_at", "pk"))


def transfers_to_ship(*, location: Location) -> list[Transfer]:
    """Transfers ``location`` has been asked to send and has not shipped, soonest due first."""
    rows = Transfer.objects.filter(source=location, status=Transfer.Status.REQUESTED)
    return list(rows.select_related("destination").prefetch_related(_transfer_lines()).order_by("expected_at", "pk"))


def _transfer_lines() -> Prefetch:
    return Prefetch("lines", queryset=TransferLine.objects.select_related("sku").order_by("sku__code"))


def store_channel() -> Channel | None:
    """The channel of sales made in stores (endless aisle, returns desk), if one is configured."""
    return Channel.objects.filter(kind=Channel.Kind.STORE, active=True).order_by("pk").first()
