"""Click and collect: the parcel on the shelf, its pickup code, collection, reminders and expiry."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.ports import stock_rises_collected
from oms.amounts import order_amounts
from oms.events import event_emit
from oms.models import Activity, Order, OrderLine
from oms.refund_events import refund_requested_emit
from oms.transitions import transition_apply

from .actions import fulfilment_lock, fulfilment_transition
from .collection_transfers import transfer_wait_refuse
from .exceptions import PickupCodeRefused
from .models import Fulfilment
from .order_status import order_sync_status
from .reserved_stock import fulfilment_commit, fulfilment_release, units_by_sku

F = Fulfilment.Status


@transaction.atomic
def fulfilment_ready(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Put a click-and-collect parcel on the shelf and give the customer a pickup code."""
    fulfilment = fulfilment_lock(fulfilment)
    transfer_wait_refuse(fulfilment)
    code = f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"
    fulfilment_transition(fulfilment, "ready", actor=actor, pickup_code=code, at=timezone.now())
    event_emit(
        "fulfilment.ready_for_pickup",
        order=fulfilment.order,
        data={"fulfilment": fulfilment.pk, "order_number": fulfilment.order.number, "store": fulfilment.location.code},
    )
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment


# A pickup code is this many digits; anything else cannot be one and is not counted as a miss.
PICKUP_CODE_DIGITS = 6


def _pickup_code_misses_key(fulfilment: Fulfilment) -> str:
    return f"pickup-code-misses:{fulfilment.pk}"


def pickup_code_check(fulfilment: Fulfilment, pickup_code: str) -> None:
    """Refuse a wrong code, and any code once too many wrong ones came in a row.

    A six-digit code could otherwise be guessed at the counter or over the API. Misses are
    counted in the cache, not the database, because the refused call changes nothing; the
    caller holds the parcel's row lock, so two attempts never count at once. The lock
    lifts OMS_PICKUP_CODE_LOCK_MINUTES after the last miss, or when the code is resent.
    """
    key, limit = _pickup_code_misses_key(fulfilment), settings.OMS_PICKUP_CODE_MAX_MISSES
    minutes = settings.OMS_PICKUP_CODE_LOCK_MINUTES
    locked = (
        f"Too many wrong pickup codes for this parcel: it takes no code for {minutes:g} minutes. "
        "Check the code in the customer's message, or resend it."
    )
    misses = cache.get(key, 0)
    if misses >= limit:
        raise PickupCodeRefused(locked, field_error="Locked after too many wrong codes.", locked_minutes=minutes)
    typed = str(pickup_code or "").strip()
    if len(typed) != PICKUP_CODE_DIGITS or not (typed.isascii() and typed.isdigit()):
        # A typo or a scan of the wrong barcode, not a guess: refused without counting.
        raise PickupCodeRefused(
            f"A pickup code is {PICKUP_CODE_DIGITS} digits.", field_error=f"{PICKUP_CODE_DIGITS} digits."
        )
    if hmac.compare_digest(fulfilment.pickup_code, typed):
        cache.delete(key)
        return
    misses += 1
    cache.set(key, misses, timeout=minutes * 60)
    left = limit - misses
    if not left:
        raise PickupCodeRefused(locked, field_error="Wrong code.", locked_minutes=minutes)
    message = f"The pickup code does not match. {left} attempt(s) left before the parcel is locked."
    raise PickupCodeRefused(message, field_error="Wrong code.", tries_left=left)


@transaction.atomic
def fulfilment_collect(*, fulfilment: Fulfilment, pickup_code: str, actor=None) -> Fulfilment:
    """Hand the parcel over once the customer's pickup code matches."""
    fulfilment = fulfilment_lock(fulfilment)
    if fulfilment.status == F.READY_FOR_PICKUP:
        pickup_code_check(fulfilment, pickup_code)
    fulfilment_transition(fulfilment, "collect", actor=actor, at=timezone.now())
    fulfilment_commit(fulfilment, units_by_sku(fulfilment.lines.all()), actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor, reason="collected")
    return fulfilment


@transaction.atomic
@stock_rises_collected()
def fulfilment_expire(*, fulfilment: Fulfilment, actor=None) -> Fulfilment | None:
    """Give up on a parcel nobody collected: release the stock, cancel its lines, ask for a refund.

    Returns None when it is no longer waiting (a second run of the job does nothing).
    """
    fulfilment = fulfilment_lock(fulfilment)
    if fulfilment.status != F.READY_FOR_PICKUP:
        return None
    fulfilment_transition(fulfilment, "expire", actor=actor, reason="not collected in time")
    lines = list(fulfilment.lines.select_related("order_line"))
    fulfilment_release(fulfilment, units_by_sku(lines), reason="pickup_expired", actor=actor)
    order = fulfilment.order
    refund = 0
    for fl in lines:
        OrderLine.objects.filter(pk=fl.order_line_id).update(
            cancelled_quantity=fl.order_line.cancelled_quantity + fl.quantity
        )
        refund += fl.order_line.unit_price * fl.quantity
    order.total = order_amounts(order=order).total
    Order.objects.filter(pk=order.pk).update(total=order.total)
    refund_requested_emit(order=order, amount=refund, currency=order.currency, reason="pickup_expired")
    if not any(line.open_quantity for line in order.lines.all()):
        transition_apply(order, "cancel", order=order, subject="order", actor=actor, reason="pickup expired")
    else:
        order_sync_status(order=order, actor=actor)
    return fulfilment


# --- timed jobs ----------------------------------------------------------------------


def pickups_remind(*, now=None) -> int:
    """Mark and announce parcels waiting longer than the reminder time; each is reminded once."""
    now = now or timezone.now()
    due = Fulfilment.objects.filter(
        status=F.READY_FOR_PICKUP,
        reminded_at__isnull=True,
        ready_at__lte=now - timedelta(hours=settings.OMS_PICKUP_REMINDER_HOURS),
    ).select_related("order")
    count = 0
    for fulfilment in due:
        with transaction.atomic():
            if Fulfilment.objects.filter(pk=fulfilment.pk, reminded_at__isnull=True).update(reminded_at=now):
                event_emit(
                    "fulfilment.pickup_reminder",
                    order=fulfilment.order,
                    data={"fulfilment": fulfilment.pk, "order_number": fulfilment.order.number},
                )
                count += 1
    return count


def pickups_expire(*, now=None) -> int:
    """Expire parcels left on the shelf past the collection window."""
    now = now or timezone.now()
    due = list(
        Fulfilment.objects.filter(
            status=F.READY_FOR_PICKUP, ready_at__lte=now - timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
        )
    )
    return sum(1 for fulfilment in due if fulfilment_expire(fulfilment=fulfilment) is not None)


# --- when a pickup goes wrong -----------------------------------------------------------


@transaction.atomic
def fulfilment_resend_pickup_code(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Ask the channel to send the customer their pickup code again (the first message got lost).

    The event carries the code itself, since the channel is what reaches the customer.
    Resending lifts a lock left by wrong codes: the customer is about to bring the right one.
    """
    fulfilment = fulfilment_lock(fulfilment)
    if fulfilment.status != F.READY_FOR_PICKUP:
        raise InvalidInput(
            f"The parcel is {fulfilment.status}; a pickup code exists only while it waits for collection.",
            errors={"fulfilment": ["Not ready for pickup."]},
        )
    cache.delete(_pickup_code_misses_key(fulfilment))
    order = fulfilment.order
    event_emit(
        "fulfilment.pickup_code_resent",
        order=order,
        data={
            "fulfilment": fulfilment.pk,
            "order_number": order.number,
            "store": fulfilment.location.code,
            "pickup_code": fulfilment.pickup_code,
        },
    )
    Activity.objects.create(
        order=order,
        subject=fulfilment.subject,
        action="resend_pickup_code",
        reason=f"collect at {fulfilment.location.code}",
        actor=actor,
    )
    return fulfilment


@transaction.atomic
def fulfilment_put_back(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Record that a parcel nobody will collect was unpacked and its units are back on the shop floor.

    Expiry or cancellation already released the reservation; this closes the store's
    to-do, so the same parcel is never listed (or put back) twice.
    """
    fulfilment = fulfilment_lock(fulfilment)
    if fulfilment.status not in (F.EXPIRED, F.CANCELLED) or fulfilment.ready_at is None:
        raise InvalidInput(
            f"The parcel is {fulfilment.status}; only an expired or cancelled pickup goes back to the shop floor.",
            errors={"fulfilment": ["Not an uncollected pickup."]},
        )
    if fulfilment.put_back_at is not None:
        raise InvalidInput("This parcel was already put back.", errors={"fulfilment": ["Already put back."]})
    fulfilment.put_back_at = timezone.now()
    fulfilment.save(update_fields=["put_back_at"])
    Activity.objects.create(
        order=fulfilment.order,
        subject=fulfilment.subject,
        action="put_back",
        from_state=fulfilment.status,
        to_state=fulfilment.status,
        reason=f"stock put back at {fulfilment.location.code}",
        actor=actor,
    )
    return fulfilment
