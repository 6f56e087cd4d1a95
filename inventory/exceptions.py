"""The inventory layer's errors; each carries the data a caller needs to answer precisely."""

from __future__ import annotations

from dataclasses import dataclass


class InventoryError(Exception):
    """Base of every refusal the inventory services raise; nothing was changed."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(InventoryError):
    """A field is missing, unknown or out of range."""


@dataclass(frozen=True)
class Shortfall:
    sku: str
    location: str | None
    requested: int
    available: int
    reason: str = "insufficient_stock"

    def as_dict(self) -> dict:
        return {
            "sku": self.sku,
            "location": self.location,
            "requested": self.requested,
            "available": self.available,
            "reason": self.reason,
        }


class InsufficientStock(InventoryError):
    """One or more lines cannot be reserved; ``shortfalls`` lists every one of them."""

    def __init__(self, shortfalls: list[Shortfall]):
        self.shortfalls = shortfalls
        lines = ", ".join(f"{s.sku}@{s.location or 'network'} wants {s.requested}, has {s.available}" for s in shortfalls)
        super().__init__(f"Not enough stock: {lines}.")


class StockConflict(InventoryError):
    """The change would break a stock invariant, e.g. on hand below what is reserved."""
