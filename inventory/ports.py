"""The port through which the stock layer tells the layers above it that supply changed.

``inventory`` may not import the order or fulfilment layers, yet when available stock
rises the orders waiting for it must be allocated in the same transaction, and when
expected supply moves their promise dates must follow. The fulfilment app registers its
listener here when Django starts (FulfilmentConfig.ready); the stock services call
``stock_rose`` and ``supply_changed`` and nothing else does.

Rises inside ``stock_rises_collected()`` are told once, when the block ends: a receipt of
many lines raises every stock row first (rows locked in primary-key order, as everywhere)
and only then lets the waiting orders take from them, and a re-route's releases are not
handed to other orders before the re-routed one is placed again.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Protocol

Level = tuple[int, int]  # (sku id, location id)


class SupplyListener(Protocol):
    def stock_rose(self, *, levels: Collection[Level]) -> None:
        """Available stock rose at these (sku id, location id): allocate what waits for it, in the caller's
        transaction, first placed first served."""

    def supply_changed(self, *, sku_ids: Collection[int]) -> None:
        """Expected supply of these SKUs moved (inbound created, re-dated, received or closed; a transfer
        shipped, received or cancelled): move the promise dates that depend on it."""


_listener: SupplyListener | None = None
_collected = threading.local()


def register_supply_listener(listener: SupplyListener | None) -> None:
    global _listener
    _listener = listener


def stock_rose(levels: Collection[Level]) -> None:
    """Tell the listener that available stock rose at ``levels`` (now, or when the collecting block ends)."""
    if not levels or _listener is None:
        return
    pending = getattr(_collected, "levels", None)
    if pending is not None:
        pending.update(levels)
        return
    _listener.stock_rose(levels=set(levels))


def supply_changed(sku_ids: Collection[int]) -> None:
    """Tell the listener that expected supply of ``sku_ids`` moved (now, or after the collected rises)."""
    if not sku_ids or _listener is None:
        return
    pending = getattr(_collected, "sku_ids", None)
    if pending is not None:
        pending.update(sku_ids)
        return
    _listener.supply_changed(sku_ids=set(sku_ids))


@contextmanager
def stock_rises_collected() -> Iterator[None]:
    """Hold back the rises and supply changes inside the block and tell them once at its end (not
    when it raises): the rises first, so promises are worked out after the waiting orders took
    what arrived."""
    outer = getattr(_collected, "levels", None)
    if outer is not None:  # an enclosing block tells them
        yield
        return
    _collected.levels, _collected.sku_ids = set(), set()
    try:
        yield
        levels, sku_ids = _collected.levels, _collected.sku_ids
    finally:
        _collected.levels = _collected.sku_ids = None
    stock_rose(levels)
    supply_changed(sku_ids)
