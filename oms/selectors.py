"""Order-side reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum

from inventory.exceptions import InvalidInput
from inventory.selectors import skus_resolve

from .models import Activity, Customer, Note, Order, OrderLine, OutboxEvent, WebhookDelivery
from .services import normalise_email, normalise_phone


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "transition" | "note" | "event"
    subject: str
    text: str
    actor: str | None = None
    from_state: str = ""
    to_state: str = ""


def order_timeline(*, order: Order, deliveries: bool = False) -> list[TimelineEntry]:
    """Transitions, notes and outgoing events of one order, oldest first, in three queries.

    With ``deliveries`` (the back office) a fourth query adds each webhook delivery and how
    it went, so an agent can tell whether a channel was told about a change.
    """
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
    if deliveries:
        entries += [
            TimelineEntry(
                d.delivered_at or d.created_at,
                "webhook",
                d.endpoint.url,
                f"{d.event.type} {d.status} after {d.attempts} attempt(s)",
            )
            for d in WebhookDelivery.objects.filter(event__order=order).select_related("event", "endpoint")
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


def customers_search(*, query: str, limit: int = 20) -> QuerySet[Customer]:
    """Customers matching an e-mail, a phone number in any format or a member number, with their order counts."""
    ids = customer_ids_matching(query=query)
    return Customer.objects.filter(pk__in=ids).annotate(order_count=Count("orders")).order_by("-pk")[:limit]


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


def customer_summary(*, customer: Customer) -> CustomerSummary:
    """Order count, spend per currency (cancelled units excluded) and the store they collect from most."""
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
    return CustomerSummary(orders=orders.count(), spent=spent, preferred_store=preferred[0] if preferred else None)
