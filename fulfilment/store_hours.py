"""When stores are open, closed or paused, and what that means for ready times and deadlines.

Opening hours are per weekday in the store's own time zone; a store with no hours at all
is always open (warehouses, and stores not yet configured). Closed days shut a store all
day. A pause stops new routed work until its end time, with no job to lift it.

Routing asks on every order, so the whole calendar (hours, coming closed days, live and
coming pauses) is one cached value, rebuilt after any change to it: placing an order
costs no extra statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from .models import ClosedDay, OpeningHours, StorePause

CALENDAR_KEY = "store-calendar:v1"
CALENDAR_SECONDS = 300
# How far ahead the next opening is looked for; a store shut longer is treated as having none.
SEARCH_DAYS = 14


@dataclass
class Calendar:
    """Every store's week, closed days and pauses, as plain data that caches well."""

    zones: dict[int, str] = field(default_factory=dict)
    hours: dict[int, dict[int, list[tuple[int, int]]]] = field(default_factory=dict)  # weekday -> minutes spans
    closed: dict[int, dict[str, str]] = field(default_factory=dict)  # iso date -> reason
    pauses: list[tuple[int, float, float, str]] = field(default_factory=list)  # location, from, until, reason

    def zone(self, location_id: int) -> ZoneInfo:
        try:
            return ZoneInfo(self.zones.get(location_id) or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")


def _build() -> Calendar:
    cal = Calendar()
    for row in OpeningHours.objects.select_related("location").order_by("location_id", "weekday", "opens"):
        cal.zones[row.location_id] = row.location.timezone
        week = cal.hours.setdefault(row.location_id, {})
        week.setdefault(row.weekday, []).append(
            (row.opens.hour * 60 + row.opens.minute, row.closes.hour * 60 + row.closes.minute)
        )
    since = timezone.now().date() - timedelta(days=1)
    for day in ClosedDay.objects.filter(date__gte=since).select_related("location"):
        cal.zones[day.location_id] = day.location.timezone
        cal.closed.setdefault(day.location_id, {})[day.date.isoformat()] = day.reason
    for p in StorePause.objects.filter(ends_at__gt=timezone.now()):
        cal.pauses.append((p.location_id, p.starts_at.timestamp(), p.ends_at.timestamp(), p.reason))
    return cal


def store_calendar() -> Calendar:
    """The cached calendar of every store (rebuilt after any change, or every few minutes)."""
    cal = cache.get(CALENDAR_KEY)
    if cal is None:
        cal = _build()
        cache.set(CALENDAR_KEY, cal, CALENDAR_SECONDS)
    return cal


def calendar_changed(**_kwargs) -> None:
    """Forget the cached calendar; the next question rebuilds it."""
    cache.delete(CALENDAR_KEY)


for _model in (OpeningHours, ClosedDay, StorePause):
    post_save.connect(calendar_changed, sender=_model, dispatch_uid=f"calendar-save-{_model.__name__}")
    post_delete.connect(calendar_changed, sender=_model, dispatch_uid=f"calendar-delete-{_model.__name__}")


# --- opening hours ---------------------------------------------------------------------


def _spans(cal: Calendar, location_id: int, day: date) -> list[tuple[datetime, datetime]]:
    """The store's open spans on ``day`` (its local date) as aware datetimes."""
    if day.isoformat() in cal.closed.get(location_id, {}):
        return []
    week = cal.hours.get(location_id)
    if week is None:  # no hours configured: open all day
        zone = cal.zone(location_id)
        start = datetime.combine(day, time(0), zone)
        return [(start, datetime.combine(day + timedelta(days=1), time(0), zone))]
    zone = cal.zone(location_id)
    return [
        (
            datetime.combine(day, time(opens // 60, opens % 60), zone),
            datetime.combine(day, time(closes // 60, closes % 60), zone),
        )
        for opens, closes in week.get(day.weekday(), [])
    ]


def _spans_from(cal: Calendar, location_id: int, at: datetime):
    """Open spans ending after ``at``, in order, for the next SEARCH_DAYS days."""
    local = at.astimezone(cal.zone(location_id)).date()
    for offset in range(-1, SEARCH_DAYS + 1):
        for start, end in _spans(cal, location_id, local + timedelta(days=offset)):
            if end > at:
                yield start, end


def next_opening(*, location_id: int, at: datetime, cal: Calendar | None = None) -> datetime | None:
    """``at`` itself when the store is open then, else when it next opens (None: not within two weeks)."""
    cal = cal or store_calendar()
    for start, _end in _spans_from(cal, location_id, at):
        return max(start, at)
    return None


def opens_at(*, location_id: int, at: datetime, cal: Calendar | None = None) -> datetime | None:
    """When a store closed at ``at`` opens next; None while it is open."""
    opening = next_opening(location_id=location_id, at=at, cal=cal)
    return None if opening == at else opening


def ready_time(*, location_id: int, ready_by: datetime | None) -> datetime | None:
    """A collection time that never falls while the store is closed: the next opening instead."""
    if ready_by is None:
        return None
    return next_opening(location_id=location_id, at=ready_by) or ready_by


def add_open_minutes(*, location_id: int, start: datetime, minutes: float, cal: Calendar | None = None) -> datetime:
    """The moment ``minutes`` of the store's opening hours have passed after ``start``.

    Counted in opening hours, so an order placed at closing time is due the next day;
    a store with no hours counts the clock.
    """
    cal = cal or store_calendar()
    left = timedelta(minutes=minutes)
    for span_start, span_end in _spans_from(cal, location_id, start):
        begin = max(span_start, start)
        if begin + left <= span_end:
            return begin + left
        left -= span_end - begin
    return start + timedelta(minutes=minutes)  # shut for weeks: fall back to the clock


# --- what routing may not use now --------------------------------------------------------


def unavailable_stores(*, at: datetime | None = None, cal: Calendar | None = None) -> dict[int, str]:
    """Stores routing must not give new work to at ``at``: location id → why (paused, closed today)."""
    at = at or timezone.now()
    cal = cal or store_calendar()
    found: dict[int, str] = {}
    stamp = at.timestamp()
    for location_id, since, until, reason in cal.pauses:
        if since <= stamp < until:
            ends = datetime.fromtimestamp(until, cal.zone(location_id))
            found[location_id] = f"paused until {ends:%H:%M}: {reason}"
    for location_id, days in cal.closed.items():
        today = at.astimezone(cal.zone(location_id)).date().isoformat()
        if today in days and location_id not in found:
            found[location_id] = "closed today" + (f" ({days[today]})" if days[today] else "")
    return found


def pause_in_force(*, location_id: int, at: datetime | None = None) -> tuple[datetime, str] | None:
    """(until when, why) of the store's pause at ``at``, read from the cached calendar; None if not paused."""
    at = at or timezone.now()
    cal = store_calendar()
    stamp = at.timestamp()
    live = [
        (until, reason) for loc, since, until, reason in cal.pauses if loc == location_id and since <= stamp < until
    ]
    if not live:
        return None
    until, reason = max(live)
    return datetime.fromtimestamp(until, cal.zone(location_id)), reason


def store_pause_current(*, location_id: int, at: datetime | None = None) -> StorePause | None:
    """The pause in force at the store now, if any."""
    at = at or timezone.now()
    return (
        StorePause.objects.filter(location_id=location_id, starts_at__lte=at, ends_at__gt=at)
        .order_by("-ends_at")
        .first()
    )
