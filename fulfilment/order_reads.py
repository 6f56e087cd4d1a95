"""Orders as a channel sees them: its own orders, one order's detail as the API answers it, one fulfilment."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Channel
from oms.models import Order, OrderLine
from oms.selectors import TimelineEntry, order_timeline

from .models import Fulfilment, FulfilmentLine


def _allocated() -> Subquery:
    """A line's units in live fulfilments: reserved for one, or already dispatched."""
    units = (
        FulfilmentLine.objects.filter(order_line=OuterRef("pk"))
        .exclude(fulfilment__status__in=Fulfilment.INACTIVE)
        .order_by()
        .values("order_line")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    return Coalesce(Subquery(units), 0)


def order_list(*, channel: Channel | None) -> QuerySet[Order]:
    """Orders with their lines (each with its ``allocated`` units) and fulfilments prefetched.

    A channel's own, or every one (channel None).
    """
    orders = Order.objects.select_related("channel").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("sku").annotate(allocated=_allocated())),
        Prefetch(
            "fulfilments",
            queryset=Fulfilment.objects.select_related("location").prefetch_related(
                Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku"))
            ),
        ),
    )
    return orders if channel is None else orders.filter(channel=channel)


def order_get(*, pk: int, channel: Channel | None) -> Order:
    """One order the caller may see; another channel's order is as unknown as a missing one."""
    return order_list(channel=channel).get(pk=pk)


@dataclass(frozen=True)
class Coded:
    """A related record as an order's detail names it: by its code."""

    code: str


@dataclass(frozen=True)
class OrderLineDetail:
    id: int
    sku: Coded
    quantity: int
    cancelled_quantity: int
    allocated: int
    backordered: int
    promised_on: date | None
    unit_price: Decimal


@dataclass(frozen=True)
class FulfilmentLineDetail:
    sku: Coded
    quantity: int


@dataclass(frozen=True)
class FulfilmentDetail:
    id: int
    order_id: int
    location: Coded
    method: str
    status: str
    lines: list[FulfilmentLineDetail]
    ready_by: datetime | None
    pickup_code: str
    carrier: str
    tracking: str


@dataclass(frozen=True)
class OrderDetail:
    """An order as a channel is shown it; attributes are named as on the models, so one serializer renders both."""

    id: int
    number: str
    external_id: str
    channel: Coded
    status: str
    method: str
    currency: str
    total: Decimal
    payment_status: str
    created_at: datetime
    routing: dict
    lines: list[OrderLineDetail]
    fulfilments: list[FulfilmentDetail]
    timeline: list[TimelineEntry]


def order_detail(*, pk: int, channel: Channel | None) -> OrderDetail:
    """``order_get``'s order with its lines, fulfilments and timeline, as the API answers it.

    Every order call of the API answers with this read, so it reads only what is shown, as
    rows rather than model instances. Raises ``Order.DoesNotExist`` as ``order_get`` does.
    """
    lines = OrderLine.objects.filter(order_id=pk).order_by("pk")
    if channel is not None:
        lines = lines.filter(order__channel=channel)
    rows = list(  # an order has at least one line, so its lines carry the order's own fields too
        lines.values_list(
            *("order__number", "order__external_id", "order__channel__code", "order__status", "order__method"),
            *("order__currency", "order__total", "order__payment_status", "order__created_at", "order__routing"),
            *("pk", "sku__code", "quantity", "cancelled_quantity", "backordered", "promised_on", "unit_price"),
        )
    )
    if not rows:
        raise Order.DoesNotExist(f"No order {pk} for this caller.")
    number, external_id, channel_code, status, method, currency, total, paid, created, routing = rows[0][:10]
    fulfilment_rows = (
        Fulfilment.objects.filter(order_id=pk)
        .order_by("pk", "lines__pk")
        .values_list(
            "pk",
            "location__code",
            "method",
            "status",
            "ready_by",
            "pickup_code",
            "carrier",
            "tracking",
            "lines__sku__code",
            "lines__quantity",
            "lines__order_line_id",
        )
    )
    fulfilments: dict[int, FulfilmentDetail] = {}
    allocated = Counter()  # order line id -> units in live fulfilments
    for (
        f_id,
        location,
        f_method,
        f_status,
        ready_by,
        pickup_code,
        carrier,
        tracking,
        sku,
        quantity,
        line_id,
    ) in fulfilment_rows:
        if f_id not in fulfilments:
            fulfilments[f_id] = FulfilmentDetail(
                f_id, pk, Coded(location), f_method, f_status, [], ready_by, pickup_code, carrier, tracking
            )
        if sku is not None:
            fulfilments[f_id].lines.append(FulfilmentLineDetail(Coded(sku), quantity))
            if f_status not in Fulfilment.INACTIVE:
                allocated[line_id] += quantity
    return OrderDetail(
        pk,
        number,
        external_id,
        Coded(channel_code),
        status,
        method,
        currency,
        total,
        paid,
        created,
        routing,
        [
            OrderLineDetail(line_id, Coded(sku), q, cancelled, allocated[line_id], waiting, promised_on, price)
            for *_, line_id, sku, q, cancelled, waiting, promised_on, price in rows
        ],
        list(fulfilments.values()),
        order_timeline(order=pk),
    )


def fulfilment_get(*, pk: int, channel: Channel | None) -> Fulfilment:
    """One fulfilment of an order the caller may see."""
    fulfilments = Fulfilment.objects.select_related("order", "location")
    if channel is not None:
        fulfilments = fulfilments.filter(order__channel=channel)
    return fulfilments.get(pk=pk)
