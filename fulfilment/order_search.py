"""Finding an order from whatever the person at the counter or on the phone has."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from oms.models import Order
from oms.selectors import customer_ids_matching

from .models import Fulfilment
from .order_reads import order_list

# An order number as people type it: without its "O-".
BARE_ORDER_NUMBER = re.compile(r"^[2-9A-HJ-NP-Z]{8}$")


def orders_search(*, query: str, limit: int = 50) -> QuerySet[Order]:
    """Orders of every channel matching an order number (with or without its "O-"), external
    reference, e-mail, phone (any format), member number, tracking number or pickup code of
    a parcel awaiting collection.

    Each identifier is looked up on its own index and the ids are unioned, which keeps the
    search fast on a large order table where one OR across joined tables would scan.
    A merged customer's identifiers find the orders of the customer they were merged into.
    """
    query = (query or "").strip()
    if not query:
        return Order.objects.none()
    numbers = [query.upper()]
    if BARE_ORDER_NUMBER.match(query.upper()):
        numbers.append(f"O-{query.upper()}")
    ids: set[int] = set()
    ids.update(Order.objects.filter(number__in=numbers).values_list("pk", flat=True))
    ids.update(Order.objects.filter(external_id=query).values_list("pk", flat=True)[:limit])
    customers = customer_ids_matching(query=query)
    if customers:
        ids.update(Order.objects.filter(customer__in=customers).values_list("pk", flat=True)[:limit])
    ids.update(Fulfilment.objects.filter(tracking=query).values_list("order_id", flat=True)[:limit])
    ids.update(
        Fulfilment.objects.filter(pickup_code=query, status=Fulfilment.Status.READY_FOR_PICKUP).values_list(
            "order_id", flat=True
        )[:limit]
    )
    if not ids:
        return Order.objects.none()
    return order_list(channel=None).select_related("customer").filter(pk__in=ids).order_by("-created_at")[:limit]
