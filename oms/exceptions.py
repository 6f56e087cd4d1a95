"""The order layer's refusals."""

from core.errors import Conflict


class TransitionNotAllowed(Conflict):
    """The action is not allowed in the current state; ``allowed`` names those that are.

    ``target`` is the state the action leads to, when it leads to one: equal to ``current``,
    the action was already taken (a second tablet, a double click).
    """

    def __init__(self, message: str, *, current: str, allowed: list[str], target: str = ""):
        super().__init__(message)
        self.current = current
        self.allowed = allowed
        self.target = target


class ExternalIdConflict(Conflict):
    """The channel's external id already names an order placed with a different body; ``order`` is its id."""

    def __init__(self, message: str, *, errors: dict[str, list[str]], order: int):
        super().__init__(message, errors=errors)
        self.order = order
