"""Back-office interventions on an order's routing, for an agent who knows more than the data."""

from __future__ import annotations

from django.db import transaction

from core.errors import InvalidInput
from inventory.models import Location
from oms.models import Activity, Order

from .routing.placement import order_reroute


@transaction.atomic
def order_reroute_excluding(*, order: Order, location: Location, reason: str, actor=None) -> bool:
    """Route the order again without ``location``; True if the plan changed.

    For an agent who knows a location cannot serve this order (a customer complaint, a
    store that is short-staffed today). The exclusion holds for this re-route and for the
    units it leaves waiting (stock arriving there does not fill them) until the order is
    routed again; a store that should never get the order again declines it instead, which
    excludes it for good.
    """
    if not reason.strip():
        raise InvalidInput("Say why the location is excluded.", errors={"reason": ["Required."]})
    order = Order.objects.select_for_update().get(pk=order.pk)
    routed = (Order.Status.ALLOCATED, Order.Status.BACKORDERED, Order.Status.IN_FULFILMENT)
    if order.status not in routed:
        raise InvalidInput(
            f"Order {order.number} is {order.status}; only a routed order can be re-routed.",
            errors={"order": ["Not routed, or already dispatched."]},
        )
    moved = order_reroute(order=order, actor=actor, reason=reason.strip(), exclude=frozenset({location.pk}))
    if moved:
        summary = order.routing.get("summary", "")
        Activity.objects.create(
            order=order,
            subject="order",
            action="reroute",
            reason=f"without {location.code} ({reason.strip()}): {summary}"[:255],
            actor=actor,
        )
    return moved
