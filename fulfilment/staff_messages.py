"""Service refusals in the retailer's words, for every staff page (store and back office).

The API answers with an exception's own ``message`` and field ``errors`` (``omnichannel.api.errors``);
those are written for a developer ("SKU-1@network wants 500, has 403", "send lat and lon").
A person at a counter or on the phone needs one sentence that says what happened and what
to do instead. ``staff_message`` is the one place that turns a refusal into that sentence:
the store pages, the returns desk and the back office all call it, and none of them shows
``str(exc)``. Refusals it has no sentence for keep their message, with the fields named in
plain words rather than as API paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from inventory.exceptions import DomainError, InsufficientStock, InvalidInput, StockConflict
from inventory.models import Location, Sku
from oms.exceptions import TransitionNotAllowed

from .exceptions import PickupCodeRefused

# Field paths of the API as a person would name them; a path not listed is named by its last part.
FIELD_WORDS = {
    "pickup_code": "pickup code",
    "external_id": "order reference",
    "customer.phone": "phone number",
    "customer.email": "e-mail address",
    "fulfilment.store": "collection store",
    "fulfilment.address.line1": "first address line",
    "fulfilment.address.postcode": "postcode",
    "destination.postcode": "postcode",
    "delta": "change",
    "counted": "count",
}
# Words for the states a person sees, where the code's own name reads oddly.
STATE_WORDS = {"ready_for_pickup": "on the pickup shelf", "in_fulfilment": "being fulfilled", "picking": "picked"}


def _units(n: int) -> str:
    return f"{n} unit" if n == 1 else f"{n} units"


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


def _transition(error: TransitionNotAllowed) -> str:
    state = STATE_WORDS.get(error.current, error.current.replace("_", " "))
    action = re.match(r"Cannot (\w+)", error.message)
    verb = action.group(1).replace("_", " ") if action else "do that"
    allowed = [a.replace("_", " ") for a in error.allowed]
    return f"You cannot {verb} it while it is {state}; allowed now: {', '.join(allowed) or 'nothing'}."


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


def _stock_conflict(error: StockConflict) -> str:
    # "SKU-1@ST-SOHO: counted 2 but 3 are reserved; …" — the store and SKU are on the page already.
    text = re.sub(r"^\S+@\S+:\s*", "", error.message)
    details = [t for texts in error.errors.values() for t in texts if t not in text]
    return " ".join([text[:1].upper() + text[1:], *details])


def _total_too_large(text: str) -> str:
    limit = re.search(r"\d[\d.]*\d|\d", text)
    below = f" less than {int(Decimal(limit.group(0))):,}" if limit else " less"
    return f"An order must come to{below}. Lower the quantities or split it into two orders."


# Field messages that have a better sentence for a person than the API's: (field, start of text) → sentence.
FIELD_SENTENCES: list[tuple[Callable[[str], bool], Callable[[str], bool], Callable[[str], str]]] = [
    (
        lambda field: field.endswith("postcode"),
        lambda text: "send lat and lon" in text,
        lambda text: "We do not know that postcode. Enter the customer's postcode or pick a store.",
    ),
    (
        lambda field: field == "lines",
        lambda text: text.startswith("The total must be below"),
        lambda text: _total_too_large(text),
    ),
    (
        lambda field: field == "delta",
        lambda text: text == "Must not be zero.",
        lambda text: "Must not be zero. Enter how many units to add, or take out with a minus sign (e.g. -2).",
    ),
    (
        lambda field: field.endswith("phone"),
        lambda text: text.startswith(("Not a phone number", "Not a possible phone number")),
        lambda text: "That phone number is not right: check it with the customer.",
    ),
    (
        lambda field: field == "method",
        lambda text: text.startswith("One of"),
        lambda text: "Unknown refund method. Choose the original payment or store credit.",
    ),
    (
        lambda field: True,
        lambda text: text == "Required.",
        lambda text: "",  # named by the field below: "Enter the postcode."
    ),
]


def _field_name(field: str) -> str:
    return FIELD_WORDS.get(field) or field.rsplit(".", 1)[-1].replace("_", " ")


def _input(error: DomainError) -> str:
    sentences, details, missing = [], [], []
    for field, texts in error.errors.items():
        for text in texts:
            rule = next((say for applies, matches, say in FIELD_SENTENCES if applies(field) and matches(text)), None)
            if rule is None:
                if text.rstrip(".").lower() not in error.message.lower():
                    name = _field_name(field)
                    details.append(f"{name[:1].upper()}{name[1:]}: {text.split(': ', 1)[-1]}")
            elif said := rule(text):
                sentences.append(said)
            else:
                missing.append(_field_name(field))
    if missing:
        sentences.append(f"Enter the {' and the '.join(dict.fromkeys(missing))}.")
    if sentences:
        return " ".join(dict.fromkeys(sentences))
    return " ".join([error.message, *details])


DESCRIBERS: list[tuple[type[DomainError], Callable]] = [
    (PickupCodeRefused, _pickup_code),
    (InsufficientStock, _insufficient_stock),
    (TransitionNotAllowed, _transition),
    (StockConflict, _stock_conflict),
    (InvalidInput, _input),
]


def staff_message(error: DomainError) -> str:
    """Say why a service refused an action, in one sentence a person at the counter can act on."""
    for kind, describe in DESCRIBERS:
        if isinstance(error, kind):
            return describe(error)
    return _input(error)  # any other refusal: its message, with the fields in plain words
