"""The one bound on stock quantities, and when a count must be confirmed.

Every quantity a person types or a system sends — a count, an adjustment, a receipt, a
feed row — and every on-hand it would leave is a whole number of units no larger than
``OMS_MAX_STOCK_QUANTITY``, and never larger than the database's integer columns hold
(PostgreSQL's ``integer`` stops at 2,147,483,647). A barcode scanned into a quantity field
is far beyond it, so it is refused instead of booked.

A count that moves on hand by more than ``OMS_COUNT_CONFIRM_SHARE`` of it (12 counted as
5,000) is applied only once the person confirms that number; small finds of up to
``COUNT_CONFIRM_MIN_UNITS`` never ask, so a shelf found with a few units is a plain count.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from core.errors import InvalidInput

COLUMN_MAX = 2**31 - 1  # the integer columns holding on hand, reserved and movement deltas
COUNT_CONFIRM_MIN_UNITS = 10


def max_quantity() -> int:
    """Return the most units a quantity or an on-hand may be."""
    return min(int(settings.OMS_MAX_STOCK_QUANTITY), COLUMN_MAX)


def quantity_problem(value: object, *, signed: bool = False) -> str | None:
    """Say what is wrong with ``value`` as a number of units, or return None when it is fine.

    ``signed`` allows a change in either direction (an adjustment, a feed delta); zero is
    the caller's business.
    """
    if type(value) is not int:
        return "Enter a whole number of units."
    most = max_quantity()
    if value > most:
        return f"{value:,} is more than the {most:,} units a location may hold."
    if -value > most:
        return f"Taking out {-value:,} is more than the {most:,} units a location may hold."
    if value < 0 and not signed:
        return "Enter zero or more."
    return None


def quantity_check(value: object, *, field: str, signed: bool = False) -> int:
    """Return ``value`` when it is a valid number of units; raise InvalidInput naming ``field`` otherwise."""
    problem = quantity_problem(value, signed=signed)
    if problem is not None:
        raise InvalidInput(f"{field.replace('_', ' ').capitalize()}: {problem}", errors={field: [problem]})
    return value


def on_hand_problem(on_hand: int) -> str | None:
    """Say why an on-hand a change would leave is out of range, or return None."""
    most = max_quantity()
    return f"{on_hand:,} on hand would be more than {most:,}, the most a location may hold" if on_hand > most else None


def count_needs_confirmation(*, on_hand: int, counted: int) -> bool:
    """Whether a count of ``counted`` where ``on_hand`` were booked must be confirmed first."""
    change = abs(counted - on_hand)
    return change > COUNT_CONFIRM_MIN_UNITS and change > float(settings.OMS_COUNT_CONFIRM_SHARE) * on_hand


class QuantityField(forms.IntegerField):
    """A form's whole number of units, held to the same bound as the services hold it."""

    def __init__(self, *, signed: bool = False, **kwargs):
        kwargs.setdefault("min_value", None if signed else 0)
        super().__init__(**kwargs)

    def validate(self, value):
        super().validate(value)
        # Below zero is min_value's to say (a signed field has none); this is the bound.
        if value not in self.empty_values and (problem := quantity_problem(value, signed=True)):
            raise ValidationError(problem, code="max_value")

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "max": max_quantity()}
