"""Order-side reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from inventory.exceptions import InvalidInput
from inventory.selectors import skus_resolve

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


def order_line_quantities(*, order: Order, lines: list[tuple[str, int]]) -> dict[int, int]:
    """Map (SKU code, units) to order line id → units, taking each SKU's units from its open lines in order.

    Channels name lines by SKU, not by our line ids; a SKU spread over several lines is
    taken from the first line first. Unknown SKUs and more than is open are refused.
    """
    by_sku: dict[str, list] = {}
    for line in order.lines.select_related("sku"):
        by_sku.setdefault(line.sku.code, []).append(line)
    resolved = skus_resolve(codes=[code for code, _ in lines if code not in by_sku], channel=order.channel)
    taken: dict[int, int] = {}
    errors: dict[str, list[str]] = {}
    for i, (code, quantity) in enumerate(lines):
        sku_code = code if code in by_sku else getattr(resolved.get(code.strip()), "code", None)
        if sku_code not in by_sku:
            errors[f"lines[{i}].sku"] = [f"{code} is not on order {order.number}."]
            continue
        for line in by_sku[sku_code]:
            take = min(quantity, line.open_quantity - taken.get(line.pk, 0))
            if take > 0:
                taken[line.pk] = taken.get(line.pk, 0) + take
                quantity -= take
        if quantity:
            errors[f"lines[{i}].quantity"] = [f"{quantity} more than is open of {code}."]
    if errors:
        raise InvalidInput("Cannot cancel those lines.", errors=errors)
    return taken
