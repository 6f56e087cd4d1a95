"""Orders as a channel sees them: its own orders, one order's detail as the API answers it, one fulfilment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Prefetch, QuerySet

from inventory.models import Channel, Location, Sku
from oms.models import Order, OrderLine
from oms.selectors import TimelineEntry, column_reader, order_timeline

from .models import Fulfilment, FulfilmentLine


def order_list(*, channel: Channel | None) -> QuerySet[Order]:
    """Orders with their lines and fulfilments prefetched: a channel's own, or every one (channel None)."""
    orders = Order.objects.select_related("channel").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("sku")),
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


_ORDER_DETAIL_SQL = f"""
    SELECT o.id, o.number, o.external_id, c.code, o.status, o.method, o.currency, o.total, o.payment_status,
        o.created_at, o.routing, l.id, s.code, l.quantity, l.cancelled_quantity, l.unit_price
    FROM {Order._meta.db_table} o JOIN {Channel._meta.db_table} c ON c.id = o.channel_id
    LEFT JOIN {OrderLine._meta.db_table} l ON l.order_id = o.id LEFT JOIN {Sku._meta.db_table} s ON s.id = l.sku_id
    WHERE o.id = %s AND o.channel_id = COALESCE(%s, o.channel_id) ORDER BY l.id"""
_FULFILMENT_DETAIL_SQL = f"""
    SELECT f.id, loc.code, f.method, f.status, f.ready_by, f.pickup_code, f.carrier, f.tracking, s.code, fl.quantity
    FROM {Fulfilment._meta.db_table} f JOIN {Location._meta.db_table} loc ON loc.id = f.location_id
    LEFT JOIN {FulfilmentLine._meta.db_table} fl ON fl.fulfilment_id = f.id
    LEFT JOIN {Sku._meta.db_table} s ON s.id = fl.sku_id
    WHERE f.order_id = %s ORDER BY f.id, fl.id"""


def order_detail(*, pk: int, channel: Channel | None) -> OrderDetail:
    """``order_get``'s order with its lines, fulfilments and timeline, as the API answers it.

    Every order call of the API answers with this read, so it is three hand-written statements
    reading only what is shown: the ORM's seven cost half as much again as placing the order.
    Raises ``Order.DoesNotExist`` as ``order_get`` does.
    """
    with connection.cursor() as cursor:
        cursor.execute(_ORDER_DETAIL_SQL, [pk, None if channel is None else channel.pk])
        rows = cursor.fetchall()
        if not rows:
            raise Order.DoesNotExist(f"No order {pk} for this caller.")
        cursor.execute(_FULFILMENT_DETAIL_SQL, [pk])
        fulfilment_rows = cursor.fetchall()
    read_price = column_reader(OrderLine._meta.get_field("unit_price"))
    read_ready_by = column_reader(Fulfilment._meta.get_field("ready_by"))
    fulfilments: dict[int, FulfilmentDetail] = {}
    for f_id, location, method, status, ready_by, pickup_code, carrier, tracking, sku, quantity in fulfilment_rows:
        if f_id not in fulfilments:
            fulfilments[f_id] = FulfilmentDetail(
                f_id, pk, Coded(location), method, status, [], read_ready_by(ready_by), pickup_code, carrier, tracking
            )
        if sku is not None:
            fulfilments[f_id].lines.append(FulfilmentLineDetail(Coded(sku), quantity))
    order_id, number, external_id, channel_code, status, method, currency, total, paid, created, routing, *_ = rows[0]
    field = Order._meta.get_field
    return OrderDetail(
        order_id,
        number,
        external_id,
        Coded(channel_code),
        status,
        method,
        currency,
        column_reader(field("total"))(total),
        paid,
        column_reader(field("created_at"))(created),
        column_reader(field("routing"))(routing),
        [
            OrderLineDetail(line_id, Coded(sku), quantity, cancelled, read_price(price))
            for *_, line_id, sku, quantity, cancelled, price in rows
            if line_id is not None
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
