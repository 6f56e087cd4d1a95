"""The order layer's refusals."""

from inventory.exceptions import DomainError


class TransitionNotAllowed(DomainError):
    """The action is not allowed in the current state; ``allowed`` names those that are."""

    def __init__(self, message: str, *, current: str, allowed: list[str]):
        super().__init__(message)
        self.current = current
        self.allowed = allowed


class OrderNotFound(DomainError):
    """No such order for this caller (another channel's orders are not found either)."""
