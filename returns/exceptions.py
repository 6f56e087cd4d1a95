"""The returns layer's refusals."""

from __future__ import annotations

from decimal import Decimal

from core.errors import Conflict, NotPermitted


class ReturnNotAllowed(Conflict):
    """A return rule refuses the request; ``errors`` names the line and the rule."""


class RefundNotAllowed(Conflict):
    """The refund is not due as asked: more than is left to refund, awaiting approval, or changed since shown."""


class RefundNeedsApproval(NotPermitted):
    """The amount is above what this person may refund alone; a supervisor must approve it."""

    def __init__(self, message: str, *, amount: Decimal, limit: Decimal):
        super().__init__(message, errors={"amount": [message]})
        self.amount, self.limit = amount, limit
