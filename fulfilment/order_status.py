"""An order's status follows its fulfilments: one place decides which status they imply."""

from __future__ import annotations

from django.db.models import Sum

from oms.models import Order
from oms.transitions import transition_apply

from .models import Fulfilment, FulfilmentLine

F = Fulfilment.Status


def order_target_status(fulfilments: list[Fulfilment]) -> str | None:
    """The order status its live fulfilments imply (None: leave it as it is).

    Declined, cancelled and expired fulfilments do not count, so after a decline the order
    follows what is left and what the re-route created (docs/decisions.md spells the cases out);
    ``order_sync_status`` also keeps an order that still owes units from looking finished.
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
}


_DONE = (Order.Status.SHIPPED, Order.Status.READY_FOR_PICKUP, Order.Status.COMPLETED)


def _units_owed(order: Order) -> bool:
    """True when some units neither cancelled nor in a live fulfilment are still owed (they wait for stock)."""
    open_units = sum(q - c for q, c in order.lines.values_list("quantity", "cancelled_quantity"))
    covered = FulfilmentLine.objects.filter(order_line__order=order).exclude(fulfilment__status__in=Fulfilment.INACTIVE)
    return open_units > (covered.aggregate(n=Sum("quantity"))["n"] or 0)


def order_sync_status(
    *, order: Order, actor=None, reason: str = "", live: list[Fulfilment] | None = None, fields: tuple[str, ...] = ()
) -> bool:
    """Move the order to the status its fulfilments imply, by its own transitions; True if it moved.

    ``live`` spares the read when the caller has just created every fulfilment the order has;
    ``fields`` the caller changed on the order are saved with the move.
    """
    fulfilments = live if live is not None else list(order.fulfilments.all())
    target = order_target_status(fulfilments)
    if target in _DONE and _units_owed(order):
        # A part nowhere could take (declined, no stock elsewhere) is still owed to the customer.
        dispatched = any(f.status in Fulfilment.DISPATCHED for f in fulfilments)
        target = Order.Status.PARTIALLY_SHIPPED if dispatched else Order.Status.IN_FULFILMENT
    if target is None or target == order.status:
        return False
    transition_apply(
        order, ORDER_ACTION_FOR[target], order=order, subject="order", actor=actor, reason=reason, fields=fields
    )
    return True
