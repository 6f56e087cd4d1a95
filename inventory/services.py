"""Every write to stock: one function per business operation, each in one transaction.

Counters only ever move through a guarded ``UPDATE … SET n = n + d WHERE <invariant
still holds>`` whose row count tells success, followed by a ledger entry. Rows are
touched in one global order — reservation rows, then stock levels, then channel caps,
each by primary key — so concurrent writers queue instead of deadlocking.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import F, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from .exceptions import CountNeedsConfirmation, InsufficientStock, InvalidInput, Shortfall, StockConflict
from .locks import stock_levels_for_update
from .models import (
    AdjustmentReason,
    Channel,
    ChannelCap,
    CountFlag,
    Location,
    Reservation,
    Sku,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)
from .quantities import count_needs_confirmation, max_quantity, on_hand_problem, quantity_check
from .selectors import _GUARD_EXPIRED_HOLD_SQL, _GUARD_SAFETY_SQL, channel_location_ids, stock_guards
from .sql import Statement, in_list, send

Actor = AbstractBaseUser | None
Kind = StockMovement.Kind


@dataclass(frozen=True)
class StockRequest:
    """Units of one SKU wanted at one location."""

    sku: Sku
    location: Location
    quantity: int


def _require_positive(quantity: int, field: str = "quantity") -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise InvalidInput(f"{field} must be a whole number above zero.", errors={field: ["Must be at least 1."]})
    quantity_check(quantity, field=field)


def _stock_level(*, sku: Sku, location: Location) -> StockLevel:
    level, _ = StockLevel.objects.get_or_create(sku=sku, location=location)
    return level


def _move(
    level: StockLevel,
    *,
    kind: str,
    on_hand: int = 0,
    reserved: int = 0,
    reason: str = "",
    reference: str = "",
    actor: Actor = None,
) -> bool:
    """Apply deltas to one stock level if the invariants still hold after them, and log it.

    Returns False (and changes nothing) when the guard fails, so callers can report a
    precise shortfall instead of tripping the database's CHECK constraints, or more on
    hand than the quantity bound allows instead of overflowing the column.
    """
    guard = Q(on_hand__gte=F("reserved") + (reserved - on_hand)) & Q(reserved__gte=-reserved)
    if on_hand > 0:
        guard &= Q(on_hand__lte=max_quantity() - on_hand)
    updated = StockLevel.objects.filter(guard, pk=level.pk).update(
        on_hand=F("on_hand") + on_hand, reserved=F("reserved") + reserved
    )
    if updated:
        StockMovement.objects.create(
            stock_level=level,
            kind=kind,
            on_hand_delta=on_hand,
            reserved_delta=reserved,
            reason=reason,
            reference=reference,
            actor=actor,
        )
    return bool(updated)


def _refreshed(level: StockLevel) -> StockLevel:
    level.refresh_from_db(fields=["on_hand", "reserved"])
    return level


@transaction.atomic
def stock_receive(
    *,
    sku: Sku,
    location: Location,
    quantity: int,
    reference: str = "",
    actor: Actor = None,
    kind: str = Kind.RECEIPT,
    reason: str = "",
) -> StockLevel:
    """Add units that physically arrived (a delivery, or a resellable return)."""
    _require_positive(quantity)
    level = _stock_level(sku=sku, location=location)
    if not _move(level, kind=kind, on_hand=quantity, reason=reason, reference=reference, actor=actor):
        problem = on_hand_problem(_refreshed(level).on_hand + quantity)
        raise StockConflict(f"{sku.code}@{location.code}: {problem}.", errors={"quantity": [f"{problem}."]})
    return _refreshed(level)


@transaction.atomic
def stock_adjust(
    *,
    sku: Sku,
    location: Location,
    delta: int,
    reason: str,
    reference: str = "",
    actor: Actor = None,
) -> StockLevel:
    """Correct on-hand by a signed amount with a reason code (damage, loss, found, …)."""
    if reason not in AdjustmentReason.values:
        raise InvalidInput(
            f"Unknown adjustment reason {reason!r}.",
            errors={"reason": [f"Use one of {', '.join(AdjustmentReason.values)}."]},
        )
    if not isinstance(delta, int) or delta == 0:
        raise InvalidInput("delta must be a non-zero whole number.", errors={"delta": ["Must not be zero."]})
    quantity_check(delta, field="delta", signed=True)
    level = _stock_level(sku=sku, location=location)
    if not _move(level, kind=Kind.ADJUSTMENT, on_hand=delta, reason=reason, reference=reference, actor=actor):
        level = _refreshed(level)
        if problem := on_hand_problem(level.on_hand + delta):
            raise StockConflict(f"{sku.code}@{location.code}: {problem}.", errors={"delta": [f"{problem}."]})
        raise StockConflict(
            f"{sku.code}@{location.code}: adjusting by {delta} would leave {level.on_hand + delta} on hand "
            f"with {level.reserved} reserved.",
            errors={"delta": ["Would take on-hand below what is reserved."]},
        )
    return _refreshed(level)


@transaction.atomic
def stock_count(
    *,
    sku: Sku,
    location: Location,
    counted: int,
    reference: str = "",
    actor: Actor = None,
    reason: str = "count",
    confirmed: bool = False,
) -> StockLevel:
    """Set on-hand to a physical count; the variance is what the ledger records, with why it arose.

    A count far from what is booked (``count_needs_confirmation``) is refused with
    CountNeedsConfirmation unless ``confirmed``: a mistyped or scanned number is asked
    about before it replaces the stock figure.
    """
    if not isinstance(counted, int) or counted < 0:
        raise InvalidInput("counted must be zero or more.", errors={"counted": ["Must be zero or more."]})
    quantity_check(counted, field="counted")
    if reason != "count" and reason not in AdjustmentReason.values:
        raise InvalidInput(
            f"Unknown count reason {reason!r}.",
            errors={"reason": [f"Use count or one of {', '.join(AdjustmentReason.values)}."]},
        )
    level = _stock_level(sku=sku, location=location)
    level = stock_levels_for_update(ids=[level.pk])[level.pk]
    if counted < level.reserved:
        raise StockConflict(
            f"{sku.code}@{location.code}: counted {counted} but {level.reserved} are reserved; "
            "release or re-route those orders first.",
            errors={"counted": [f"Below the {level.reserved} units reserved."]},
        )
    if not confirmed and count_needs_confirmation(on_hand=level.on_hand, counted=counted):
        raise CountNeedsConfirmation(sku=sku.code, location=location.code, on_hand=level.on_hand, counted=counted)
    _move(level, kind=Kind.COUNT, on_hand=counted - level.on_hand, reference=reference, actor=actor, reason=reason)
    # A count settles whatever made the store flag this SKU for one (inventory.till).
    CountFlag.objects.filter(sku=sku, location=location, cleared_at__isnull=True).update(cleared_at=timezone.now())
    return _refreshed(level)


@transaction.atomic
def stock_write_off(
    *, sku: Sku, location: Location, quantity: int, reason: str, reference: str = "", actor: Actor = None
) -> StockLevel:
    """Take unsellable units out of on-hand (damaged, expired)."""
    _require_positive(quantity)
    level = _stock_level(sku=sku, location=location)
    if not _move(level, kind=Kind.WRITE_OFF, on_hand=-quantity, reason=reason, reference=reference, actor=actor):
        level = _refreshed(level)
        raise StockConflict(
            f"{sku.code}@{location.code}: cannot write off {quantity}; {level.on_hand - level.reserved} unreserved.",
            errors={"quantity": ["More than the unreserved units."]},
        )
    return _refreshed(level)


# --- transfers -------------------------------------------------------------------------


@transaction.atomic
def transfer_send(
    *,
    destination: Location,
    lines: Sequence[tuple[Sku, int]],
    expected_at: datetime,
    source: Location | None = None,
    reference: str = "",
    actor: Actor = None,
) -> Transfer:
    """Put goods in transit to ``destination``: out of ``source``'s on-hand, or from a supplier."""
    if not lines:
        raise InvalidInput("A transfer needs at least one line.", errors={"lines": ["Empty."]})
    if source is not None and source.pk == destination.pk:
        raise InvalidInput("Source and destination are the same.", errors={"destination": ["Same as source."]})
    wanted: Counter[int] = Counter()
    skus = {}
    for sku, quantity in lines:
        _require_positive(quantity)
        wanted[sku.pk] += quantity
        skus[sku.pk] = sku
    transfer = Transfer.objects.create(
        reference=reference or f"TR-{uuid.uuid4().hex[:10].upper()}",
        source=source,
        destination=destination,
        expected_at=expected_at,
    )
    TransferLine.objects.bulk_create(TransferLine(transfer=transfer, sku_id=s, quantity=q) for s, q in wanted.items())
    if source is not None:
        levels = sorted((_stock_level(sku=skus[s], location=source) for s in wanted), key=lambda lv: lv.pk)
        shortfalls = []
        for level in levels:
            quantity = wanted[level.sku_id]
            if not _move(level, kind=Kind.TRANSFER_OUT, on_hand=-quantity, reference=transfer.reference, actor=actor):
                level = _refreshed(level)
                shortfalls.append(
                    Shortfall(skus[level.sku_id].code, source.code, quantity, max(0, level.on_hand - level.reserved))
                )
        if shortfalls:
            raise InsufficientStock(shortfalls)
    return transfer


@transaction.atomic
def transfer_receive(*, transfer: Transfer, actor: Actor = None) -> Transfer:
    """Book an inbound transfer into the destination's on-hand, exactly once."""
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != Transfer.Status.IN_TRANSIT:
        raise StockConflict(f"Transfer {transfer.reference} was already received.")
    for line in transfer.lines.select_related("sku").order_by("sku_id"):
        level = _stock_level(sku=line.sku, location=transfer.destination)
        if not _move(level, kind=Kind.TRANSFER_IN, on_hand=line.quantity, reference=transfer.reference, actor=actor):
            problem = on_hand_problem(_refreshed(level).on_hand + line.quantity)
            raise StockConflict(f"{line.sku.code}@{transfer.destination.code}: {problem}.")
    transfer.status = Transfer.Status.RECEIVED
    transfer.received_at = timezone.now()
    transfer.save(update_fields=["status", "received_at"])
    return transfer


# --- reservations ----------------------------------------------------------------------


def _lock_expired_holds(level_ids: Iterable[int], now: datetime) -> list[Reservation]:
    return list(
        Reservation.objects.select_for_update(of=("self",))
        .filter(stock_level_id__in=list(level_ids), status=Reservation.Status.ACTIVE, expires_at__lt=now)
        .select_related("stock_level")
        .order_by("pk")
    )


def _close(reservations: Sequence[Reservation], status: str, now: datetime) -> Statement:
    """Close the reservations in one UPDATE and say so on the instances the caller gets back."""
    ids = [r.pk for r in reservations]
    for r in reservations:
        r.status, r.closed_at = status, now
    return (
        f"UPDATE {Reservation._meta.db_table} SET status = %s, closed_at = %s WHERE id IN ({in_list(ids)})",
        [status, connection.ops.adapt_datetimefield_value(now), *ids],
    )


_CAPS_SQL = (
    f"SELECT id, channel_id, sku_id, quantity - used FROM {ChannelCap._meta.db_table} "
    "WHERE channel_id IN ({channels}) AND sku_id IN ({skus}) ORDER BY id{lock}"
)


def _move_caps(cursor: CursorWrapper, deltas: dict[tuple[int, int], int]) -> dict[tuple[int, int], int]:
    """Move channel-cap usage by (channel, sku) unless a cap would be exceeded; return the
    refused keys with the units each cap has left.

    The caps are read and locked first (in primary-key order, after the stock rows), so a
    refusal moves none of them and a caller has nothing to take back. Read by hand: every
    reservation through a channel reads them and most find none, and compiling the OR of
    (channel, sku) pairs cost eight times the query.
    """
    if not deltas:
        return {}
    channel_ids, sku_ids = list({c for c, _ in deltas}), list({s for _, s in deltas})
    lock = " FOR UPDATE" if cursor.db.features.has_select_for_update else ""
    cursor.execute(
        _CAPS_SQL.format(channels=in_list(channel_ids), skus=in_list(sku_ids), lock=lock), [*channel_ids, *sku_ids]
    )
    caps = [(pk, (channel_id, sku_id), left) for pk, channel_id, sku_id, left in cursor.fetchall()]
    refused = {key: left for _, key, left in caps if deltas.get(key, 0) > left}
    if not refused:
        for pk, key, _ in caps:
            if deltas.get(key, 0):
                ChannelCap.objects.filter(pk=pk).update(used=Greatest(F("used") + deltas[key], 0))
    return refused


_LEDGER_SQL = (
    f"INSERT INTO {StockMovement._meta.db_table} "
    "(stock_level_id, kind, on_hand_delta, reserved_delta, reason, reference, actor_id, created_at) VALUES "
)


def _log(entries: Sequence[tuple], now: datetime) -> list[Statement]:
    """Append ledger rows ``(stock level id, kind, on-hand delta, reserved delta, reason, reference, actor id)``.

    One hand-written INSERT: reservations and releases write a row per line, and
    bulk_create's model instances and compiling cost more than the INSERT itself. Only
    a database with a parameter limit (SQLite) gets several, for the expiry job's batches.
    """
    created_at = connection.ops.adapt_datetimefield_value(now)
    size = (connection.features.max_query_params or 8 * (len(entries) or 1)) // 8
    return [
        (
            _LEDGER_SQL + ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(batch)),
            [value for entry in batch for value in (*entry, created_at)],
        )
        for batch in (entries[start : start + size] for start in range(0, len(entries), size))
    ]


def _release_entries(reservations: Sequence[Reservation], *, reason: str, actor: Actor) -> list[tuple]:
    actor_id = actor.pk if actor is not None else None
    return [(r.stock_level_id, Kind.RELEASE, 0, -r.quantity, reason, r.owner_ref, actor_id) for r in reservations]


def _cap_deltas(reservations: Iterable[Reservation], sign: int) -> dict[tuple[int, int], int]:
    deltas: dict[tuple[int, int], int] = defaultdict(int)
    for r in reservations:
        if r.channel_id:
            deltas[(r.channel_id, r.stock_level.sku_id)] += sign * r.quantity
    return deltas


_RESERVE_SQL = (
    f"UPDATE {StockLevel._meta.db_table} SET reserved = reserved + %s WHERE id = %s AND on_hand >= reserved + %s + %s"
)


def _move_reserved(cursor: CursorWrapper, level_id: int, delta: int, held_back: int = 0) -> bool:
    """Move one row's reserved count by ``delta`` if ``held_back`` units stay unreserved after it.

    Written by hand because it is the hottest write there is: every reservation and
    release runs it once per stock row, and the ORM's compiling cost more than the UPDATE.
    One statement a row, in primary-key order, is also what keeps the row locks in that
    order: a multi-row UPDATE takes them in whatever order its plan visits the rows.
    """
    cursor.execute(_RESERVE_SQL, [delta, level_id, delta, held_back])
    return cursor.rowcount == 1


def stock_reserve(
    *,
    requests: Sequence[StockRequest],
    owner_ref: str,
    channel: Channel | None = None,
    expires_at: datetime | None = None,
    actor: Actor = None,
) -> list[Reservation]:
    """Reserve every request or none, reporting every short line at once.

    Each stock row gets one conditional UPDATE in primary-key order; the guard keeps
    safety stock and the channel's buffer out of reach. Expired checkout holds on the
    same rows are released in the same statement, because ATP already ignores them.

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
        _require_positive(req.quantity)
        wanted[(req.sku.pk, req.location.pk)] += req.quantity
        skus[req.sku.pk] = req.sku
        locations[req.location.pk] = req.location
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        reservations, shortfalls = _reserve(
            cursor, wanted, skus, locations, owner_ref=owner_ref, channel=channel, expires_at=expires_at, actor=actor
        )
    if shortfalls:
        raise InsufficientStock(shortfalls)
    return reservations


def _reserve(
    cursor: CursorWrapper,
    wanted: Counter[tuple[int, int]],
    skus: dict[int, Sku],
    locations: dict[int, Location],
    *,
    owner_ref: str,
    channel: Channel | None,
    expires_at: datetime | None,
    actor: Actor,
) -> tuple[list[Reservation], list[Shortfall]]:
    """``stock_reserve``'s writes: the reservations, or the shortfalls with nothing left changed."""
    shortfalls: list[Shortfall] = []
    allowed = channel_location_ids(channel=channel) if channel is not None else None
    if allowed is not None:
        for sku_id, location_id in [k for k in wanted if k[1] not in allowed]:
            quantity = wanted.pop((sku_id, location_id))
            shortfalls.append(
                Shortfall(skus[sku_id].code, locations[location_id].code, quantity, 0, "location_not_allowed")
            )

    now = timezone.now()
    buffer = channel.buffer if channel is not None else 0
    level_id = _reserve_line(cursor, *next(iter(wanted.items())), buffer, now) if len(wanted) == 1 else None
    if level_id is not None:
        levels, moved, expired = dict.fromkeys(wanted, level_id), {level_id: sum(wanted.values())}, []
    else:
        levels, moved, expired = _reserve_rows(cursor, wanted, skus, locations, buffer, now, shortfalls)

    if channel is not None and not shortfalls:
        deltas: dict[tuple[int, int], int] = defaultdict(int)
        for (sku_id, _), quantity in wanted.items():
            deltas[(channel.pk, sku_id)] += quantity
        for hold in expired:
            if hold.channel_id:
                deltas[(hold.channel_id, hold.stock_level.sku_id)] -= hold.quantity
        for (_, sku_id), left in _move_caps(cursor, deltas).items():
            requested = sum(q for (s, _), q in wanted.items() if s == sku_id)
            shortfalls.append(Shortfall(skus[sku_id].code, None, requested, left, "channel_cap"))
    if shortfalls:
        for level_id, delta in moved.items():
            _move_reserved(cursor, level_id, -delta)
        return [], shortfalls

    actor_id = actor.pk if actor is not None else None
    entries = [(levels[key], Kind.RESERVATION, 0, q, "", owner_ref, actor_id) for key, q in wanted.items()]
    reservations = _insert_reservations(
        cursor,
        [(levels[key], *key, quantity) for key, quantity in wanted.items()],
        owner_ref=owner_ref,
        channel=channel,
        expires_at=expires_at,
        now=now,
        alongside=[
            *([_close(expired, Reservation.Status.RELEASED, now)] if expired else []),
            *_log(_release_entries(expired, reason="hold_expired", actor=None) + entries, now),
        ],
    )
    return reservations, shortfalls


_RESERVE_LINE_SQL = f"""
    UPDATE {StockLevel._meta.db_table} AS s SET reserved = reserved + %s
    WHERE s.sku_id = %s AND s.location_id = %s AND s.on_hand >= s.reserved + %s + %s + {_GUARD_SAFETY_SQL}
    AND NOT {_GUARD_EXPIRED_HOLD_SQL} RETURNING id"""


def _reserve_line(cursor: CursorWrapper, key: tuple[int, int], quantity: int, buffer: int, now: datetime) -> int | None:
    """Reserve one (sku id, location id) line in one UPDATE; return its stock level id, or
    None when the row is missing, short, or has an expired hold to release first.

    Most reservations are a single line, and one row needs no read first to be locked in
    primary-key order: the UPDATE finds the row and checks its safety stock itself. A None
    sends the line through ``_reserve_rows``, which reports what it found.
    """
    status, expired_before = Reservation.Status.ACTIVE, connection.ops.adapt_datetimefield_value(now)
    cursor.execute(_RESERVE_LINE_SQL, [quantity, *key, quantity, buffer, status, expired_before])
    row = cursor.fetchone()
    return row[0] if row else None


def _reserve_rows(
    cursor: CursorWrapper,
    wanted: Counter[tuple[int, int]],
    skus: dict[int, Sku],
    locations: dict[int, Location],
    buffer: int,
    now: datetime,
    shortfalls: list[Shortfall],
) -> tuple[dict[tuple[int, int], int], dict[int, int], list[Reservation]]:
    """Move the stock rows of ``wanted`` one guarded UPDATE each, in primary-key order, releasing
    the expired holds on them; return each line's stock level id, the units moved per stock
    level (to take back on a shortfall) and the holds released.

    Lines without a stock row leave ``wanted``; every short line is added to ``shortfalls``.
    """
    # One read fetches the rows with their safety stock and whether an expired hold sits
    # on them; only then are those holds locked, so the common case costs no extra query.
    guards = stock_guards(pairs=wanted, now=now)
    for key in [k for k in wanted if k not in guards]:
        shortfalls.append(Shortfall(skus[key[0]].code, locations[key[1]].code, wanted.pop(key), 0))

    with_holds = [g.level_id for g in guards.values() if g.has_expired_hold]
    expired = _lock_expired_holds(with_holds, now) if with_holds else []
    freed: Counter[int] = Counter()
    for hold in expired:
        freed[hold.stock_level_id] += hold.quantity

    moved: dict[int, int] = {}
    for key, guard in sorted(guards.items(), key=lambda item: item[1].level_id):
        quantity, held_back, delta = wanted[key], guard.safety + buffer, wanted[key] - freed[guard.level_id]
        if _move_reserved(cursor, guard.level_id, delta, held_back):
            moved[guard.level_id] = delta
        else:
            on_hand, reserved = StockLevel.objects.values_list("on_hand", "reserved").get(pk=guard.level_id)
            available = max(0, on_hand - reserved + freed[guard.level_id] - held_back)
            shortfalls.append(Shortfall(skus[key[0]].code, locations[key[1]].code, quantity, available))
    return {key: guard.level_id for key, guard in guards.items()}, moved, expired


# Every concrete field in model order, so ``from_db`` defers nothing.
_RESERVATION_FIELDS = [
    "id",
    "owner_ref",
    "stock_level_id",
    "channel_id",
    "quantity",
    "status",
    "expires_at",
    "created_at",
    "closed_at",
]
_INSERT_RESERVATIONS_SQL = (
    f"INSERT INTO {Reservation._meta.db_table} ({', '.join(_RESERVATION_FIELDS[1:-1])}) VALUES {{rows}} RETURNING id"
)
_LEVEL_FIELDS = ["id", "sku_id", "location_id"]


def _insert_reservations(
    cursor: CursorWrapper,
    lines: Sequence[tuple[int, int, int, int]],
    *,
    owner_ref: str,
    channel: Channel | None,
    expires_at: datetime | None,
    now: datetime,
    alongside: Sequence[Statement],
) -> list[Reservation]:
    """Insert active reservations for ``(stock level id, sku id, location id, quantity)`` lines, in that order.

    One hand-written INSERT … RETURNING id, sent with the ``alongside`` writes (the
    ledger rows, closing expired holds); the instances are built from the values
    written, with their stock rows (on-hand and reserved deferred) and channel attached.
    """
    channel_id = channel.pk if channel is not None else None
    db, status = cursor.db, Reservation.Status.ACTIVE
    expires, created = db.ops.adapt_datetimefield_value(expires_at), db.ops.adapt_datetimefield_value(now)
    insert = (
        _INSERT_RESERVATIONS_SQL.format(rows=", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(lines))),
        [
            value
            for level_id, _, _, quantity in lines
            for value in (owner_ref, level_id, channel_id, quantity, status, expires, created)
        ],
    )
    reservations = []
    for (pk,), (level_id, sku_id, location_id, quantity) in zip(send(cursor, [*alongside, insert]), lines, strict=True):
        r = Reservation.from_db(
            db.alias,
            _RESERVATION_FIELDS,
            [pk, owner_ref, level_id, channel_id, quantity, status, expires_at, now, None],
        )
        r.stock_level = StockLevel.from_db(db.alias, _LEVEL_FIELDS, [level_id, sku_id, location_id])
        if channel is not None:
            r.channel = channel
        reservations.append(r)
    return reservations


_LOCK_ACTIVE_SQL = f"""
    SELECT r.id, r.owner_ref, r.stock_level_id, r.channel_id, r.quantity, s.sku_id, s.location_id
    FROM {Reservation._meta.db_table} r JOIN {StockLevel._meta.db_table} s ON s.id = r.stock_level_id
    WHERE r.status = %s AND r.id IN ({{ids}}) ORDER BY r.id{{lock}}"""


def _lock_active(cursor: CursorWrapper, reservations: Iterable[Reservation]) -> list[Reservation]:
    """Lock the ones still active, in primary-key order, with their stock rows' SKU and location.

    Hand-written like ``_move_reserved``: every release and dispatch starts here. The
    instances hold what closing them needs; their dates stay deferred.
    """
    ids = [r.pk for r in reservations]
    if not ids:
        return []
    db, status = cursor.db, Reservation.Status.ACTIVE
    lock = " FOR UPDATE OF r" if db.features.has_select_for_update_of else ""
    cursor.execute(_LOCK_ACTIVE_SQL.format(ids=in_list(ids), lock=lock), [status, *ids])
    active = []
    for pk, owner_ref, level_id, channel_id, quantity, sku_id, location_id in cursor.fetchall():
        r = Reservation.from_db(
            db.alias, _RESERVATION_FIELDS[:6], [pk, owner_ref, level_id, channel_id, quantity, status]
        )
        r.stock_level = StockLevel.from_db(db.alias, _LEVEL_FIELDS, [level_id, sku_id, location_id])
        active.append(r)
    return active


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
    with connection.cursor() as cursor:
        closing = _split(_lock_active(cursor, reservations), quantities)
        if not closing:
            return []
        released = _units_per_level(closing)
        for level_id in sorted(released):
            _move_reserved(cursor, level_id, -released[level_id])
        _move_caps(cursor, _cap_deltas(closing, -1))
        now = timezone.now()
        send(
            cursor,
            [
                _close(closing, Reservation.Status.RELEASED, now),
                *_log(_release_entries(closing, reason=reason, actor=actor), now),
            ],
        )
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
    with connection.cursor() as cursor:
        closing = _split(_lock_active(cursor, reservations), quantities)
        if not closing:
            return []
        dispatched = _units_per_level(closing)
        for level_id in sorted(dispatched):
            q = dispatched[level_id]
            StockLevel.objects.filter(pk=level_id).update(on_hand=F("on_hand") - q, reserved=F("reserved") - q)
        now, actor_id = timezone.now(), actor.pk if actor is not None else None
        entries = [
            (r.stock_level_id, Kind.DISPATCH, -r.quantity, -r.quantity, "", reference, actor_id) for r in closing
        ]
        send(cursor, [_close(closing, Reservation.Status.COMMITTED, now), *_log(entries, now)])
    return closing


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
