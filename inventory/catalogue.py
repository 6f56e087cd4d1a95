"""Catalogue reads for the channels' systems: the SKUs, a page at a time."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import Channel, Sku
from .selectors import sku_resolve


def sku_list(*, q: str = "", code: str = "", channel: Channel | None = None) -> QuerySet[Sku]:
    """SKUs in code order with their barcodes; ``q`` searches code and name, ``code`` is one exact code.

    ``code`` may be the SKU's code, a barcode or the channel's own alias, as anywhere else
    a channel names a SKU.
    """
    skus = Sku.objects.prefetch_related("barcodes").order_by("code")
    if q.strip():
        skus = skus.filter(Q(code__icontains=q.strip()) | Q(name__icontains=q.strip()))
    if code.strip():
        found = sku_resolve(code=code, channel=channel)
        skus = skus.filter(pk=found.pk) if found is not None else skus.none()
    return skus
