"""Click-and-collect stocked by transfer: the transfer a collection gets when routing creates it.

A collection whose stock is reserved elsewhere (``Fulfilment.source_location`` is not the
pickup store) gets a transfer from that source to the store; its units are the
fulfilment's reservation, which stays the order's until the source ships. Shipping and
receiving are the locations' steps (``fulfilment.store_transfers``).
"""

from __future__ import annotations

from collections import Counter

from core.errors import Conflict
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


def transfer_wait_words(transfer: Transfer) -> str:
    """Where the transfer a collection waits for stands, and what the store does about it, in one sentence."""
    where = "not shipped yet" if transfer.status == Transfer.Status.REQUESTED else "on its way"
    return (
        f"Its stock comes by transfer {transfer.reference} from {transfer.source.name} ({where}): "
        "receive the transfer on the Stock page when it arrives, and the order is then ready for the pickup shelf."
    )


def transfer_wait_refuse(fulfilment: Fulfilment) -> None:
    """Refuse a location's step on a collection whose stock is still on a transfer to it.

    Until the transfer is received, the units are the source's to ship: accepting, declining,
    picking or shelving the collection at the pickup store would act on stock that is not there.
    Receiving the transfer moves the collection on by itself (``store_transfers``).
    """
    transfer = transfer_supplying(fulfilment)
    if transfer is not None:
        raise Conflict(f"Order {fulfilment.order.number} is waiting for its transfer. {transfer_wait_words(transfer)}")
