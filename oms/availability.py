"""Announcing stock availability to channels: ``stock.availability_changed`` webhooks.

A beat job reads the stock ledger from where it last stopped, recomputes each channel's
network ATP for the SKUs that moved, and writes an outbox event only where the number a
channel was last told has changed. Reading the ledger (rather than hooking every stock
service) keeps inventory unaware of channels' subscriptions and coalesces bursts: a
hundred reservations of one SKU between two runs make one event per channel.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from inventory.atp import network_atp
from inventory.models import Channel, Sku, StockMovement

from .events import events_emit
from .models import JobCursor, PublishedAvailability

CURSOR = "stock.availability_changed"
BATCH = 5000


@transaction.atomic
def availability_publish(*, batch: int = BATCH) -> int:
    """Write the events for ledger entries since the last run; return how many were written.

    The first run starts from the ledger's end: channels hear of changes from then on,
    not of the whole history.
    """
    cursor = JobCursor.objects.select_for_update().filter(name=CURSOR).first()
    if cursor is None:
        start = StockMovement.objects.aggregate(last=Max("pk"))["last"] or 0
        JobCursor.objects.create(name=CURSOR, position=start)
        return 0
    moved = list(
        StockMovement.objects.filter(pk__gt=cursor.position)
        .order_by("pk")
        .values_list("pk", "stock_level__sku_id")[:batch]
    )
    if not moved:
        return 0
    sku_ids = {sku_id for _, sku_id in moved}
    codes = dict(Sku.objects.filter(pk__in=sku_ids).values_list("pk", "code"))
    written = 0
    for channel in Channel.objects.filter(active=True):
        written += _announce(channel, network_atp(sku_ids=sku_ids, channel=channel), codes)
    cursor.position = moved[-1][0]
    cursor.save(update_fields=["position"])
    return written


def _announce(channel: Channel, atp: dict[int, int], codes: dict[int, str]) -> int:
    told = dict(
        PublishedAvailability.objects.filter(channel=channel, sku_id__in=codes).values_list("sku_id", "available")
    )
    changed = {sku_id: atp.get(sku_id, 0) for sku_id in codes if told.get(sku_id) != atp.get(sku_id, 0)}
    events_emit(
        "stock.availability_changed",
        channel=channel,
        data=(
            {"sku": codes[sku_id], "available": available, "previous": told.get(sku_id)}
            for sku_id, available in changed.items()
        ),
    )
    PublishedAvailability.objects.bulk_create(
        (PublishedAvailability(channel=channel, sku_id=sku_id, available=n) for sku_id, n in changed.items()),
        update_conflicts=True,
        unique_fields=["channel", "sku"],
        update_fields=["available", "updated_at"],
    )
    return len(changed)
