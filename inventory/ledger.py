"""Checkpoints of the stock ledger, so consistency checks and storage grow with recent activity.

The ledger is append-only and grows with every order. A checkpoint sums the movements up
to a point into one ``LedgerBalance`` row per stock row; ``inventory_discrepancies`` then
adds only the movements after the newest checkpoint, and movements before it may be
archived (``ledger_archive``) without changing what the check proves.

A checkpoint stops short of the last ``OMS_LEDGER_SETTLE_SECONDS`` of movements: a movement
is numbered when its transaction writes it but seen only when that transaction commits, so
the newest numbers may still have gaps that an open transaction is about to fill.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone

from .models import LedgerBalance, LedgerCheckpoint, StockMovement


def ledger_sums(*, after: int = 0) -> dict[int, tuple[int, int]]:
    """Sum on-hand and reserved deltas per stock row over the movements numbered above ``after``."""
    rows = (
        StockMovement.objects.filter(id__gt=after)
        .order_by()
        .values("stock_level_id")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    )
    return {row["stock_level_id"]: (row["on_hand"] or 0, row["reserved"] or 0) for row in rows}


def ledger_checkpoint_latest() -> LedgerCheckpoint | None:
    return LedgerCheckpoint.objects.order_by("-upto_movement_id").first()


def ledger_totals() -> dict[int, tuple[int, int]]:
    """Every stock row's ledger sums: the newest checkpoint's balances plus the movements after it."""
    checkpoint = ledger_checkpoint_latest()
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    if checkpoint is not None:
        for level_id, on_hand, reserved in LedgerBalance.objects.values_list("stock_level_id", "on_hand", "reserved"):
            totals[level_id] = [on_hand, reserved]
    for level_id, (on_hand, reserved) in ledger_sums(after=checkpoint.upto_movement_id if checkpoint else 0).items():
        totals[level_id][0] += on_hand
        totals[level_id][1] += reserved
    return {level_id: (sums[0], sums[1]) for level_id, sums in totals.items()}


@transaction.atomic
def ledger_checkpoint(*, now: datetime | None = None) -> LedgerCheckpoint | None:
    """Sum the settled movements since the newest checkpoint into the balances; None when none settled.

    Safe to run twice and from several workers: the newest checkpoint row is locked first,
    so checkpoints are taken one at a time, each from where the last one stopped.
    """
    last = LedgerCheckpoint.objects.select_for_update().order_by("-upto_movement_id").first()
    start = last.upto_movement_id if last else 0
    settled_before = (now or timezone.now()) - timedelta(seconds=settings.OMS_LEDGER_SETTLE_SECONDS)
    end = StockMovement.objects.filter(id__gt=start, created_at__lt=settled_before).aggregate(end=Max("id"))["end"]
    if end is None:
        return None
    window = StockMovement.objects.filter(id__gt=start, id__lte=end)
    deltas = {
        row["stock_level_id"]: row
        for row in window.order_by()
        .values("stock_level_id")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    }
    balances = LedgerBalance.objects.in_bulk(list(deltas))
    for level_id, row in deltas.items():
        balance = balances.setdefault(level_id, LedgerBalance(stock_level_id=level_id))
        balance.on_hand += row["on_hand"] or 0
        balance.reserved += row["reserved"] or 0
    LedgerBalance.objects.bulk_create(
        balances.values(),
        update_conflicts=True,
        unique_fields=["stock_level"],
        update_fields=["on_hand", "reserved"],
        batch_size=5000,
    )
    return LedgerCheckpoint.objects.create(upto_movement_id=end, movements=window.count())


def ledger_archive(*, before: datetime, to) -> int:
    """Write the movements older than ``before`` and already inside a checkpoint to ``to`` (CSV), then delete them.

    Returns how many were archived. Movements after the newest checkpoint are never touched,
    so the consistency check proves exactly what it proved before.
    """
    checkpoint = ledger_checkpoint_latest()
    if checkpoint is None:
        return 0
    old = StockMovement.objects.filter(id__lte=checkpoint.upto_movement_id, created_at__lt=before).order_by("id")
    columns = [f.attname for f in StockMovement._meta.concrete_fields]
    writer = csv.writer(to)
    writer.writerow(columns)
    archived = 0
    with transaction.atomic():
        for row in old.values_list(*columns).iterator(chunk_size=10_000):
            writer.writerow(row)
            archived += 1
        old._raw_delete(old.db)  # the append-only rule's one exception: rows summed and written out above
    return archived
