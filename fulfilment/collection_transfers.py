"""Click-and-collect stocked by transfer: the transfer a collection gets when routing creates it.

A collection whose stock is reserved elsewhere (``Fulfilment.source_location`` is not the
pickup store) gets a transfer from that source to the store; its units are the
fulfilment's reservation, which stays the order's until the source ships. Shipping and
receiving are the locations' steps (``fulfilment.store_transfers``).
"""

from __future__ import annotations

from collections import Counter

from inventory.models import Location, Sku, Transfer
from inventory.transfers import transfer_request
from oms.models import Order

from .models import Fulfilment, FulfilmentLine


def collection_transfers_request(
    *, order: Order, fulfilments: list[Fulfilment], lines: list[FulfilmentLine], skus: dict[int, Sku]
) -> list[Transfer]:
    """A transfer to the pickup store for each new collection stocked elsewhere, due when it was promised."""
    by_fulfilment: dict[int, Counter] = {}
    for line in lines:
        by_fulfilment.setdefault(line.fulfilment.pk, Counter())[line.sku_id] += line.quantity
    transfers = []
    for f in fulfilments:
        if not f.is_pickup() or f.source_location_id == f.location_id:
            continue
        transfers.append(
            transfer_request(
                source=Location(pk=f.source_location_id),
                destination=Location(pk=f.location_id),
                lines=[(skus[sku_id], n) for sku_id, n in sorted(by_fulfilment[f.pk].items())],
                expected_at=f.ready_by,
                owner_ref=order.owner_ref,
                channel=order.channel,
                supplies_ref=f.subject,
            )
        )
    return transfers


def transfer_supplying(fulfilment: Fulfilment) -> Transfer | None:
    """The open transfer bringing a collection's stock to its pickup store, if it waits for one."""
    if fulfilment.source_location_id == fulfilment.location_id:
        return None
    open_ = [Transfer.Status.REQUESTED, Transfer.Status.IN_TRANSIT]
    return Transfer.objects.filter(supplies_ref=fulfilment.subject, status__in=open_).select_related("source").first()
