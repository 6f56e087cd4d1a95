"""Order-side reads."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from core.errors import InvalidInput
from inventory.models import Channel
from inventory.selectors import skus_resolve

from .identity import normalise_email, normalise_name, normalise_phone
from .models import (
    Activity,
    ApiToken,
    Customer,
    Note,
    Order,
    OrderLine,
    OutboxEvent,
    PossibleDuplicate,
    WebhookDelivery,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition" | "note" | "event"
    subject: str
    text: str
    actor: str | None = None
    from_state: str = ""
    to_state: str = ""
    action: str = ""  # a transition's or audit row's action; what happened, for a presenter to phrase
    reason: str = ""


def api_token_live(*, digest: str) -> ApiToken | None:
    """The live token of an active channel with this digest, its channel loaded, in one statement.

    A token is live until its ``revoked_at``: a rotation sets that a while ahead for the old token.
    """
    live = Q(revoked_at__isnull=True) | Q(revoked_at__gt=timezone.now())
    try:  # by its unique key, unordered: an ORDER BY could lead the planner off the digest's index
        return ApiToken.objects.select_related("channel").get(live, digest=digest, channel__active=True)
    except ApiToken.DoesNotExist:
        return None


def order_by_external_id(channel: Channel, external_id: str) -> Order | None:
    """The order the channel already placed under ``external_id``, if any (every placement asks first).

    Almost every placement asks about a new id, so the question is a key-only read; the
    whole order is read only for a repeat.
    """
    # By its unique key, unordered: ``first()``'s ORDER BY could walk the orders by date instead.
    found = list(Order.objects.filter(channel_id=channel.pk, external_id=external_id).values_list("pk", flat=True))
    return Order.objects.filter(pk=found[0]).first() if found else None


_USERNAME = Activity._meta.get_field("actor").related_model.USERNAME_FIELD
_TIMELINE_COLUMNS = ("at", "part", "row", "subject", "action", "reason", "who", "from_state", "to_state")
_TIMELINE_KINDS = ("transition", "note", "event")


def _timeline_rows(order_id: int, *, internal_notes: bool) -> QuerySet:
    """Transitions, notes and outgoing events but status changes (the transitions tell those), oldest first.

    At the same time, in that order, then in the rows' own. One UNION ALL of three reads.
    """
    blank = Value("")
    activities = Activity.objects.filter(order_id=order_id).annotate(
        part=Value(0), row=F("pk"), who=F(f"actor__{_USERNAME}")
    )
    notes = Note.objects.filter(order_id=order_id, internal__in={False, internal_notes}).annotate(
        part=Value(1),
        row=F("pk"),
        subject=Value("order"),
        action=F("text"),
        reason=blank,
        who=F(f"author__{_USERNAME}"),
        from_state=blank,
        to_state=blank,
    )
    events = (
        OutboxEvent.objects.filter(order_id=order_id)
        .exclude(type__endswith=".status_changed")
        .annotate(
            at=F("created"),
            part=Value(2),
            row=Value(0),
            subject=Value("order"),
            action=F("type"),
            reason=blank,
            who=Value(None, output_field=CharField()),
            from_state=blank,
            to_state=blank,
        )
    )
    first, *others = (rows.order_by().values_list(*_TIMELINE_COLUMNS) for rows in (activities, notes, events))
    return first.union(*others, all=True).order_by("at", "part", "row")


def order_timeline(*, order: Order | int, deliveries: bool = False) -> list[TimelineEntry]:
    """Transitions, notes and outgoing events of one order (or order id), oldest first, in one statement.

    It answers every order read of the API. With ``deliveries`` (the back office) a second query
    adds each webhook delivery and how it went, so an agent can tell whether a channel was told
    about a change, and the back office's internal notes are in it; without, only the notes
    stores and channels may see.
    """
    order_id = getattr(order, "pk", order)
    rows = _timeline_rows(order_id, internal_notes=deliveries)
    entries = [
        TimelineEntry(
            at,
            _TIMELINE_KINDS[part],
            subject,
            f"{action}: {reason}" if reason else action,
            actor,
            old,
            new,
            action,
            reason,
        )
        for at, part, _, subject, action, reason, actor, old, new in rows
    ]
    if deliveries:
        entries += [
            TimelineEntry(
                d.delivered_at or d.created_at,
                "webhook",
                d.endpoint.url,
                f"{d.event.type} {d.status} after {d.attempts} attempt(s)",
            )
            for d in WebhookDelivery.objects.filter(event__order=order_id).select_related("event", "endpoint")
        ]
        entries.sort(key=lambda e: e.at)
    return entries


def order_notes_for_stores(*, order_ids: Iterable[int]) -> dict[int, list[Note]]:
    """The notes store staff see, per order id, oldest first: every note but the back office's internal ones.

    One query for any number of orders, so a queue of a hundred rows reads its notes at once.
    """
    ids = set(order_ids)
    notes: dict[int, list[Note]] = {}
    if not ids:
        return notes
    for note in Note.objects.filter(order_id__in=ids, internal=False).only("order_id", "text", "at"):
        notes.setdefault(note.order_id, []).append(note)
    return notes


def order_line_cancellable(*, order: Order, line: OrderLine) -> int:
    """Units of ``line`` that may still be cancelled: its open units before dispatch, after it only
    the backordered ones (what was dispatched is returned, not cancelled)."""
    return line.open_quantity if order.status in Order.BEFORE_DISPATCH else line.backordered


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


# --- finding a customer from whatever the person on the phone has ----------------------

_PHONE_CHARS = re.compile(r"^[+(\d][\d\s().-]{6,}$")


def _identifier_match(query: str) -> Q | None:
    """The customer identifiers ``query`` could be: member number, e-mail, or a phone number in any format."""
    query = query.strip()
    if not query:
        return None
    match = Q(member_number=query)
    if "@" in query:
        match |= Q(email=normalise_email(query))
    if _PHONE_CHARS.match(query):
        try:
            match |= Q(phone=normalise_phone(query))
        except InvalidInput:
            pass
    return match


def customer_ids_matching(*, query: str) -> set[int]:
    """Ids of the live customers an identifier belongs to; a merged record answers with its survivor."""
    match = _identifier_match(query or "")
    if match is None:
        return set()
    found = set()
    rows = list(Customer.objects.filter(match).values_list("pk", "merged_into_id"))
    while rows:  # a survivor may itself have been merged later: follow the chain
        found.update(pk for pk, merged_into in rows if merged_into is None)
        parents = {merged_into for _, merged_into in rows if merged_into is not None}
        rows = list(Customer.objects.filter(pk__in=parents).values_list("pk", "merged_into_id")) if parents else []
    return found


def customer_name_match(query: str, *, prefix: str = "") -> Q | None:
    """Customers with a word of their name starting with each word typed, whatever the accents and case.

    The normalised column puts a space before every word, so "mül" is ``LIKE '% mul%'``: on
    PostgreSQL the column's trigram index serves it (migration ``oms.0010``). ``prefix`` is the
    path to the customer from another model (``"order__customer__"`` from a fulfilment), so the
    back office and the pickup counter find a name by the same rule. None when the query is an
    identifier or too short to mean a name.
    """
    words = normalise_name(query).split()
    if sum(ch.isalpha() for ch in "".join(words)) < 2:
        return None
    match = Q()
    for word in words:
        match &= Q(**{f"{prefix}name_search__contains": f" {word}"})
    return match


def _name_match(query: str) -> Q | None:
    """Live customers whose name matches the words typed (``customer_name_match``)."""
    match = customer_name_match(query)
    return None if match is None else Q(merged_into__isnull=True) & match


def customers_search(*, query: str, limit: int = 20) -> QuerySet[Customer]:
    """Customers matching an e-mail, a phone number in any format, a member number or their name,
    with their order counts."""
    ids = customer_ids_matching(query=query)
    match = Q(pk__in=ids) if ids else None
    if (by_name := _name_match(query or "")) is not None:
        match = by_name if match is None else match | by_name
    if match is None:
        return Customer.objects.none()
    return Customer.objects.filter(match).annotate(order_count=Count("orders")).order_by("-pk")[:limit]


def customer_survivor(*, customer: Customer) -> Customer:
    """The live customer a (possibly merged) record now lives on as."""
    while customer.merged_into_id is not None:
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


def customer_merged_records(*, customer: Customer) -> list[Customer]:
    """Every record merged into this customer, directly or through an earlier merge."""
    merged, frontier = [], [customer.pk]
    while frontier:
        found = list(Customer.objects.filter(merged_into__in=frontier).order_by("pk"))
        merged += found
        frontier = [c.pk for c in found]
    return merged


@dataclass(frozen=True)
class CustomerSummary:
    orders: int
    spent: dict[str, Decimal]  # currency -> value of the units not cancelled
    preferred_store: str | None


def customer_summary(*, customer: Customer, order_count: int | None = None) -> CustomerSummary:
    """Order count, spend per currency (cancelled units excluded) and the store they collect from most.

    A caller that has read the customer's orders already passes their number and saves a query.
    """
    orders = Order.objects.filter(customer=customer)
    open_value = ExpressionWrapper(
        F("unit_price") * (F("quantity") - F("cancelled_quantity")), output_field=DecimalField()
    )
    spent = dict(
        OrderLine.objects.filter(order__customer=customer)
        .exclude(order__status=Order.Status.CANCELLED)
        .values_list("order__currency")
        .annotate(total=Sum(open_value))
        .order_by()
    )
    preferred = (
        orders.filter(pickup_location__isnull=False)
        .values_list("pickup_location__code")
        .annotate(n=Count("pk"))
        .order_by("-n", "pickup_location__code")
        .first()
    )
    count = orders.count() if order_count is None else order_count
    return CustomerSummary(orders=count, spent=spent, preferred_store=preferred[0] if preferred else None)


def possible_duplicate_flagged() -> Exists:
    """Annotation: whether a customer has been flagged as maybe someone else (saves the page a query)."""
    pairs = PossibleDuplicate.objects.filter(Q(customer=OuterRef("pk")) | Q(other=OuterRef("pk")))
    return Exists(pairs)


def customer_possible_duplicates(*, customer: Customer) -> list[tuple[Customer, str]]:
    """Live customers flagged as maybe the same person as this one, with why, oldest flag first.

    A customer loaded with ``possible_duplicate_flagged()`` as ``flagged`` costs nothing when unflagged.
    """
    if not getattr(customer, "flagged", True):
        return []
    flags = PossibleDuplicate.objects.filter(Q(customer=customer) | Q(other=customer)).order_by("created_at", "pk")
    pairs = [(f.other_id if f.customer_id == customer.pk else f.customer_id, f.reason) for f in flags]
    live = Customer.objects.filter(pk__in=[pk for pk, _ in pairs], merged_into__isnull=True).in_bulk()
    return [(live[pk], reason) for pk, reason in pairs if pk in live]


# Orders whose backordered units still wait for supply: the fill on arrival serves them and
# the promise dates are worked out for them. A placed order has backordered units only inside
# the transaction routing it, which promises them before its status moves on.
WAITING_FOR_SUPPLY = (
    Order.Status.PLACED,
    Order.Status.BACKORDERED,
    Order.Status.ALLOCATED,
    Order.Status.IN_FULFILMENT,
    Order.Status.PARTIALLY_SHIPPED,
)


def waiting_for_supply() -> Q:
    """Order lines with units waiting for supply in orders that may still take them."""
    return Q(backordered__gt=0, order__status__in=WAITING_FOR_SUPPLY)
