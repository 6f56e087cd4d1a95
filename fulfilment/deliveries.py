"""Receiving a supplier's delivery at a store, once per sent form.

A double click or a form sent again by the browser must not book the goods twice, while
scanning the same product again is a real second receipt. So each receiving form the page
draws carries a fresh one-time token, and a receipt claims its form's token before it
commits: the document's row stays locked by the receipt until then, so two sends of one
form queue and the second finds the token taken and books nothing.

Two tablets receiving the same delivery each draw their own form. The form also carries the
units the document had received when it was drawn (``seen``): a receipt that would go over
what was announced, on a document another tablet has booked against since, is refused, as
it most likely counts the same box again. The page is then drawn again with the new counts,
and scanning once more books the extra units as any over-delivery.
"""

from __future__ import annotations

import re
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum

from core.errors import Conflict
from inventory.inbound import inbound_receive
from inventory.models import InboundLine, InboundSupply

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


class ReceivedElsewhere(Conflict):
    """Since the form was drawn another receipt was booked on the document, and this one would go over it."""

    def __init__(self, supply: InboundSupply, code: str, quantity: int) -> None:
        lines = list(InboundLine.objects.filter(supply=supply).select_related("sku"))
        before = {line.pk: line.received - (quantity if line.sku.code == code else 0) for line in lines}
        line = next(line for line in lines if line.sku.code == code)
        if any(before[other.pk] < other.quantity for other in lines):
            then = "If more really arrived, scan them again."
        else:
            then = "The delivery is in full now; if more really arrived, tell the back office."
        super().__init__(
            f"Someone else has just received against {supply.reference}: {before[line.pk]} of {line.quantity} × "
            f"{code} are in now, so these {quantity} would be more than the delivery note says. "
            f"Nothing was booked. {then}"
        )


def received_so_far(supply: InboundSupply) -> int:
    """The units booked against the document, all lines together: what a receiving form is drawn with."""
    return InboundLine.objects.filter(supply=supply).aggregate(n=Sum("received"))["n"] or 0


def receipt_token() -> str:
    """A fresh token for one receiving form."""
    return secrets.token_hex(16)


@transaction.atomic
def delivery_receive(
    *,
    supply: InboundSupply,
    code: str,
    quantity: int,
    token: str,
    actor: AbstractBaseUser | None,
    seen: int | None = None,
) -> dict[str, int]:
    """Receive ``quantity`` of the SKU ``code`` names against ``supply``, once for the form's ``token``.

    ``seen`` is what the document had received when the form was drawn; an over-receipt on a
    document that has changed since is refused (``ReceivedElsewhere``). Returns the units
    beyond what the document announced, per SKU code (``inbound_receive``).
    """
    if not TOKEN_PATTERN.fullmatch(token):
        raise SentTwice()
    over = inbound_receive(supply=supply, lines=[(code, quantity)], actor=actor)
    # Claimed while the receipt holds the document's row: a second send of the form waits for
    # this commit, then finds the token taken and its receipt rolls back.
    if not cache.add(f"store-delivery-receipt:{token}", True, TOKEN_SECONDS):
        raise SentTwice()
    # Still under the document's lock: what was booked before this receipt cannot move.
    if over and seen is not None and received_so_far(supply) - quantity != seen:
        raise ReceivedElsewhere(supply, code, quantity)
    return over
