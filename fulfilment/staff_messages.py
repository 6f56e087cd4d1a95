"""Service refusals in the retailer's words, for the staff pages (store and back office).

The API answers with the exception's own ``message`` and field ``errors``; a person at a
counter needs a sentence that says what happened and what to do instead.
"""

from __future__ import annotations

from inventory.exceptions import DomainError


def staff_message(error: DomainError) -> str:
    """Say why a service refused an action, in one message a person at the counter can act on."""
    details = []
    for field, texts in error.errors.items():
        name = field.rsplit(".", 1)[-1].replace("_", " ")
        details += [f"{name}: {text.split(': ', 1)[-1]}" for text in texts if text not in error.message]
    return " ".join([error.message, *details])
