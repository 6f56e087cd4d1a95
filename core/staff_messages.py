"""Service refusals in the retailer's words, for every staff page (store and back office).

The API answers with an exception's own ``message`` and field ``errors`` (``omnichannel.api.errors``);
those are written for a developer ("SKU-1@network wants 500, has 403", "send lat and lon").
A person at a counter or on the phone needs one sentence that says what happened and what
to do instead. ``staff_message`` is the one place that turns a refusal into that sentence:
the store pages, the returns desk and the back office all call it, and none of them shows
``str(exc)``. A refusal class that carries more than a message (a shortfall, the allowed
transitions) registers its own sentence with ``describes`` next to where it is defined;
every other refusal keeps its message, with the fields named in plain words rather than as
API paths.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from .errors import DomainError

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
        lambda field: field.endswith(".sku"),
        lambda text: " is not on inbound supply " in text,
        lambda text: re.sub(
            r"^SKU (.+) is not on inbound supply (.+)\.$",
            r"SKU \1 is not on delivery \2. Check the delivery note: it may belong to another delivery.",
            text,
        ),
    ),
    (
        lambda field: field == "reference",
        lambda text: text.startswith("Closed: nothing more is received"),
        lambda text: "This delivery is closed: nothing more can be received against it.",
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


# Refusal class → its sentence, registered by the module that knows what the class carries.
DESCRIBERS: dict[type[DomainError], Callable[[DomainError], str]] = {}


def describes(kind: type[DomainError]):
    """Register the decorated function as the sentence for refusals of ``kind`` (and its subclasses)."""

    def register(describe: Callable[[DomainError], str]) -> Callable[[DomainError], str]:
        DESCRIBERS[kind] = describe
        return describe

    return register


def staff_message(error: DomainError) -> str:
    """Say why a service refused an action, in one sentence a person at the counter can act on."""
    for kind in type(error).__mro__:
        if kind in DESCRIBERS:
            return DESCRIBERS[kind](error)
    return _input(error)  # any other refusal: its message, with the fields in plain words
