"""An order's status follows its fulfilments: one place decides which status they imply."""

from __future__ import annotations

from django.db.models import Sum
from django.db.models.functions import Coalesce

from oms.models import Order
from oms.transitions import transition_apply

from .models import Fulfilment

F = Fulfilment.Status


def order_target_status(fulfilments: list[Fulfilment]) -> str | None:
    """The order status its live fulfilments imply (None: leave it as it is).

    Declined, cancelled and expired fulfilments do not count, so after a decline the order
    follows what is left and what the re-route created (docs/decisions.md spells the cases out);
    ``order_sync_status`` also weighs the units its lines have backordered.
    """
    live = [f.status for f in fulfilments if f.status not in Fulfilment.INACTIVE]
    if not live:
        return None
    if all(s in (F.DELIVERED, F.COLLECTED) for s in live):
        return Order.Status.COMPLETED
    if all(s in Fulfilment.DISPATCHED for s in live):
        return Order.Status.SHIPPED
    if all(s in Fulfilment.DISPATCHED or s == F.READY_FOR_PICKUP for s in live):
        return Order.Status.READY_FOR_PICKUP
    if any(s in Fulfilment.DISPATCHED for s in live):
        return Order.Status.PARTIALLY_SHIPPED
    if any(s != F.PENDING for s in live):
        return Order.Status.IN_FULFILMENT
    return Order.Status.ALLOCATED


ORDER_ACTION_FOR = {
    Order.Status.COMPLETED: "complete",
    Order.Status.SHIPPED: "ship",
    Order.Status.READY_FOR_PICKUP: "make_ready_for_pickup",
    Order.Status.PARTIALLY_SHIPPED: "ship_partially",
    Order.Status.IN_FULFILMENT: "start_fulfilment",
    Order.Status.ALLOCATED: "allocate",
    Order.Status.BACKORDERED: "backorder",
}


_DONE = (Order.Status.SHIPPED, Order.Status.READY_FOR_PICKUP, Order.Status.COMPLETED)


def _units_backordered(order: Order) -> int:
    return order.lines.aggregate(n=Coalesce(Sum("backordered"), 0))["n"]


def order_sync_status(
    *,
    order: Order,
    actor=None,
    reason: str = "",
    live: list[Fulfilment] | None = None,
    fields: tuple[str, ...] = (),
    backordered: int | None = None,
) -> bool:
    """Move the order to the status its fulfilments and backorders imply, by its own transitions; True if it moved.

    Backordered units are still owed to the customer: with nothing live the order is
    backordered, and while any wait it never looks finished (docs/decisions.md).
    ``live`` spares the read when the caller has just created every fulfilment the order has,
    ``backordered`` the read of its lines' backordered units; ``fields`` the caller changed on
    the order are saved with the move.
    """
    fulfilments = live if live is not None else list(order.fulfilments.all())
    target = order_target_status(fulfilments)
    if target is None or target in _DONE:
        if backordered is None:
            backordered = _units_backordered(order)
        if backordered and target is None:
            target = Order.Status.BACKORDERED
        elif backordered:
            dispatched = any(f.status in Fulfilment.DISPATCHED for f in fulfilments)
            target = Order.Status.PARTIALLY_SHIPPED if dispatched else Order.Status.IN_FULFILMENT
    if target is None or target == order.status:
        return False
    transition_apply(
        order, ORDER_ACTION_FOR[target], order=order, subject="order", actor=actor, reason=reason, fields=fields
    )
    return True
