"""Reserving stock for orders and checkout holds, and giving it back or dispatching it.

``reserved`` only ever moves through ``inventory.sql.reserved_move``: a reservation's
UPDATE succeeds only while the row's ATP (``inventory.atp``, the one rule) covers the
units, so what the selectors promise and what a reservation takes cannot disagree. Rows are touched in one
global order — reservation rows, then stock levels, then channel caps, each by primary
key — so concurrent writers queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from core.errors import InvalidInput

from .atp import available_stock, channel_location_ids
from .exceptions import InsufficientStock, Shortfall, StockConflict
from .models import Channel, ChannelCap, Location, Reservation, Sku, StockLevel, StockMovement
from .ports import stock_rose
from .services import Actor, require_positive_quantity
from .sql import StockGuard, reserve_line, reserved_move, stock_guards

Kind = StockMovement.Kind


@dataclass(frozen=True)
class StockRequest:
    """Units of one SKU wanted at one location."""

    sku: Sku
    location: Location
    quantity: int


def _lock_expired_holds(level_ids: Iterable[int], now: datetime) -> list[Reservation]:
    return list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(stock_level_id__in=list(level_ids), status=Reservation.Status.ACTIVE, expires_at__lt=now)
        .select_related("stock_level")
        .order_by("pk")
    )


def _close(reservations: Sequence[Reservation], status: str, now: datetime) -> None:
    """Close the reservations in one UPDATE and say so on the instances the caller gets back."""
    Reservation.objects.filter(pk__in=[r.pk for r in reservations]).update(status=status, closed_at=now)
    for r in reservations:
        r.status, r.closed_at = status, now


def _move_caps(deltas: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
    """Move channel-cap usage by (channel, sku) unless a cap would be exceeded; return the
    refused keys with the units each cap has left.

    The caps are read and locked first (in primary-key order, after the stock rows), so a
    refusal moves none of them and a caller has nothing to take back.
    """
    if not deltas:
        return {}
    caps = (
        ChannelCap.objects.select_for_update()
        .filter(channel_id__in={c for c, _ in deltas}, sku_id__in={s for _, s in deltas})
        .order_by("pk")
        .values_list("pk", "channel_id", "sku_id", F("quantity") - F("used"))
    )
    caps = [(pk, (channel_id, sku_id), left) for pk, channel_id, sku_id, left in caps]
    refused = {key: left for _, key, left in caps if deltas.get(key, 0) > left}
    if not refused:
        for pk, key, _ in caps:
            if deltas.get(key, 0):
                ChannelCap.objects.filter(pk=pk).update(used=Greatest(F("used") + deltas[key], 0))
    return refused


def _movements(entries: Sequence[tuple], now: datetime) -> list[StockMovement]:
    """Ledger rows of ``(stock level id, kind, on-hand delta, reserved delta, reason, reference, actor id)``."""
    return [
        StockMovement(
            stock_level_id=level_id, kind=kind, on_hand_delta=on_hand, reserved_delta=reserved,
            reason=reason, reference=reference, actor_id=actor_id, created_at=now,
        )
        for level_id, kind, on_hand, reserved, reason, reference, actor_id in entries
    ]  # fmt: skip


def _release_entries(reservations: Sequence[Reservation], *, reason: str, actor: Actor) -> list[tuple]:
    actor_id = actor.pk if actor is not None else None
    return [(r.stock_level_id, Kind.RELEASE, 0, -r.quantity, reason, r.owner_ref, actor_id) for r in reservations]


def _cap_deltas(reservations: Iterable[Reservation], sign: int) -> dict[tuple[int, int], int]:
    deltas: dict[tuple[int, int], int] = defaultdict(int)
    for r in reservations:
        if r.channel_id:
            deltas[(r.channel_id, r.stock_level.sku_id)] += sign * r.quantity
    return deltas


def stock_reserve(
    *,
    requests: Sequence[StockRequest],
    owner_ref: str,
    channel: Channel | None = None,
    expires_at: datetime | None = None,
    actor: Actor = None,
) -> list[Reservation]:
    """Reserve every request or none, reporting every short line at once.

    Each stock row gets one guarded UPDATE in primary-key order; the guard is the row's
    ATP, which keeps safety stock and the channel's buffer out of reach. Expired checkout
    holds on the same rows are released with it, because ATP already ignores them.

    No savepoint of its own: a shortfall takes back the rows it moved before raising,
    so a caller's transaction stays usable (order placement routes again when another
    order took the stock first) without two more statements on every reservation.
    """
    if not requests:
        raise InvalidInput("Nothing to reserve.", errors={"lines": ["At least one line is needed."]})
    wanted: Counter[tuple[int, int]] = Counter()
    skus: dict[int, Sku] = {}
    locations: dict[int, Location] = {}
    for req in requests:
        require_positive_quantity(req.quantity)
        wanted[(req.sku.pk, req.location.pk)] += req.quantity
        skus[req.sku.pk] = req.sku
        locations[req.location.pk] = req.location
    with transaction.atomic(savepoint=False):
        reservations, shortfalls = _reserve(
            wanted, skus, locations, owner_ref=owner_ref, channel=channel, expires_at=expires_at, actor=actor
        )
    if shortfalls:
        raise InsufficientStock(shortfalls)
    return reservations


def _reserve(
    wanted: Counter[tuple[int, int]],
    skus: dict[int, Sku],
    locations: dict[int, Location],
    *,
    owner_ref: str,
    channel: Channel | None,
    expires_at: datetime | None,
    actor: Actor,
) -> tuple[list[Reservation], list[Shortfall]]:
    """``stock_reserve``'s writes: the reservations, or the shortfalls with nothing left changed.

    A single line is first tried in one UPDATE (``inventory.sql.reserve_line``); anything
    unusual (no row, too little, an expired hold on it) takes the general path, which
    reports what it found.
    """
    now = timezone.now()
    line = None
    if len(wanted) == 1:
        ((sku_id, location_id), quantity), *_ = wanted.items()
        line = reserve_line(sku_id=sku_id, location_id=location_id, quantity=quantity, channel=channel, now=now)
    if line is not None:
        guards, expired, moved, shortfalls = {(sku_id, location_id): line}, [], {line.level_id: quantity}, []
    else:
        guards, expired, moved, shortfalls = _move_rows(wanted, skus, locations, channel, now)
    actor_id = actor.pk if actor is not None else None
    entries = [(guards[key].level_id, Kind.RESERVATION, 0, q, "", owner_ref, actor_id) for key, q in wanted.items()]
    movements = _movements(_release_entries(expired, reason="hold_expired", actor=None) + entries, now)
    reservations = [
        Reservation(
            owner_ref=owner_ref, stock_level_id=guards[key].level_id, channel=channel, quantity=quantity,
            expires_at=expires_at, created_at=now,
        )
        for key, quantity in wanted.items()
    ]  # fmt: skip

    # The caps are read only when one may apply: the channel caps a SKU, or a released hold had a channel.
    capped = expired or any(g.capped for g in guards.values())
    if channel is not None and not shortfalls and capped:
        deltas: dict[tuple[int, int], int] = defaultdict(int)
        for (sku_id, _), quantity in wanted.items():
            deltas[(channel.pk, sku_id)] += quantity
        for hold in expired:
            if hold.channel_id:
                deltas[(hold.channel_id, hold.stock_level.sku_id)] -= hold.quantity
        for (_, sku_id), left in _move_caps(deltas).items():
            requested = sum(q for (s, _), q in wanted.items() if s == sku_id)
            shortfalls.append(Shortfall(skus[sku_id].code, None, requested, left, "channel_cap"))
    if shortfalls:
        for level_id, delta in moved.items():
            reserved_move(level_id=level_id, delta=-delta)
        return [], shortfalls

    if expired:
        _close(expired, Reservation.Status.RELEASED, now)
    StockMovement.objects.bulk_create(movements)
    Reservation.objects.bulk_create(reservations)
    for r, (sku_id, location_id) in zip(reservations, wanted, strict=True):
        r.stock_level = StockLevel.from_db(
            StockLevel.objects.db, ["id", "sku_id", "location_id"], [r.stock_level_id, sku_id, location_id]
        )
    return reservations, shortfalls


def _move_rows(
    wanted: Counter[tuple[int, int]],
    skus: dict[int, Sku],
    locations: dict[int, Location],
    channel: Channel | None,
    now: datetime,
) -> tuple[dict[tuple[int, int], StockGuard], list[Reservation], dict[int, int], list[Shortfall]]:
    """Move the stock rows of ``wanted`` one guarded UPDATE each, in primary-key order, after locking
    the expired holds on them; return each line's guard, the holds to release, the units moved
    per stock row (to take back on a shortfall) and the shortfalls.

    Lines the channel may not sell or without a stock row leave ``wanted``.
    """
    guards = stock_guards(pairs=wanted, channel=channel, now=now)
    shortfalls = _not_allowed(wanted, guards, channel, skus, locations)
    for key in [k for k in wanted if k not in guards]:
        shortfalls.append(Shortfall(skus[key[0]].code, locations[key[1]].code, wanted.pop(key), 0))
    guards = {key: guards[key] for key in wanted}

    with_holds = [g.level_id for g in guards.values() if g.has_expired_hold]
    expired = _lock_expired_holds(with_holds, now) if with_holds else []
    freed: Counter[int] = Counter()
    for hold in expired:
        freed[hold.stock_level_id] += hold.quantity

    moved: dict[int, int] = {}
    for key, guard in sorted(guards.items(), key=lambda item: item[1].level_id):
        quantity, delta = wanted[key], wanted[key] - freed[guard.level_id]
        if guard.active and reserved_move(level_id=guard.level_id, delta=delta, kept_back=guard.kept_back):
            moved[guard.level_id] = delta
        else:
            atp = available_stock(channel=channel, now=now).filter(pk=guard.level_id).values_list("atp", flat=True)
            shortfalls.append(Shortfall(skus[key[0]].code, locations[key[1]].code, quantity, atp.first() or 0))
    return guards, expired, moved, shortfalls


def _not_allowed(
    wanted: Counter[tuple[int, int]],
    guards: dict[tuple[int, int], StockGuard],
    channel: Channel | None,
    skus: dict[int, Sku],
    locations: dict[int, Location],
) -> list[Shortfall]:
    """Take the lines at locations the channel may not sell from out of ``wanted``; return their shortfalls.

    The stock rows' read says it of the rows that exist; the channel's list is read only
    when a line has no row.
    """
    if channel is None:
        return []
    allowed = channel_location_ids(channel=channel) if any(k not in guards for k in wanted) else None
    refused = []
    for sku_id, location_id in list(wanted):
        guard = guards.get((sku_id, location_id))
        if guard.allowed if guard is not None else (allowed is None or location_id in allowed):
            continue
        quantity = wanted.pop((sku_id, location_id))
        refused.append(Shortfall(skus[sku_id].code, locations[location_id].code, quantity, 0, "location_not_allowed"))
    return refused


def _lock_active(reservations: Iterable[Reservation]) -> list[Reservation]:
    """Lock the ones still active, in primary-key order, with their stock rows' SKU and location.

    When the caller's instances carry their stock rows (as reservations read with them, or
    handed back by ``stock_reserve``, do), only the reservation rows are read: a stock row's
    SKU and location never change, and the join cost more to compile than to run.
    """
    given = {r.pk: r for r in reservations}
    if not given:
        return []
    level_field = Reservation._meta.get_field("stock_level")
    if not all(level_field.is_cached(r) for r in given.values()):
        return list(
            Reservation.objects.select_for_update(of=("self",))
            .filter(status=Reservation.Status.ACTIVE, pk__in=list(given))
            .select_related("stock_level")
            .only(*_LOCKED_FIELDS, "stock_level__sku_id", "stock_level__location_id")
            .order_by("pk")
        )
    rows = (
        Reservation.objects.select_for_update()
        .filter(status=Reservation.Status.ACTIVE, pk__in=list(given))
        .order_by("pk")
        .values_list("pk", *_LOCKED_FIELDS)
    )
    locked = []
    for pk, *values in rows:
        r = Reservation.from_db(Reservation.objects.db, ["id", *_LOCKED_FIELDS], [pk, *values])
        level = given[pk].stock_level
        r.stock_level = StockLevel.from_db(
            StockLevel.objects.db, ["id", "sku_id", "location_id"], [level.pk, level.sku_id, level.location_id]
        )
        locked.append(r)
    return locked


_LOCKED_FIELDS = ("owner_ref", "stock_level_id", "channel_id", "quantity", "status")


def _split(reservations: list[Reservation], quantities: dict[int, int] | None) -> list[Reservation]:
    """Cut each reservation down to the quantity being closed; the rest stays active as is."""
    if quantities is None:
        return reservations
    closing = []
    for r in reservations:
        quantity = quantities.get(r.pk, 0)
        if quantity <= 0:
            continue
        if quantity > r.quantity:
            raise InvalidInput(
                f"Reservation {r.pk} holds {r.quantity}, not {quantity}.", errors={"quantity": ["Too many."]}
            )
        if quantity < r.quantity:
            Reservation.objects.filter(pk=r.pk).update(quantity=F("quantity") - quantity)
            r = Reservation.objects.create(
                owner_ref=r.owner_ref, stock_level=r.stock_level, channel_id=r.channel_id, quantity=quantity
            )
        closing.append(r)
    return closing


def reservations_portion(reservations: Sequence[Reservation], units: Mapping[int, int]) -> dict[int, int]:
    """Reservation id → units, taking ``units`` (sku id → quantity) from ``reservations`` in their order;
    what they cannot cover is left out (the caller compares)."""
    take: dict[int, int] = {}
    left = Counter(units)
    for r in reservations:
        n = min(r.quantity, left[r.stock_level.sku_id])
        if n > 0:
            take[r.pk] = n
            left[r.stock_level.sku_id] -= n
    return take


def _units_per_level(reservations: Iterable[Reservation]) -> Counter[int]:
    units: Counter[int] = Counter()
    for r in reservations:
        units[r.stock_level_id] += r.quantity
    return units


@transaction.atomic
def reservations_release(
    *,
    reservations: Iterable[Reservation],
    reason: str,
    actor: Actor = None,
    quantities: dict[int, int] | None = None,
) -> list[Reservation]:
    """Give reserved units back to ATP (cancellation, decline, expired hold).

    ``quantities`` (reservation id → units) releases part of a reservation; reservations
    already closed are skipped, so running this twice is harmless.
    """
    closing = _split(_lock_active(reservations), quantities)
    if not closing:
        return []
    now = timezone.now()
    movements = _movements(_release_entries(closing, reason=reason, actor=actor), now)
    released = _units_per_level(closing)
    for level_id in sorted(released):
        reserved_move(level_id=level_id, delta=-released[level_id])
    _move_caps(_cap_deltas(closing, -1))
    _close(closing, Reservation.Status.RELEASED, now)
    StockMovement.objects.bulk_create(movements)
    stock_rose({(r.stock_level.sku_id, r.stock_level.location_id) for r in closing})
    return closing


@transaction.atomic
def reservations_commit(
    *,
    reservations: Iterable[Reservation],
    reference: str,
    actor: Actor = None,
    quantities: dict[int, int] | None = None,
) -> list[Reservation]:
    """Dispatch reserved units: on-hand and reserved both drop, the cap stays used."""
    closing = _split(_lock_active(reservations), quantities)
    if not closing:
        return []
    now, actor_id = timezone.now(), actor.pk if actor is not None else None
    entries = [(r.stock_level_id, Kind.DISPATCH, -r.quantity, -r.quantity, "", reference, actor_id) for r in closing]
    movements = _movements(entries, now)
    dispatched = _units_per_level(closing)
    for level_id in sorted(dispatched):
        q = dispatched[level_id]
        StockLevel.objects.filter(pk=level_id).update(on_hand=F("on_hand") - q, reserved=F("reserved") - q)
    _close(closing, Reservation.Status.COMMITTED, now)
    StockMovement.objects.bulk_create(movements)
    return closing


@dataclass(frozen=True)
class Allocation:
    """Units of one SKU at one location taken for one owner (an order) selling through ``channel_id``."""

    owner_ref: str
    channel_id: int | None
    sku_id: int
    location_id: int
    quantity: int


@transaction.atomic
def stock_allocate(*, allocations: Sequence[Allocation], reason: str = "backorder_filled") -> list[Reservation]:
    """Reserve many owners' units at once: the backorders filled when stock rises.

    The caller locked the stock rows (``inventory.locks``) and worked each allocation out
    from their ATP for its channel under that lock, first placed first served; here each
    row moves once by its total, guarded by what is physically free, the caps move (in
    primary-key order) by channel and SKU, and the ledger and reservation rows go in one
    INSERT each. Nothing changes, and StockConflict is raised, if a row or cap no longer covers it.
    """
    allocations = [a for a in allocations if a.quantity > 0]
    if not allocations:
        return []
    now = timezone.now()
    levels = {
        (sku_id, location_id): level_id
        for level_id, sku_id, location_id in StockLevel.objects.filter(
            sku_id__in={a.sku_id for a in allocations}, location_id__in={a.location_id for a in allocations}
        ).values_list("pk", "sku_id", "location_id")
    }
    totals: Counter[int] = Counter()
    caps: dict[tuple[int, int], int] = defaultdict(int)
    for a in allocations:
        totals[levels[(a.sku_id, a.location_id)]] += a.quantity
        if a.channel_id:
            caps[(a.channel_id, a.sku_id)] += a.quantity
    with transaction.atomic():  # a refusal takes back the rows moved before it
        for level_id in sorted(totals):
            if not reserved_move(level_id=level_id, delta=totals[level_id]):
                raise StockConflict(f"Stock row {level_id} no longer holds {totals[level_id]} free units.")
        if refused := _move_caps(caps):
            raise StockConflict(f"Channel caps left: {refused}.")
    reservations = [
        Reservation(
            owner_ref=a.owner_ref, stock_level_id=levels[(a.sku_id, a.location_id)], channel_id=a.channel_id,
            quantity=a.quantity, created_at=now,
        )
        for a in allocations
    ]  # fmt: skip
    entries = [(r.stock_level_id, Kind.RESERVATION, 0, r.quantity, reason, r.owner_ref, None) for r in reservations]
    StockMovement.objects.bulk_create(_movements(entries, now))
    return Reservation.objects.bulk_create(reservations)


# --- checkout holds --------------------------------------------------------------------


def hold_place(
    *, requests: Sequence[StockRequest], channel: Channel | None, ttl: timedelta, actor: Actor = None
) -> str:
    """Reserve a basket for ``ttl``; return the hold reference the checkout keeps."""
    if ttl <= timedelta(0):
        raise InvalidInput("A hold needs a positive time-to-live.", errors={"ttl": ["Must be positive."]})
    hold_ref = f"hold:{uuid.uuid4().hex}"
    stock_reserve(requests=requests, owner_ref=hold_ref, channel=channel, expires_at=timezone.now() + ttl, actor=actor)
    return hold_ref


@transaction.atomic
def hold_convert(*, hold_ref: str, owner_ref: str) -> list[Reservation]:
    """Hand a live hold's reservations to their new owner (an order): nothing is reserved twice."""
    if not hold_ref.startswith("hold:"):
        raise InvalidInput("Not a hold reference.", errors={"hold": ["Unknown hold."]})
    now = timezone.now()
    holds = list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(owner_ref=hold_ref, status=Reservation.Status.ACTIVE)
        .select_related("stock_level")
        .order_by("pk")
    )
    if not holds or any(h.expires_at and h.expires_at <= now for h in holds):
        raise StockConflict(f"Hold {hold_ref} has expired or was released.", errors={"hold": ["Expired."]})
    Reservation.objects.filter(pk__in=[h.pk for h in holds]).update(owner_ref=owner_ref, expires_at=None)
    for h in holds:
        h.owner_ref, h.expires_at = owner_ref, None
    return holds


def holds_release_expired(*, now: datetime | None = None) -> int:
    """Release every checkout hold past its time-to-live; return how many were released."""
    now = now or timezone.now()
    expired = Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lt=now).order_by("pk")
    return len(reservations_release(reservations=expired, reason="hold_expired"))
