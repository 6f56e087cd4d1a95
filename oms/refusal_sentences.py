"""Sentences for the order services' refusals, for every staff page (``core.staff_messages``).

Registered when the app is ready: a state machine's refusal says the state in plain words,
and the order intake's fields (customer, total, collection store) read as a person names them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from core.staff_messages import describes, field_sentence, field_words

from .exceptions import TransitionNotAllowed

field_words(
    {
        "external_id": "order reference",
        "customer.phone": "phone number",
        "customer.email": "e-mail address",
        "fulfilment.store": "collection store",
        "fulfilment.address.line1": "first address line",
        "fulfilment.address.postcode": "postcode",
    }
)

# Words for the states a person sees, where the code's own name reads oddly; apps whose
# objects have states of their own add theirs.
STATE_WORDS = {"in_fulfilment": "being fulfilled"}


@describes(TransitionNotAllowed)
def _transition(error: TransitionNotAllowed) -> str:
    state = STATE_WORDS.get(error.current, error.current.replace("_", " "))
    if error.target and error.target == error.current:
        return f"That was already done: it is {state} now, perhaps from another tablet. Nothing more was changed."
    action = re.match(r"Cannot (\w+)", error.message)
    verb = action.group(1).replace("_", " ") if action else "do that"
    allowed = [a.replace("_", " ") for a in error.allowed]
    return f"You cannot {verb} it while it is {state}; allowed now: {', '.join(allowed) or 'nothing'}."


@field_sentence(lambda field: field == "lines", lambda text: text.startswith("The total must be below"))
def _total_too_large(text: str) -> str:
    limit = re.search(r"\d[\d.]*\d|\d", text)
    below = f" less than {int(Decimal(limit.group(0))):,}" if limit else " less"
    return f"An order must come to{below}. Lower the quantities or split it into two orders."


@field_sentence(
    lambda field: field.endswith("phone"),
    lambda text: text.startswith(("Not a phone number", "Not a possible phone number")),
)
def _phone(text: str) -> str:
    return "That phone number is not right: check it with the customer."
