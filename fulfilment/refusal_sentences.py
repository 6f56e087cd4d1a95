"""Sentences for the refusals the store and back-office pages meet that carry more than a message.

``core.staff_messages.staff_message`` says every refusal; these are registered with it when
the fulfilment app is ready: a shortfall names the products and stores, a state machine's
refusal the state in plain words, a pickup code how many tries are left.
"""

from __future__ import annotations

import re

from core.staff_messages import describes
from inventory.exceptions import InsufficientStock, StockConflict
from inventory.models import Location, Sku
from oms.exceptions import TransitionNotAllowed

from .exceptions import PickupCodeRefused

# Words for the states a person sees, where the code's own name reads oddly.
STATE_WORDS = {"ready_for_pickup": "on the pickup shelf", "in_fulfilment": "being fulfilled", "picking": "picked"}


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


@describes(InsufficientStock)
def _insufficient_stock(error: InsufficientStock) -> str:
    codes = {s.sku for s in error.shortfalls}
    names = dict(Sku.objects.filter(code__in=codes).values_list("code", "name"))
    places = {s.location for s in error.shortfalls if s.location}
    stores = dict(Location.objects.filter(code__in=places).values_list("code", "name")) if places else {}
    sentences = []
    for s in error.shortfalls:
        what = names.get(s.sku, s.sku)
        where = f"at {stores.get(s.location, s.location)}" if s.location else "across the network"
        if s.available <= 0:
            sentences.append(f"No units of {what} are available {where} ({s.requested} wanted).")
        else:
            sentences.append(f"Only {s.available} of {_units(s.requested)} of {what} are available {where}.")
    return " ".join(sentences)


@describes(TransitionNotAllowed)
def _transition(error: TransitionNotAllowed) -> str:
    state = STATE_WORDS.get(error.current, error.current.replace("_", " "))
    action = re.match(r"Cannot (\w+)", error.message)
    verb = action.group(1).replace("_", " ") if action else "do that"
    allowed = [a.replace("_", " ") for a in error.allowed]
    return f"You cannot {verb} it while it is {state}; allowed now: {', '.join(allowed) or 'nothing'}."


@describes(PickupCodeRefused)
def _pickup_code(error: PickupCodeRefused) -> str:
    if error.malformed:
        return "A pickup code is 6 digits: check the code in the customer's message. That try did not count."
    if error.tries_left is not None:
        tries = "1 try" if error.tries_left == 1 else f"{error.tries_left} tries"
        return f"That pickup code is not right. {tries} left."
    return (
        f"That pickup code was wrong too many times: the parcel takes no code for {error.locked_minutes:g} minutes. "
        "Check the code in the customer's message, or ask customer service to send it again."
    )


@describes(StockConflict)
def _stock_conflict(error: StockConflict) -> str:
    # "SKU-1@ST-SOHO: counted 2 but 3 are reserved; …" — the store and SKU are on the page already.
    text = re.sub(r"^\S+@\S+:\s*", "", error.message)
    details = [t for texts in error.errors.values() for t in texts if t not in text]
    return " ".join([text[:1].upper() + text[1:], *details])
