"""Reminders before a deadline: the store queue's "Accept within 12 min" badge, and one
timeline reminder per fulfilment and deadline written by the deadline job.

Which work is near a deadline is one rule (``selectors.deadline_near``); the badge and the
job both read it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oms.models import Activity

from .models import Fulfilment
from .store_work import OPEN_WORK, deadline_near

F = Fulfilment.Status
ACCEPTED_OPEN = [s for s in OPEN_WORK if s != F.PENDING]


def _minutes(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds() / 60))


def deadline_words(f: Fulfilment, *, now: datetime) -> tuple[str, datetime | None]:
    """What the deadline asks ("Accept", "Ready", "Ship") and when, for pending or accepted work."""
    if f.status == F.PENDING:
        return "Accept", f.accept_by
    if f.status in ACCEPTED_OPEN:
        return ("Ready" if f.method == Fulfilment.Method.CLICK_AND_COLLECT else "Ship"), f.due_by
    return "", None


def deadline_badge(f: Fulfilment, *, now: datetime) -> str:
    """ "Accept within 12 min" while that deadline is within OMS_DEADLINE_REMINDER_MINUTES, else ""."""
    verb, at = deadline_words(f, now=now)
    if at is None or not now < at <= now + timedelta(minutes=settings.OMS_DEADLINE_REMINDER_MINUTES):
        return ""
    return f"{verb} within {_minutes(at, now)} min"


def reminder_sent(f: Fulfilment) -> datetime | None:
    """When the reminder for the deadline the work now faces was written, if it was."""
    return f.accept_reminded_at if f.status == F.PENDING else f.due_reminded_at


def fulfilments_remind_deadlines(*, now: datetime | None = None) -> int:
    """Write one reminder for each accept or ready deadline coming within the reminder time.

    Each fulfilment is reminded once per deadline (``accept_reminded_at``, ``due_reminded_at``),
    however often the job runs: the mark is set by a conditional update.
    """
    now = now or timezone.now()
    near = Fulfilment.objects.filter(deadline_near(now=now)).select_related("location")
    count = 0
    for field, waiting in (("accept_reminded_at", [F.PENDING]), ("due_reminded_at", ACCEPTED_OPEN)):
        for f in near.filter(status__in=waiting, **{f"{field}__isnull": True}).order_by("pk"):
            verb, at = deadline_words(f, now=now)
            with transaction.atomic():
                if Fulfilment.objects.filter(pk=f.pk, **{f"{field}__isnull": True}).update(**{field: now}):
                    Activity.objects.create(
                        order_id=f.order_id,
                        subject=f.subject,
                        action="remind_deadline",
                        reason=f"{verb.lower()} within {_minutes(at, now)} min",
                    )
                    count += 1
    return count
