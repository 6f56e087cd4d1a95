"""Every write to on-hand stock: receipts, adjustments, counts and write-offs (transfers: ``inventory.transfers``),
one function per business operation, each in one transaction.

Counters only ever move through a guarded ``UPDATE … SET n = n + d WHERE <invariant
still holds>`` whose row count tells success, followed by a ledger entry. Rows are
touched in one global order — reservation rows, then stock levels, then channel caps,
each by primary key — so concurrent writers queue instead of deadlocking
(reservations: ``inventory.reservations``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.errors import InvalidInput

from .exceptions import CountNeedsConfirmation, StockConflict
from .locks import stock_levels_for_update
from .models import AdjustmentReason, CountFlag, Location, Sku, StockLevel, StockMovement
from .ports import stock_rose
from .quantities import count_needs_confirmation, max_quantity, on_hand_problem, quantity_check

Actor = AbstractBaseUser | None
Kind = StockMovement.Kind


def require_positive_quantity(quantity: int, field: str = "quantity") -> None:
    """Refuse anything but a whole number of units above zero, within the quantity bound."""
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise InvalidInput(f"{field} must be a whole number above zero.", errors={field: ["Must be at least 1."]})
    quantity_check(quantity, field=field)


def stock_level_for(*, sku: Sku | int, location: Location) -> StockLevel:
    """The stock row of a SKU (or its id) at a location, made when it has none yet."""
    sku_id = sku if isinstance(sku, int) else sku.pk
    level, _ = StockLevel.objects.get_or_create(sku_id=sku_id, location=location)
    return level


def stock_move(
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
    hand than the quantity bound allows instead of overflowing the column. When the move
    leaves more to sell, the orders waiting for it are told (``inventory.ports``).
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
        if on_hand - reserved > 0:
            stock_rose({(level.sku_id, level.location_id)})
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
    require_positive_quantity(quantity)
    level = stock_level_for(sku=sku, location=location)
    if not stock_move(level, kind=kind, on_hand=quantity, reason=reason, reference=reference, actor=actor):
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
    level = stock_level_for(sku=sku, location=location)
    if not stock_move(level, kind=Kind.ADJUSTMENT, on_hand=delta, reason=reason, reference=reference, actor=actor):
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
    level = stock_level_for(sku=sku, location=location)
    level = stock_levels_for_update(ids=[level.pk])[level.pk]
    if counted < level.reserved:
        raise StockConflict(
            f"{sku.code}@{location.code}: counted {counted} but {level.reserved} are reserved; "
            "release or re-route those orders first.",
            errors={"counted": [f"Below the {level.reserved} units reserved."]},
        )
    if not confirmed and count_needs_confirmation(on_hand=level.on_hand, counted=counted):
        raise CountNeedsConfirmation(sku=sku.code, location=location.code, on_hand=level.on_hand, counted=counted)
    stock_move(level, kind=Kind.COUNT, on_hand=counted - level.on_hand, reference=reference, actor=actor, reason=reason)
    # A count settles whatever made the store flag this SKU for one (inventory.till).
    CountFlag.objects.filter(sku=sku, location=location, cleared_at__isnull=True).update(cleared_at=timezone.now())
    return _refreshed(level)


@transaction.atomic
def stock_write_off(
    *, sku: Sku, location: Location, quantity: int, reason: str, reference: str = "", actor: Actor = None
) -> StockLevel:
    """Take unsellable units out of on-hand (damaged, expired)."""
    require_positive_quantity(quantity)
    level = stock_level_for(sku=sku, location=location)
    if not stock_move(level, kind=Kind.WRITE_OFF, on_hand=-quantity, reason=reason, reference=reference, actor=actor):
        level = _refreshed(level)
        raise StockConflict(
            f"{sku.code}@{location.code}: cannot write off {quantity}; {level.on_hand - level.reserved} unreserved.",
            errors={"quantity": ["More than the unreserved units."]},
        )
    return _refreshed(level)
