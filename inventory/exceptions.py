"""The inventory layer's errors; each carries the data a caller needs to answer precisely."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every refusal a service raises (in any app); nothing was changed.

    ``errors`` maps a field to its messages where the caller's input is at fault.
    """

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InventoryError(DomainError):
    """Base of the inventory layer's refusals."""


class InvalidInput(InventoryError):
    """A field is missing, unknown or out of range."""


@dataclass(frozen=True)
class Shortfall:
    sku: str
    location: str | None
    requested: int
    available: int
    reason: str = "insufficient_stock"
    alternatives: tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        return {
            "sku": self.sku,
            "location": self.location,
            "requested": self.requested,
            "available": self.available,
            "reason": self.reason,
            "alternatives": list(self.alternatives),
        }


class InsufficientStock(InventoryError):
    """One or more lines cannot be reserved; ``shortfalls`` lists every one of them."""

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        lines = ", ".join(
            f"{s.sku}@{s.location or 'network'} wants {s.requested}, has {s.available}" for s in shortfalls
        )
        super().__init__(f"Not enough stock: {lines}.")


class StockConflict(InventoryError):
    """The change would break a stock invariant, e.g. on hand below what is reserved."""


class CountNeedsConfirmation(StockConflict):
    """A count would move on hand so far that the person must confirm the number first."""

    def __init__(self, *, sku: str, location: str, on_hand: int, counted: int):
        self.on_hand, self.counted = on_hand, counted
        super().__init__(
            f"{sku}@{location}: this count changes on hand from {on_hand:,} to {counted:,} — confirm?",
            errors={"confirm": [f"Confirm the count of {counted:,}; {on_hand:,} are on hand."]},
        )


class NotPermitted(InventoryError):
    """The caller may not make this change (e.g. stock at a location outside its credential's scope)."""
