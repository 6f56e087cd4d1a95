"""Sentences for the fulfilment services' refusals, for every staff page (``core.staff_messages``).

Registered when the app is ready: a pickup code says how many tries are left, a fulfilment's
states read in plain words, and an unknown delivery postcode says what to do instead.
"""

from __future__ import annotations

from core.staff_messages import describes, field_sentence, field_words
from oms.refusal_sentences import STATE_WORDS

from .exceptions import PickupCodeRefused

STATE_WORDS.update({"ready_for_pickup": "on the pickup shelf", "picking": "picked"})
field_words({"pickup_code": "pickup code", "destination.postcode": "postcode"})


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


@field_sentence(lambda field: field.endswith("postcode"), lambda text: "send lat and lon" in text)
def _unknown_postcode(text: str) -> str:
    return "We do not know that postcode. Enter the customer's postcode or pick a store."
