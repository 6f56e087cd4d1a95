"""The port through which the order layer asks the layer above it to route an order.

``oms`` may not import ``fulfilment`` (dependency direction inventory ← oms ← fulfilment
← returns), yet placing an order must route it inside the same transaction. The
fulfilment app registers its router here when Django starts (FulfilmentConfig.ready);
this module is the one documented place where the call goes up the stack.
"""

from __future__ import annotations

from typing import Protocol

from .models import Order, OrderLine


class OrderRouter(Protocol):
    def allocate(self, *, order: Order, actor=None, lines: list[OrderLine] | None = None) -> None:
        """Route the order's open lines, reserve their stock and create fulfilments, or raise.

        Units that cannot be had now wait as the lines' backordered units when the order (or
        its channel's routing policy) backorders.

        ``lines``: the order's lines with their SKUs, when the caller has just written them.
        """

    def reroute(self, *, order: Order, actor=None, reason: str, exclude: frozenset[int] = frozenset()) -> bool:
        """Route the unstarted work again (after an address change or on an agent's request); True if it moved."""

    def cancel(self, *, order: Order, actor=None, reason: str, lines: dict[int, int] | None = None) -> None:
        """Cancel open fulfilment lines (all, or order line id → quantity) and release their stock."""


_router: OrderRouter | None = None


def register_order_router(router: OrderRouter) -> None:
    global _router
    _router = router


def order_router() -> OrderRouter:
    if _router is None:
        raise RuntimeError("No order router registered: is the fulfilment app installed?")
    return _router
