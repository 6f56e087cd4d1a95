"""Receiving a supplier's delivery at a store, once per sent form.

A double click or a form sent again by the browser must not book the goods twice, while
scanning the same product again is a real second receipt. So each receiving form the page
draws carries a fresh one-time token, and a receipt claims its form's token before it
commits: the document's row stays locked by the receipt until then, so two sends of one
form queue and the second finds the token taken and books nothing.
"""

from __future__ import annotations

import re
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction

from core.errors import Conflict
from inventory.inbound import inbound_receive
from inventory.models import InboundSupply

TOKEN_PATTERN = re.compile(r"[0-9a-f]{32}")
# Long enough to outlast any page left open on a tablet over a shift.
TOKEN_SECONDS = 24 * 60 * 60


class SentTwice(Conflict):
    """The form of this receipt was sent before: its token is taken, so nothing more is booked."""

    def __init__(self) -> None:
        super().__init__(
            "That receipt was already booked: the same form was sent twice, so nothing more was received. "
            "To receive more, scan the product again."
        )


def receipt_token() -> str:
    """A fresh token for one receiving form."""
    return secrets.token_hex(16)


@transaction.atomic
def delivery_receive(
    *, supply: InboundSupply, code: str, quantity: int, token: str, actor: AbstractBaseUser | None
) -> dict[str, int]:
    """Receive ``quantity`` of the SKU ``code`` names against ``supply``, once for the form's ``token``.

    Returns the units beyond what the document announced, per SKU code (``inbound_receive``).
    """
    if not TOKEN_PATTERN.fullmatch(token):
        raise SentTwice()
    over = inbound_receive(supply=supply, lines=[(code, quantity)], actor=actor)
    # Claimed while the receipt holds the document's row: a second send of the form waits for
    # this commit, then finds the token taken and its receipt rolls back.
    if not cache.add(f"store-delivery-receipt:{token}", True, TOKEN_SECONDS):
        raise SentTwice()
    return over
