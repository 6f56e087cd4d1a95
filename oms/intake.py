"""An order as a channel sends it, and the rules it must meet beyond the shape of each field.

ISO codes come from pycountry (ISO 4217 currencies, ISO 3166-1 countries). The tender
rule and the comparison of a repeated ``external_id`` with the order it names live here
so that order placement stays one readable function.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache

import pycountry

from core.errors import InvalidInput
from inventory.models import Channel
from inventory.selectors import skus_resolve

from .exceptions import ExternalIdConflict
from .models import Activity, Order, OrderLine

PAID = (Order.PaymentStatus.AUTHORISED, Order.PaymentStatus.PAID)

MAX_ORDER_TOTAL = Decimal(10) ** 10  # Order.total holds 12 digits, 2 of them decimals

WHEN_SHORT_BACKORDER = "backorder"
WHEN_SHORT = ("reject", WHEN_SHORT_BACKORDER)


@dataclass
class OrderLineInput:
    sku: str
    quantity: int
    unit_price: str | Decimal = "0"


@dataclass
class OrderInput:
    """An order as a channel sends it (see the contract's POST /api/v1/orders)."""

    channel: Channel
    external_id: str
    lines: list[OrderLineInput]
    currency: str = "GBP"
    method: str = Order.Method.DELIVERY
    address: dict = field(default_factory=dict)
    pickup_store: str | None = None
    customer: dict = field(default_factory=dict)
    payment_status: str = Order.PaymentStatus.AUTHORISED
    tenders: list = field(default_factory=list)
    when_short: str = ""  # "reject" or "backorder"; empty: the channel's routing policy decides


def order_lines_validated(data: OrderInput) -> list[OrderLine]:
    """The order's lines as unsaved ``OrderLine`` rows, or InvalidInput naming every line that is wrong."""
    errors: dict[str, list[str]] = {}
    if not data.lines:
        errors["lines"] = ["At least one line is needed."]
    skus = skus_resolve(codes=[line.sku for line in data.lines if isinstance(line.sku, str)], channel=data.channel)
    lines = []
    for i, line in enumerate(data.lines):
        sku = skus.get(str(line.sku).strip())
        if sku is not None and not sku.active and data.when_short == WHEN_SHORT_BACKORDER:
            errors[f"lines[{i}].sku"] = [f"SKU {sku.code} is no longer sold; it cannot be backordered."]
        elif sku is None or not sku.active:
            errors[f"lines[{i}].sku"] = [f"Unknown SKU {line.sku!r}."]
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) or line.quantity <= 0:
            errors[f"lines[{i}].quantity"] = ["Must be a whole number above zero."]
        try:
            price = Decimal(str(line.unit_price))
            if not price.is_finite() or price < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors[f"lines[{i}].unit_price"] = ["Must be a decimal amount of zero or more."]
            price = Decimal(0)
        lines.append(OrderLine(sku=sku, quantity=line.quantity, unit_price=price))
    if errors:
        raise InvalidInput("The order has invalid lines.", errors=errors)
    return lines


@cache
def currency_codes() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


@cache
def country_codes() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


def is_currency(code) -> bool:
    """Whether ``code`` is an ISO 4217 currency code, in any case."""
    return isinstance(code, str) and code.upper() in currency_codes()


def is_country(code) -> bool:
    """Whether ``code`` is an ISO 3166-1 alpha-2 country code, in any case."""
    return isinstance(code, str) and code.upper() in country_codes()


def _amount(value) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def tenders_check(*, payment_status: str, tenders: list, total: Decimal) -> None:
    """Refuse an authorised or paid order whose tenders do not add up to its total.

    A pending or failed payment may carry none or part of them; an order sent without
    tenders leaves payment to the channel.
    """
    if payment_status not in PAID or not tenders:
        return
    amounts = [_amount(t.get("amount")) if isinstance(t, dict) else None for t in tenders]
    if None in amounts:
        raise InvalidInput("A tender amount is not a number.", errors={"payment.tenders": ["Amounts are numbers."]})
    paid = sum(amounts, Decimal(0))
    if paid != total:
        message = f"The tenders add up to {paid:.2f} but the order total is {total:.2f}."
        raise InvalidInput(message, errors={"payment.tenders": [message]})


def _sent_lines(data: OrderInput) -> Counter:
    resolved = skus_resolve(codes=[str(line.sku) for line in data.lines], channel=data.channel)
    rows = Counter()
    for line in data.lines:
        code = str(line.sku).strip()
        sku = resolved.get(code)
        rows[(sku.code if sku else code, line.quantity, _amount(line.unit_price))] += 1
    return rows


def _address(address: dict) -> dict:
    return {k: str(v).strip() for k, v in (address or {}).items() if k not in ("lat", "lon") and str(v).strip()}


def _tenders(tenders: list) -> list[tuple]:
    return [
        (str(t.get("type", "")), _amount(t.get("amount")), str(t.get("reference", "")))
        for t in tenders
        if isinstance(t, dict)
    ]


def intake_differences(*, data: OrderInput, placed: Order) -> dict[str, list[str]]:
    """Field → message for what ``data`` says differently from the order placed under its external id.

    The customer is left out: it is resolved into a shared record that later orders update.
    A delivery address changed since placement is left out too: the original is not kept.
    """
    diffs: dict[str, list[str]] = {}
    placed_lines = Counter(
        (line.sku.code, line.quantity, line.unit_price) for line in placed.lines.select_related("sku")
    )
    if _sent_lines(data) != placed_lines:
        diffs["lines"] = ["Differ from the order's lines."]
    if str(data.currency).upper() != placed.currency:
        diffs["currency"] = [f"Sent {str(data.currency).upper()}; the order is in {placed.currency}."]
    if data.method != placed.method:
        diffs["fulfilment.method"] = [f"Sent {data.method}; the order is for {placed.method}."]
    elif data.method == Order.Method.PICKUP:
        store = placed.pickup_location.code if placed.pickup_location else None
        if data.pickup_store != store:
            diffs["fulfilment.store"] = [f"Sent {data.pickup_store}; the order is collected at {store}."]
    elif not Activity.objects.filter(order=placed, action="change_address").exists():
        if _address(data.address) != _address(placed.address):
            diffs["fulfilment.address"] = ["Differs from the order's delivery address."]
    if data.payment_status != placed.payment_status:
        diffs["payment.status"] = [f"Sent {data.payment_status}; the order's payment is {placed.payment_status}."]
    if _tenders(data.tenders) != _tenders(placed.tenders):
        diffs["payment.tenders"] = ["Differ from the order's tenders."]
    return diffs


def repeat_check(*, data: OrderInput, placed: Order) -> None:
    """Refuse a repeated external id whose body differs from the order it names; an identical repeat passes."""
    diffs = intake_differences(data=data, placed=placed)
    if diffs:
        raise ExternalIdConflict(
            f"Order {placed.number} was placed under external_id {placed.external_id!r} with a different "
            f"{', '.join(diffs)}; send a new external_id for a new order.",
            errors=diffs,
            order=placed.pk,
        )
