"""The order timeline as staff read it: one sentence per thing that happened, in the retailer's words.

The audit trail stores rows (``fulfilment:175 pending → cancelled cancel``); this is the one
place that turns them into sentences ("Soho declined: damaged. Sent to Leeds instead (3.2 km)").
It lives with the back office because a sentence names stores, products and returns, which
only a layer above every app may read together. Templates print ``Story.text`` and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from geopy.distance import geodesic

from fulfilment.models import Fulfilment
from oms.models import Order, OrderLine, StaffProfile
from oms.selectors import TimelineEntry
from returns.models import Return

ROLE_WORDS = {
    StaffProfile.Role.STORE_STAFF: "store staff",
    StaffProfile.Role.AGENT: "agent",
    StaffProfile.Role.SUPERVISOR: "supervisor",
    StaffProfile.Role.ADMIN: "admin",
}
DECLINE_WORDS = {
    Fulfilment.DeclineReason.NOT_IN_STOCK: "not in stock",
    Fulfilment.DeclineReason.DAMAGED: "damaged",
    Fulfilment.DeclineReason.MISMATCH: "stock mismatch",
}


@dataclass
class Story:
    """One line of the timeline: when, what kind of thing, and the sentence."""

    at: datetime
    kind: str  # transition | note | event | webhook
    text: str
    who: str = ""  # "agent ann", when the sentence does not already say who
    rerouted: bool = field(default=False, repr=False)  # a decline or short pick: where the work went follows
    sent: bool = field(default=False, repr=False)  # ... and it went somewhere


@dataclass(frozen=True)
class _Context:
    order: Order
    fulfilments: dict[str, Fulfilment]
    returns: dict[str, Return]
    lines: dict[str, OrderLine]
    roles: dict[str, str]

    def who(self, username: str | None) -> str:
        if not username:
            return ""
        role = self.roles.get(username)
        return f"{role} {username}" if role else username


# A time as the routing explanation stores it for the API: "2026-12-07T01:00+00:00".
_MACHINE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?")


def plain_times(text: str) -> str:
    """Write the machine timestamps in a sentence as the pages show dates ("7 Dec 01:00", local time)."""

    def local(match: re.Match) -> str:
        try:
            at = datetime.fromisoformat(match.group(0).replace("Z", "+00:00"))
        except ValueError:
            return match.group(0)
        at = timezone.localtime(at) if timezone.is_aware(at) else at
        return f"{at.day} {at:%b %H:%M}"

    return _MACHINE_TIME.sub(local, text or "")


def _place(location) -> str:
    return location.name or location.code


def _with(text: str, reason: str) -> str:
    return f"{text}: {reason}" if reason else text


def _km(order: Order, location) -> str:
    if order.lat is None or location.lat is None:
        return ""
    return f" ({geodesic((order.lat, order.lon), (location.lat, location.lon)).km:.1f} km)"


# --- fulfilment rows ---------------------------------------------------------------------


def _decline(f: Fulfilment, e: TimelineEntry, ctx: _Context) -> str:
    code = f.decline_reason or e.reason
    why = DECLINE_WORDS.get(code, code.replace("_", " "))
    note = e.reason if e.reason and e.reason != code else ""
    return f"{_place(f.location)} declined: {why}" + (f" ({note})" if note else "")


def _route(f: Fulfilment, e: TimelineEntry, ctx: _Context, *, instead: bool = False) -> str:
    stock = f" with stock from {_place(f.source_location)}" if f.source_location_id != f.location_id else ""
    return f"Sent to {_place(f.location)}{stock}{' instead' if instead else ''}{_km(ctx.order, f.source_location)}"


def _pick(f: Fulfilment, e: TimelineEntry, ctx: _Context) -> str:
    if e.reason == "short pick":
        return f"{_place(f.location)} picked short"
    return f"{_place(f.location)} picked the items"


def _ship(f: Fulfilment, e: TimelineEntry, ctx: _Context) -> str:
    carrier = f" with {f.carrier} (tracking {f.tracking})" if f.carrier else ""
    return f"{_place(f.location)} shipped the parcel{carrier}"


def _cancel(f: Fulfilment, e: TimelineEntry, ctx: _Context) -> str:
    if e.reason.startswith("deadline:"):
        return f"{_place(f.location)} did not accept the work in time ({e.reason.removeprefix('deadline:').strip()})"
    return _with(f"Work at {_place(f.location)} cancelled", e.reason)


FULFILMENT_SENTENCES: dict[str, Callable[[Fulfilment, TimelineEntry, _Context], str]] = {
    "accept": lambda f, e, ctx: f"{_place(f.location)} accepted the work",
    "decline": _decline,
    "route": _route,
    "pick": _pick,
    "pack": lambda f, e, ctx: f"{_place(f.location)} packed the parcel",
    "ship": _ship,
    "deliver": lambda f, e, ctx: f"The parcel from {_place(f.location)} was delivered",
    "ready": lambda f, e, ctx: f"Ready for collection at {_place(f.location)}",
    "collect": lambda f, e, ctx: f"Collected at {_place(f.location)}",
    "expire": lambda f, e, ctx: f"Not collected at {_place(f.location)} in time; the parcel expired",
    "cancel": _cancel,
    "resend_pickup_code": lambda f, e, ctx: f"Pickup code for {_place(f.location)} sent to the customer again",
    "put_back": lambda f, e, ctx: f"Uncollected stock put back on the shop floor at {_place(f.location)}",
    "sell": lambda f, e, ctx: f"Sold at the till at {_place(f.location)}; the customer took the goods",
    "remind_deadline": lambda f, e, ctx: f"Reminder sent to {_place(f.location)}: {e.reason}",
    "sold_at_till": lambda f, e, ctx: _with(f"{_place(f.location)} sold units of this order at the till", e.reason),
}
# --- order rows ----------------------------------------------------------------------------

ORDER_SENTENCES: dict[str, Callable[[TimelineEntry], str]] = {
    "hold": lambda e: _with("Put on hold", e.reason),
    "release": lambda e: _with("Hold released", e.reason),
    "allocate": lambda e: _with("Order allocated", e.reason),
    "backorder": lambda e: "Backordered: no location has the stock now; the order waits for stock",
    "start_fulfilment": lambda e: "The order is in fulfilment",
    "ship_partially": lambda e: "Part of the order is on its way",
    "ship": lambda e: "Every part of the order is on its way",
    "make_ready_for_pickup": lambda e: "Everything is ready for collection",
    "complete": lambda e: "Order completed: everything was delivered or collected",
    "sell_in_store": lambda e: "Till sale recorded: order completed",
    "cancel": lambda e: _with("Order cancelled", e.reason),
    "change_address": lambda e: f"Delivery address changed: now postcode {e.reason}",
    "reroute": lambda e: _with("Re-routed", e.reason),
    "customer_merge": lambda e: f"Customer records merged ({e.reason})",
    "goodwill_refund": lambda e: _with("Goodwill refund paid", e.reason),
    "goodwill_request": lambda e: _with("Goodwill refund requested", e.reason),
    "refund_approve": lambda e: _with("Goodwill refund approved", e.reason),
    "refund_reject": lambda e: _with("Goodwill refund rejected", e.reason),
}
# Sentences that name the person themselves ("cancelled by agent ann: …").
SAYS_WHO = {
    "cancel",
    "hold",
    "release",
    "reroute",
    "change_address",
    "goodwill_refund",
    "goodwill_request",
    "refund_approve",
    "refund_reject",
}


def _order_sentence(e: TimelineEntry, ctx: _Context) -> tuple[str, bool]:
    phrase = ORDER_SENTENCES.get(e.action)
    if phrase is None:
        return _with(e.action.replace("_", " ").capitalize(), e.reason), False
    text = phrase(e)
    who = ctx.who(e.actor)
    if e.action in SAYS_WHO and who:
        head, sep, tail = text.partition(":")
        return f"{head} by {who}{sep}{tail}", True
    return text, False


def _line_sentence(e: TimelineEntry, ctx: _Context) -> tuple[str, bool]:
    line = ctx.lines.get(e.subject)
    product = line.sku.name if line is not None else "units"
    try:
        units = int(e.from_state) - int(e.to_state)
    except ValueError:
        units = "?"
    who = ctx.who(e.actor)
    return _with(f"{units} × {product} cancelled" + (f" by {who}" if who else ""), e.reason), True


REFUND_DECISIONS = {
    "refund_request": "refund requested",
    "refund_approve": "refund approved",
    "refund_reject": "refund rejected",
}


def _return_sentence(e: TimelineEntry, ctx: _Context) -> tuple[str, bool]:
    ret = ctx.returns.get(e.subject)
    name = f"Return {ret.reference}" if ret is not None else "A return"
    if e.action in REFUND_DECISIONS:
        who = ctx.who(e.actor)
        return _with(f"{name}: {REFUND_DECISIONS[e.action]}" + (f" by {who}" if who else ""), e.reason), True
    return _with(f"{name} {(e.to_state or e.action).replace('_', ' ')}", e.reason), False


def _sentence(e: TimelineEntry, ctx: _Context) -> tuple[str, bool]:
    """The sentence for one row, and whether it already says who did it."""
    if e.kind == "note":
        who = ctx.who(e.actor)
        return (f"Note by {who}: {e.text}" if who else f"Note: {e.text}"), True
    if e.kind == "event":
        return f"Channel told: {e.text.replace('.', ' ').replace('_', ' ')}", False
    if e.kind == "webhook":
        return f"Sent to {e.subject}: {e.text}", False
    kind = e.subject.split(":", 1)[0]
    if kind == "order":
        return _order_sentence(e, ctx)
    if kind == "line":
        return _line_sentence(e, ctx)
    if kind == "return":
        return _return_sentence(e, ctx)
    f = ctx.fulfilments.get(e.subject)
    phrase = FULFILMENT_SENTENCES.get(e.action)
    if f is None or phrase is None:
        return _with(f"{e.subject} {e.action.replace('_', ' ')}", e.reason), False
    return phrase(f, e, ctx), False


def order_story(
    *, order: Order, entries: Iterable[TimelineEntry], fulfilments: Iterable[Fulfilment], returns: Iterable[Return]
) -> list[Story]:
    """Turn the order's timeline rows into sentences, oldest first.

    ``fulfilments`` are read with their locations and ``order.lines`` with their SKUs
    (the order page has both already); the staff roles of the people named cost one query.
    A re-route right after a decline or short pick joins that sentence: "Soho declined:
    damaged. Sent to Leeds instead (3.2 km)".
    """
    entries = list(entries)
    usernames = {e.actor for e in entries if e.actor}
    roles = dict(StaffProfile.objects.filter(user__username__in=usernames).values_list("user__username", "role"))
    ctx = _Context(
        order=order,
        fulfilments={f.subject: f for f in fulfilments},
        returns={r.subject: r for r in returns},
        lines={f"line:{line.pk}": line for line in order.lines.all()},
        roles={name: ROLE_WORDS.get(role, role) for name, role in roles.items()},
    )
    stories: list[Story] = []
    for e in entries:
        last = stories[-1] if stories else None
        if e.action == "route" and e.subject in ctx.fulfilments and last is not None and last.rerouted:
            last.text += ". " + _route(ctx.fulfilments[e.subject], e, ctx, instead=True)
            last.sent = True
            continue
        text, says_who = _sentence(e, ctx)
        gave_up = (
            e.action in ("decline", "sold_at_till")
            or (e.action == "pick" and e.reason == "short pick")
            or (e.action == "cancel" and e.reason.startswith("deadline:"))
        )
        rerouted = e.kind == "transition" and e.subject.startswith("fulfilment:") and gave_up
        stories.append(Story(e.at, e.kind, text, "" if says_who else ctx.who(e.actor), rerouted))
    for story in stories:
        story.text = plain_times(story.text)
        if story.rerouted and not story.sent:
            story.text += ". No other location has it now"
        if not story.text.endswith((".", "!", "?")):
            story.text += "."
    return stories
