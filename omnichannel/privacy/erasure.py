"""Erasure: a person's data replaced with anonymised values wherever it is stored.

Order numbers, amounts, lines, fulfilments, returns, refunds and the stock ledger stay as
they were, so the books, stock history and analytics do not change. What is cleared and
what is scrubbed is listed in ``omnichannel.privacy.fields``; the rules in docs/decisions.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta

import phonenumbers
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from oms.models import Activity, Customer, CustomerAccess, IdempotencyKey, Note, Order, OutboxEvent, PossibleDuplicate
from returns.models import RefundRequest, Return, ReturnException

from .export import customer_orders, customer_records

ERASED = "[erased]"
FINISHED = (Order.Status.COMPLETED, Order.Status.CANCELLED)
_SHORTEST = 3  # shorter fragments (initials, "12" of a house number) would cut ordinary words


class ErasureRefused(Conflict):
    """The person still has orders in progress; ``orders`` are their numbers."""

    def __init__(self, message: str, *, orders: list[str]):
        super().__init__(message, errors={"customer": [message]})
        self.orders = orders


def orders_open(orders: Iterable[Order]) -> list[Order]:
    """The orders still in progress: not yet delivered, collected or cancelled, or with a return or refund open."""
    orders = list(orders)
    busy = set(
        Return.objects.filter(order__in=orders)
        .filter(Q(status__in=Return.OPEN) | Q(refund_requests__status=RefundRequest.Status.PENDING))
        .values_list("order_id", flat=True)
    )
    return [o for o in orders if o.status not in FINISHED or o.pk in busy]


def _phone_forms(phone: str) -> set[str]:
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return {phone}
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return {phone, national, national.replace(" ", ""), str(parsed.national_number)}


def personal_values(*, customers: Iterable[Customer], orders: Iterable[Order]) -> set[str]:
    """The strings that identify the person: identifiers, name and its words, address lines."""
    values: set[str] = set()
    for record in customers:
        values.update(filter(None, [record.email, record.member_number, record.name]))
        values.update(word for word in (record.name or "").split() if len(word) >= _SHORTEST)
        if record.phone:
            values.update(_phone_forms(record.phone))
    for order in orders:
        values.update(str(v) for k, v in (order.address or {}).items() if k not in ("country", "erased") and v)
    return {v.strip() for v in values if len(v.strip()) >= _SHORTEST and v.strip() != ERASED}


class Scrubber:
    """Cuts the person's values out of free text and JSON, whatever the case."""

    def __init__(self, values: Iterable[str]):
        ordered = sorted(set(values), key=len, reverse=True)  # the longest first: a name before its words
        self.pattern = re.compile("|".join(re.escape(v) for v in ordered), re.IGNORECASE) if ordered else None

    def __call__(self, value):
        if self.pattern is None:
            return value
        if isinstance(value, str):
            return self.pattern.sub(ERASED, value)
        if isinstance(value, list):
            return [self(v) for v in value]
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        return value


def _erased_address(address: dict) -> dict:
    if not address:
        return {}
    return {"erased": True, **({"country": address["country"]} if address.get("country") else {})}


def _scrub_rows(queryset, fields: list[str], scrub: Scrubber) -> None:
    changed = []
    for row in queryset.only("pk", *fields):
        before = [getattr(row, f) for f in fields]
        after = [scrub(v) for v in before]
        if after != before:
            for f, v in zip(fields, after, strict=True):
                setattr(row, f, v)
            changed.append(row)
    if changed:
        queryset.model.objects.bulk_update(changed, fields, batch_size=500)


def orders_anonymise(*, orders: list[Order], scrub: Scrubber, now=None) -> int:
    """Anonymise the personal data on ``orders`` and what was written about them; return how many."""
    now = now or timezone.now()
    ids = [o.pk for o in orders]
    if not ids:
        return 0
    for order in orders:
        Order.objects.filter(pk=order.pk).update(
            address=_erased_address(order.address), routing=scrub(order.routing), anonymised_at=now
        )
    Note.objects.filter(order__in=ids).update(text=ERASED)
    # An address change's history entry names the postcode it moved to: an earlier address, gone from the order.
    Activity.objects.filter(order__in=ids, action="change_address").update(reason=ERASED)
    _scrub_rows(Activity.objects.filter(order__in=ids).exclude(reason=""), ["reason"], scrub)
    _scrub_rows(OutboxEvent.objects.filter(order__in=ids), ["data"], scrub)
    _scrub_rows(RefundRequest.objects.filter(ret__order__in=ids), ["reason", "decision_note"], scrub)
    _scrub_rows(ReturnException.objects.filter(ret__order__in=ids), ["note"], scrub)
    # Stored first responses of the channels' keyed POSTs made since the first of these orders
    # (keys expire after a day or so, so this is a small set).
    since = min(o.created_at for o in orders) - timedelta(days=1)
    channels = {o.channel_id for o in orders}
    _scrub_rows(IdempotencyKey.objects.filter(channel__in=channels, created_at__gte=since), ["body"], scrub)
    return len(ids)


def customer_anonymise(*, records: list[Customer], now=None) -> None:
    """Clear the identity of the person's records and forget possible-duplicate flags about them."""
    ids = [c.pk for c in records]
    Customer.objects.filter(pk__in=ids).update(
        email=None, phone=None, member_number=None, name="", name_search="", erased_at=now or timezone.now()
    )
    PossibleDuplicate.objects.filter(Q(customer__in=ids) | Q(other__in=ids)).delete()


def erasure_preview(*, customer: Customer) -> dict:
    """What an erasure of this customer would anonymise, for the confirmation page."""
    records = customer_records(customer=customer)
    orders = customer_orders(customer=customer)
    ids = [o.pk for o in orders]
    return {
        "records": records,
        "orders": orders,
        "open_orders": orders_open(orders),
        "addresses": sum(1 for o in orders if o.address and not o.anonymised_at),
        "notes": Note.objects.filter(order__in=ids).count(),
        "events": OutboxEvent.objects.filter(order__in=ids).count(),
        "returns": Return.objects.filter(order__in=ids).count(),
    }


@transaction.atomic
def customer_erase(*, customer: Customer, reason: str, actor=None) -> CustomerAccess:
    """Anonymise everything held about the person (merged records too); refused while an order is open.

    One transaction: the person is erased everywhere or nowhere. The audit row says who and
    why, with the person's own values cut out of the reason.
    """
    if not (reason or "").strip():
        raise InvalidInput("Say why the data is erased.", errors={"reason": ["Required."]})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    records = customer_records(customer=customer)
    orders = list(Order.objects.select_for_update().filter(pk__in=[o.pk for o in customer_orders(customer=customer)]))
    still_open = orders_open(orders)
    if still_open:
        numbers = sorted(o.number for o in still_open)
        raise ErasureRefused(
            f"Cannot erase while orders are still open: {', '.join(numbers)}. Try again once they are finished.",
            orders=numbers,
        )
    scrub = Scrubber(personal_values(customers=records, orders=orders))
    now = timezone.now()
    orders_anonymise(orders=orders, scrub=scrub, now=now)
    customer_anonymise(records=records, now=now)
    return CustomerAccess.objects.create(
        customer=customer, actor=actor, action=CustomerAccess.Action.ERASED, reason=scrub(reason.strip())[:255]
    )
