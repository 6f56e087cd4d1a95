"""Order-side reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .models import Activity, Note, Order, OutboxEvent


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition" | "note" | "event"
    subject: str
    text: str
    actor: str | None = None
    from_state: str = ""
    to_state: str = ""


def order_timeline(*, order: Order) -> list[TimelineEntry]:
    """Transitions, notes and outgoing events of one order, oldest first, in three queries."""
    entries = [
        TimelineEntry(
            a.at,
            "transition",
            a.subject,
            f"{a.action}: {a.reason}" if a.reason else a.action,
            a.actor.get_username() if a.actor else None,
            a.from_state,
            a.to_state,
        )
        for a in Activity.objects.filter(order=order).select_related("actor")
    ]
    entries += [
        TimelineEntry(n.at, "note", "order", n.text, n.author.get_username() if n.author else None)
        for n in Note.objects.filter(order=order).select_related("author")
    ]
    entries += [
        TimelineEntry(e.created, "event", "order", e.type)
        for e in OutboxEvent.objects.filter(order=order).exclude(type__endswith=".status_changed")
    ]
    return sorted(entries, key=lambda e: e.at)
