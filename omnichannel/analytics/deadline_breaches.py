"""Deadline breaches per store: accept deadlines missed (the work was re-routed for
``deadline``), ready/dispatch deadlines missed (late), and the share of work on time.

Read from the fulfilments' own deadlines and their audit rows for the period, not from a
counter kept on the side, so the report agrees with the timeline and the store queue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from fulfilment.models import Fulfilment
from fulfilment.store_work import OPEN_WORK
from inventory.models import Location
from oms.models import Activity

from .selectors import AnalyticsFilters, day_bounds, share


@dataclass(frozen=True)
class StoreDeadlines:
    code: str
    name: str
    with_deadline: int  # work given an accept or ready/dispatch deadline
    judged: int  # of it, work whose deadlines are behind it: met or missed
    accept_missed: int
    ready_missed: int

    @property
    def on_time_rate(self) -> float | None:
        return share(self.judged - self.accept_missed - self.ready_missed, self.judged)


def _ready_verdict(f: dict, now: datetime) -> bool | None:
    """True: ready or sent by ``due_by``; False: missed it; None: not decided (or no such deadline)."""
    if f["due_by"] is None:
        return None
    done = f["ready_at"] or f["dispatched_at"]
    if done is not None:
        return done <= f["due_by"]
    if f["status"] in OPEN_WORK and f["due_by"] < now:
        return False
    return None


def deadline_breaches(*, filters: AnalyticsFilters, now: datetime | None = None) -> list[StoreDeadlines]:
    """Per store, for work routed to it in the period: its deadlines, and how many it missed."""
    now = now or timezone.now()
    start, end = day_bounds(filters.start)[0], day_bounds(filters.end)[1]
    work = Fulfilment.objects.filter(
        Q(accept_by__isnull=False) | Q(due_by__isnull=False),
        created_at__gte=start,
        created_at__lt=end,
        location__kind=Location.Kind.STORE,
    )
    if filters.channel is not None:
        work = work.filter(order__channel=filters.channel)
    if filters.location is not None:
        work = work.filter(location=filters.location)
    missed_accept = Activity.objects.filter(
        order_id=OuterRef("order_id"),
        subject=Concat(Value("fulfilment:"), Cast(OuterRef("pk"), CharField())),
        action="cancel",
        reason__startswith="deadline:",
    )
    rows = list(
        work.annotate(missed_accept=Exists(missed_accept)).values(
            "missed_accept", "location__code", "location__name", "status", "due_by", "ready_at", "dispatched_at"
        )
    )
    tally: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for f in rows:
        t = tally[(f["location__code"], f["location__name"])]
        t["with_deadline"] += 1
        if f["missed_accept"]:
            t["accept_missed"] += 1
            t["judged"] += 1
            continue
        verdict = _ready_verdict(f, now)
        if verdict is not None:
            t["judged"] += 1
            t["ready_missed"] += not verdict
    return [
        StoreDeadlines(code, name, t["with_deadline"], t["judged"], t["accept_missed"], t["ready_missed"])
        for (code, name), t in sorted(tally.items())
    ]
