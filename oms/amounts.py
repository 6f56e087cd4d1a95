"""What an order is worth now that some of it may be cancelled, and what is due back to the customer.

The order keeps no payment ledger: it knows its lines (price, units ordered, units cancelled),
its payment status and the tenders the channel sent. That is all these figures use.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from .models import Order, OrderLine


@dataclass(frozen=True)
class OrderAmounts:
    placed: Decimal  # every unit ordered, at its price
    cancelled: Decimal  # the units that will never be delivered
    total: Decimal  # what the order is worth now: placed less cancelled
    paid: Decimal  # taken from the customer (an authorised payment has taken nothing yet)
    refund_due: Decimal  # what was paid for the cancelled units


def lines_value(lines: Iterable[OrderLine]) -> tuple[Decimal, Decimal]:
    """The value of the units ordered and of the units cancelled."""
    placed = cancelled = Decimal(0)
    for line in lines:
        placed += line.unit_price * line.quantity
        cancelled += line.unit_price * line.cancelled_quantity
    return placed, cancelled


def order_paid(order: Order, placed: Decimal) -> Decimal:
    """What the customer paid: the tenders of a paid order (the whole order when it names none)."""
    if order.payment_status != Order.PaymentStatus.PAID:
        return Decimal(0)
    if not order.tenders:
        return placed
    return sum((Decimal(str(t.get("amount") or 0)) for t in order.tenders), Decimal(0))


def order_amounts(*, order: Order, lines: Iterable[OrderLine] | None = None) -> OrderAmounts:
    """Placed, cancelled and current value, what was paid and what is due back for cancelled units.

    A payment that covered less than the order (a voucher, say) is refunded at most in full:
    the refund due is the cancelled value, capped by what was paid.
    """
    placed, cancelled = lines_value(order.lines.all() if lines is None else lines)
    paid = order_paid(order, placed)
    return OrderAmounts(placed, cancelled, placed - cancelled, paid, min(paid, cancelled))
