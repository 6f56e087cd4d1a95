"""The fulfilment layer's refusals that carry more than a message."""

from __future__ import annotations

from core.errors import InvalidInput


class PickupCodeRefused(InvalidInput):
    """The pickup code was refused: malformed (not counted), wrong (``tries_left`` more) or the parcel locked."""

    def __init__(
        self, message: str, *, field_error: str, tries_left: int | None = None, locked_minutes: float | None = None
    ):
        super().__init__(message, errors={"pickup_code": [field_error]})
        self.tries_left, self.locked_minutes = tries_left, locked_minutes

    @property
    def malformed(self) -> bool:
        return self.tries_left is None and self.locked_minutes is None
