"""Store operations: pausing new routed work, and taking work a location did not accept in time.

A pause has an end time and routing reads it (``store_hours.unavailable_stores``), so it
lifts by itself; nothing has to run for the store to receive work again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import Location
from oms.models import Activity
from oms.transitions import transition_apply

from .actions import fulfilment_lock, fulfilment_reroute_short
from .deadlines import deadline_moves_work
from .models import Fulfilment, StorePause
from .order_status import order_sync_status
from .reserved_stock import units_by_sku
from .store_hours import store_calendar, store_pause_current

F = Fulfilment.Status
TAKEN_ACTIONS = ("cancel", "sold_at_till")


@transaction.atomic
def store_pause(*, store: Location, minutes: int, reason: str, actor=None, now: datetime | None = None) -> StorePause:
    """Stop new routed work for ``store`` for ``minutes`` (up to OMS_STORE_PAUSE_MAX_HOURS).

    A pause already on is replaced by the new one.
    """
    now = now or timezone.now()
    limit = int(settings.OMS_STORE_PAUSE_MAX_HOURS * 60)
    errors = {}
    if store.kind != Location.Kind.STORE:
        errors["store"] = ["Only a store can pause its work."]
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= limit:
        errors["minutes"] = [f"Choose from 1 minute to {limit // 60:g} hours."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why the store is pausing (staff short, stock count, …)."]
    if errors:
        raise InvalidInput("The pause was not set.", errors=errors)
    StorePause.objects.filter(location=store, starts_at__lte=now, ends_at__gt=now).update(ends_at=now)
    return StorePause.objects.create(
        location=store,
        starts_at=now,
        ends_at=now + timedelta(minutes=minutes),
        reason=reason.strip()[:255],
        created_by=actor,
    )


@transaction.atomic
def store_resume(*, store: Location, actor=None, now: datetime | None = None) -> StorePause | None:
    """End the store's pause now; None when it was not paused."""
    now = now or timezone.now()
    pause = store_pause_current(location_id=store.pk, at=now)
    if pause is None:
        return None
    pause.ends_at = max(now, pause.starts_at + timedelta(microseconds=1))
    pause.save(update_fields=["ends_at"])  # saving forgets the cached calendar
    return pause


def _local(store: Location, at: datetime) -> str:
    return f"{at.astimezone(store_calendar().zone(store.pk)):%H:%M}"


def fulfilment_reroute_unaccepted(*, fulfilment: Fulfilment, now: datetime | None = None) -> bool:
    """Take work the store did not accept by its deadline and route it elsewhere; False if nothing was due.

    Safe to run twice: the work must still be pending and past its deadline under the
    order's lock. The store is left out of this re-route, as an agent's exclusion would.
    """
    now = now or timezone.now()
    with transaction.atomic():
        fulfilment = fulfilment_lock(fulfilment)
        store = fulfilment.location
        due = fulfilment.accept_by is not None and fulfilment.accept_by <= now
        if fulfilment.status != F.PENDING or not due or not deadline_moves_work(fulfilment):
            return False
        why = f"deadline: not accepted by {_local(store, fulfilment.accept_by)}"
        transition_apply(fulfilment, "cancel", order=fulfilment.order, subject=fulfilment.subject, reason=why)
        fulfilment_reroute_short(
            fulfilment=fulfilment,
            short=units_by_sku(fulfilment.lines.all()),
            actor=None,
            release_reason="deadline",
            reason=f"deadline: {store.code} did not accept in time",
        )
        order_sync_status(order=fulfilment.order)
    return True


def fulfilments_reroute_unaccepted(*, now: datetime | None = None) -> int:
    """Re-route work whose accept deadline has passed; return how many moved.

    Every store's; a warehouse's only where its channel's routing policy says so.
    """
    now = now or timezone.now()
    due = (
        Fulfilment.objects.filter(status=F.PENDING, accept_by__lte=now)
        .select_related("location", "order__channel")
        .order_by("accept_by", "pk")
    )
    return sum(1 for f in list(due) if fulfilment_reroute_unaccepted(fulfilment=f, now=now))


def fulfilment_taken_away(*, fulfilment: Fulfilment, lines) -> str:
    """Why work (or some of its ``lines``) left this store without the store declining it; "" if none did.

    A missed accept deadline or a till sale of its units, say; nothing is read for work
    that is whole.
    """
    if fulfilment.status != F.CANCELLED and all(line.quantity for line in lines):
        return ""
    row = (
        Activity.objects.filter(order_id=fulfilment.order_id, subject=fulfilment.subject, action__in=TAKEN_ACTIONS)
        .order_by("-pk")
        .first()
    )
    if row is None:
        return ""
    if row.action == "sold_at_till":
        return f"Units sold at the till here: {row.reason}"
    return row.reason.replace("deadline: ", "Accept deadline missed: ", 1)
