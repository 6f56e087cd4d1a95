"""The one way to announce a domain event: an outbox row in the caller's transaction, delivered after it commits."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from inventory.models import Channel

from .models import Order, OutboxEvent
from .outbox import outbox_kick

# The events of an ``events_together`` block, in the order they were emitted; None outside one.
_together: ContextVar[list[OutboxEvent] | None] = ContextVar("oms_events_together", default=None)


def event_emit(type: str, *, data: dict, order: Order | None = None, channel: Channel | None = None) -> OutboxEvent:
    """Write event ``type`` to the outbox and queue a delivery run for when the transaction commits.

    The event belongs to ``channel``, else to the order's channel; its row commits or rolls
    back with the change it reports, so a channel never hears of a change that did not happen.
    Inside ``events_together`` the row is written when the block ends.
    """
    channel_id = channel.pk if channel is not None else (order.channel_id if order is not None else None)
    event = OutboxEvent(type=type, channel_id=channel_id, order=order, data=data)
    return _write([event])[0]


def events_emit(type: str, *, data: Iterable[dict], channel: Channel | None = None) -> list[OutboxEvent]:
    """``event_emit`` for many events of one type and channel, in one INSERT (a batch job's news)."""
    return _write([OutboxEvent(type=type, channel=channel, data=item) for item in data])


def events_flush() -> None:
    """Write the events an ``events_together`` block holds so far, in one INSERT, before a row that must
    come after them (their ``created`` is when they are written); nothing outside a block."""
    gathered = _together.get()
    if gathered:
        OutboxEvent.objects.bulk_create(gathered)
        outbox_kick()
        gathered.clear()


def _write(events: list[OutboxEvent]) -> list[OutboxEvent]:
    gathered = _together.get()
    if gathered is not None:
        gathered.extend(events)
    elif events:
        OutboxEvent.objects.bulk_create(events)
        outbox_kick()
    return events


def order_events_emit(type: str, items: Iterable[tuple[Order, dict]]) -> list[OutboxEvent]:
    """``event_emit`` for many orders' events of one type, each to its order's channel, in one INSERT."""
    return _write([OutboxEvent(type=type, channel_id=o.channel_id, order=o, data=data) for o, data in items])


@contextmanager
def events_together() -> Iterator[None]:
    """Write the events emitted in the block in one INSERT when it ends, in the order they were emitted.

    For a block that succeeds or fails as a whole inside one transaction (no savepoint in it
    is rolled back while the block goes on): placing an order writes its ``order.created``
    and the status change routing gives it in one statement instead of two. A transition
    writes the events held so far with its own, before its audit row (``events_flush``), so
    the order's timeline keeps events and transitions in the order they happened. An
    exception leaves them unwritten, as the transaction they belonged to rolls back.
    Nested, the outer block writes them.
    """
    if _together.get() is not None:
        yield
        return
    token = _together.set([])
    try:
        yield
        events_flush()
    finally:
        _together.reset(token)
