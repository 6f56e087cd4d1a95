"""The one way to announce a domain event: an outbox row in the caller's transaction, delivered after it commits."""

from __future__ import annotations

from collections.abc import Iterable

from inventory.models import Channel

from .models import Order, OutboxEvent
from .outbox import outbox_kick


def event_emit(type: str, *, data: dict, order: Order | None = None, channel: Channel | None = None) -> OutboxEvent:
    """Write event ``type`` to the outbox and queue a delivery run for when the transaction commits.

    The event belongs to ``channel``, else to the order's channel; its row commits or rolls
    back with the change it reports, so a channel never hears of a change that did not happen.
    """
    channel_id = channel.pk if channel is not None else (order.channel_id if order is not None else None)
    event = OutboxEvent.objects.create(type=type, channel_id=channel_id, order=order, data=data)
    outbox_kick()
    return event


def events_emit(type: str, *, data: Iterable[dict], channel: Channel | None = None) -> list[OutboxEvent]:
    """``event_emit`` for many events of one type and channel, in one INSERT (a batch job's news)."""
    events = OutboxEvent.objects.bulk_create(OutboxEvent(type=type, channel=channel, data=item) for item in data)
    if events:
        outbox_kick()
    return events


def order_events_emit(type: str, items: Iterable[tuple[Order, dict]]) -> list[OutboxEvent]:
    """``event_emit`` for many orders' events of one type, each to its order's channel, in one INSERT."""
    events = OutboxEvent.objects.bulk_create(
        OutboxEvent(type=type, channel_id=order.channel_id, order=order, data=data) for order, data in items
    )
    if events:
        outbox_kick()
    return events
