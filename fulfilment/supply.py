"""The fulfilment layer's side of ``inventory.ports.SupplyListener``: stock rose, or expected supply moved."""

from __future__ import annotations

from collections.abc import Collection

from inventory.ports import Level
from oms.promises import promises_refresh

from .routing.backorder_fill import backorders_fill


class FulfilmentSupplyListener:
    def stock_rose(self, *, levels: Collection[Level]) -> None:
        """Allocate the backorders waiting for these SKUs at these locations, first placed first served."""
        backorders_fill(levels=levels)

    def supply_changed(self, *, sku_ids: Collection[int]) -> None:
        """Move the promise dates of the backorders waiting for these SKUs."""
        promises_refresh(sku_ids=sku_ids)
