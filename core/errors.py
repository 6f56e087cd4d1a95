"""The one error hierarchy. Every refusal a service raises, in any app, is a ``DomainError``.

A refusal changes nothing. Its class says what kind of refusal it is, which is all the API
and the staff pages need to answer it (400, 404, 403 or 409); ``errors`` maps a field to its
messages where the caller's input is at fault. Apps subclass these for refusals that carry
more (a shortfall list, the transitions allowed now) and nothing else.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal a service raises; nothing was changed."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(DomainError):
    """A field is missing, unknown or out of range."""


class NotFound(DomainError):
    """No such thing for this caller (another channel's or store's things are not found either)."""


class NotPermitted(DomainError):
    """The caller may not make this change (e.g. stock at a location outside its credential's scope)."""


class Conflict(DomainError):
    """The input is fine but the current state forbids the change (stock, a state machine, a rule)."""
