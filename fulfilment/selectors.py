"""Reads for routing: candidate locations with their ATP and capacity, the channel's policy, alternatives."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from inventory.atp import network_atp, stock_availability
from inventory.exceptions import InvalidInput, Shortfall
from inventory.models import Barcode, Channel, Location, Sku, TransferLine
from inventory.nearby import nearest_locations, nearest_locations_with_stock, stock_near, with_stock
from inventory.selectors import skus_resolve
from oms.geo import coordinates_for
from oms.models import Order, OrderLine
from oms.selectors import TimelineEntry, column_reader, customer_ids_matching, customer_name_match, order_timeline

from .deadlines import routing_unavailable
from .models import Fulfilment, FulfilmentLine, RoutingPolicyVersion
from .routing import DELIVERY, PICKUP, ROUTED, Candidate, RoutingPolicy, RoutingRequest, pickup_ready_by, route
from .store_hours import Calendar, next_opening, opens_at, store_calendar

_POLICY_SQL = f"""
    SELECT version, data FROM {RoutingPolicyVersion._meta.db_table}
    WHERE active AND (channel_id = %s OR channel_id IS NULL)
    ORDER BY channel_id IS NULL, version DESC LIMIT 1"""


def routing_policy_for(*, channel: Channel | None) -> RoutingPolicy:
    """The channel's newest active policy version, else the default one, else built-in defaults.

    ``channel=None`` asks for the default policy (the routing lab's "all channels").

    One hand-written statement: every availability request and every order reads it.
    """
    with connection.cursor() as cursor:
        cursor.execute(_POLICY_SQL, [channel.pk if channel is not None else None])
        row = cursor.fetchone()
    if row is None:
        return RoutingPolicy(version=0)
    version, data = row
    return RoutingPolicy.from_dict(
        {**column_reader(RoutingPolicyVersion._meta.get_field("data"))(data), "version": version}
    )


# The locations routing may use, with the fulfilments each took today when it has a daily capacity.
_CANDIDATES_SQL = f"""
    SELECT l.id, l.code, l.kind, l.lat, l.lon, l.ships, l.pickup, l.priority, l.daily_capacity,
        CASE WHEN l.daily_capacity IS NULL THEN 0 ELSE (
            SELECT COUNT(*) FROM {Fulfilment._meta.db_table} f
            WHERE f.location_id = l.id AND f.created_at >= %s AND f.status <> %s
        ) END
    FROM {Location._meta.db_table} l WHERE l.active AND l.id IN ({{ids}}) ORDER BY l.id"""

ROUTING_CANDIDATES_NEAR = 100


def _candidates(*, stock: Mapping[tuple[int, int], int], pickup_location_id: int | None) -> list[Candidate]:
    """Routing's view of the pickup store and of the active locations with ATP in ``stock`` (sku, location → ATP).

    One hand-written statement, today's fulfilment counts included: it runs for every order.
    """
    by_location: dict[int, dict[int, int]] = {}
    for (sku_id, location_id), available in stock.items():
        if available > 0:
            by_location.setdefault(location_id, {})[sku_id] = available
    ids = set(by_location)
    if pickup_location_id is not None:
        ids.add(pickup_location_id)
    if not ids:
        return []
    start = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    params = [connection.ops.adapt_datetimefield_value(start), Fulfilment.Status.CANCELLED, *sorted(ids)]
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL.format(ids=", ".join(["%s"] * len(ids))), params)
        rows = cursor.fetchall()
    return [
        Candidate(
            location_id=pk,
            code=code,
            kind=kind,
            lat=lat,
            lon=lon,
            ships=bool(ships),  # SQLite hands booleans back as 0 and 1
            pickup=bool(pickup),
            priority=priority,
            capacity_left=None if daily is None else max(0, daily - used),
            stock=by_location.get(pk, {}),
            daily_capacity=daily,
        )
        for pk, code, kind, lat, lon, ships, pickup, priority, daily, used in rows
    ]


def routing_candidates(
    *,
    channel: Channel,
    sku_ids: list[int],
    pickup_location_id: int | None = None,
    near: tuple[float, float] | None = None,
    limit: int = ROUTING_CANDIDATES_NEAR,
    quantities: Mapping[int, int] | None = None,
    whole_only: bool = False,
) -> list[Candidate]:
    """The locations holding ATP of any wanted SKU for the channel (and the pickup store), as routing sees it.

    With ``near`` (the destination) only the ``limit`` best-placed are kept: those filling
    the most lines in full (``quantities``), then holding the most wanted SKUs, nearest
    first; with ``whole_only`` only those filling every line, when any does (see
    ``stock_near``). Routing wants the fewest shipments, then the shortest distance, so the
    winners are among them; over a thousand stores this keeps loading and routing an order
    to a few milliseconds. Two statements either way: the stock (ranked and cut by the
    database), then the locations.
    """
    if near is None:
        stock = stock_availability(sku_ids=sku_ids, channel=channel)
    else:
        stock = stock_near(
            sku_ids=sku_ids, channel=channel, near=near, limit=limit, quantities=quantities, whole_only=whole_only
        ).available
    return _candidates(stock=stock, pickup_location_id=pickup_location_id)


def order_shortfall_alternatives(*, order: Order, unfilled: dict[int, int]) -> list[Shortfall]:
    """Per short SKU: what the channel has network-wide, the nearest stores that have some, and the next arrival."""
    skus = Sku.objects.in_bulk(list(unfilled))
    available = network_atp(sku_ids=list(unfilled), channel=order.channel)
    nearby = nearest_locations_with_stock(
        lines=unfilled, lat=order.lat, lon=order.lon, channel=order.channel, limit=20, filters=Q(pickup=True)
    )
    arrivals = dict(
        TransferLine.objects.filter(sku_id__in=list(unfilled), transfer__status="in_transit")
        .values_list("sku_id")
        .annotate(first=Min("transfer__expected_at"))
    )
    requested: dict[int, int] = {}
    for line in order.lines.all():
        requested[line.sku_id] = requested.get(line.sku_id, 0) + line.open_quantity
    shortfalls = []
    for sku_id in sorted(unfilled):
        options = [
            {"store": n.location.code, "available": n.available[sku_id], "distance_km": n.distance_km}
            for n in nearby
            if n.available.get(sku_id, 0) > 0
        ][:3]
        if sku_id in arrivals:
            options.append({"ready_by": arrivals[sku_id].isoformat()})
        shortfalls.append(
            Shortfall(skus[sku_id].code, None, requested[sku_id], available.get(sku_id, 0), alternatives=tuple(options))
        )
    return shortfalls


# --- orders as a channel sees them ------------------------------------------------------


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


# --- availability for a checkout ------------------------------------------------------


@dataclass(frozen=True)
class LineAvailability:
    sku: str
    quantity: int
    available: int


@dataclass(frozen=True)
class DeliveryAvailability:
    can_fulfil: bool
    shipments: int
    summary: str


@dataclass(frozen=True)
class PickupStore:
    store: str
    name: str
    distance_km: float
    all_available: bool
    ready_by: datetime | None
    opens_at: datetime | None = None  # when a store closed now opens next


@dataclass(frozen=True)
class Availability:
    lines: list[LineAvailability]
    delivery: DeliveryAvailability
    pickup_stores: list[PickupStore]


def _destination_point(*, lat, lon, postcode: str, country: str) -> tuple[float, float]:
    if lat is not None and lon is not None:
        return lat, lon
    point = coordinates_for(postcode=postcode, country=country) if postcode else None
    if point is None:
        raise InvalidInput(
            "The destination is unknown: send lat and lon, or a known postcode.",
            errors={"destination.postcode": ["Unknown postcode; send lat and lon."]},
        )
    return point


def availability_for(
    *,
    channel: Channel,
    lines: list[tuple[str, int]],
    lat: float | None = None,
    lon: float | None = None,
    postcode: str = "",
    country: str = "GB",
    pickup_radius_km: float = 25.0,
    store_limit: int = 20,
) -> Availability:
    """What a checkout can promise: network ATP per line, delivery, and the pickup stores near the customer.

    Delivery and every store's ready time come from the same routing engine and
    candidates as order placement, so the promise matches what placing the order does.
    """
    skus = skus_resolve(codes=[code for code, _ in lines], channel=channel)
    unknown = {f"lines[{i}].sku": [f"Unknown SKU {code!r}."] for i, (code, _) in enumerate(lines) if code not in skus}
    if unknown:
        missing = ", ".join(code for code, _ in lines if code not in skus)
        raise InvalidInput(f"Unknown SKUs: {missing}.", errors=unknown)
    wanted: dict[int, int] = {}
    for code, quantity in lines:
        wanted[skus[code].pk] = wanted.get(skus[code].pk, 0) + quantity
    point = _destination_point(lat=lat, lon=lon, postcode=postcode, country=country)
    nearest = nearest_locations(
        lat=point[0], lon=point[1], limit=store_limit, radius_km=pickup_radius_km, filters=Q(pickup=True)
    )
    # One scan of the stock gives the delivery candidates, each SKU's network ATP and the pickup stores' ATP.
    found = stock_near(
        sku_ids=wanted,
        channel=channel,
        near=point,
        limit=ROUTING_CANDIDATES_NEAR,
        at=[n.location.pk for n in nearest],
        quantities=wanted,
    )
    policy = routing_policy_for(channel=channel)
    candidates = _candidates(stock=found.available, pickup_location_id=None)
    now = timezone.now()
    unavailable = routing_unavailable(at=now)
    plan = route(
        RoutingRequest(lines=wanted, method=DELIVERY, destination=point, now=now, unavailable=unavailable),
        candidates,
        policy,
    )
    delivery = DeliveryAvailability(
        can_fulfil=plan.status == ROUTED,
        shipments=len(plan.groups) if plan.status == ROUTED else 0,
        summary=plan.explanation["summary"],
    )
    by_id = {c.location_id: c for c in candidates}
    nearby = with_stock(nearest, lines=wanted, atp=found.at)
    owns = [
        by_id.get(n.location.pk)
        or Candidate(
            n.location.pk,
            n.location.code,
            n.location.kind,
            n.location.lat,
            n.location.lon,
            n.location.ships,
            n.location.pickup,
            n.location.priority,
            None,
            {sku_id: units for sku_id, units in n.available.items() if units > 0},
        )
        for n in nearby
    ]
    collect = RoutingRequest(lines=wanted, method=PICKUP, destination=None, now=now, unavailable=unavailable)
    ready_by = pickup_ready_by(collect, candidates, owns, policy)
    calendar = store_calendar()
    stores = [
        PickupStore(
            n.location.code,
            n.location.name,
            n.distance_km,
            n.covers(wanted),
            _open_by(n.location.pk, ready_by[n.location.pk], calendar),
            opens_at(location_id=n.location.pk, at=now, cal=calendar),
        )
        for n in nearby
    ]
    return Availability(
        lines=[LineAvailability(code, quantity, found.network[skus[code].pk]) for code, quantity in lines],
        delivery=delivery,
        pickup_stores=stores,
    )


def _open_by(location_id: int, ready: datetime | None, calendar: Calendar) -> datetime | None:
    """A ready time moved out of the store's closed hours (as placing the order would)."""
    if ready is None:
        return None
    return next_opening(location_id=location_id, at=ready, cal=calendar) or ready


# --- finding an order from whatever the person at the counter or on the phone has ------------

_BARE_ORDER_NUMBER = re.compile(r"^[2-9A-HJ-NP-Z]{8}$")


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
    if _BARE_ORDER_NUMBER.match(query.upper()):
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


# --- store work: the queue, pick lists and the pickup shelf --------------------------------

OPEN_WORK = [
    Fulfilment.Status.PENDING,
    Fulfilment.Status.ACCEPTED,
    Fulfilment.Status.PICKING,
    Fulfilment.Status.PACKED,
]
# Accepted work is due at its ready/dispatch deadline (``due_by``, OMS_READY_MINUTES). Before
# that, a click-and-collect parcel is due at the ready_by time routing promised the customer
# and a shipment this long after it was routed to the location.
SHIP_FROM_STORE_SLA = timedelta(hours=4)
# The attributes that place an item on the shop floor, in the order staff walk them.
WALK_ATTRIBUTES = ("range", "style", "colour", "size")


def _due_at():
    return Coalesce(
        "due_by", "ready_by", ExpressionWrapper(F("created_at") + SHIP_FROM_STORE_SLA, output_field=DateTimeField())
    )


def store_fulfilments(*, store: Location) -> QuerySet[Fulfilment]:
    """Every fulfilment a store works on: the only way the store pages reach a fulfilment,
    so another store's work is simply not found. The order's routing explanation, the
    largest column, is left behind: no store page shows it."""
    return Fulfilment.objects.filter(location=store).select_related("order", "order__customer").defer("order__routing")


def _units():
    """Units on the fulfilment, as a subquery: summing over a join would group every selected column."""
    lines = FulfilmentLine.objects.filter(fulfilment=OuterRef("pk")).order_by().values("fulfilment")
    return Subquery(lines.annotate(units=Sum("quantity")).values("units"))


def store_work_queue(*, store: Location, now: datetime) -> QuerySet[Fulfilment]:
    """The store's open work with ``due_at``, ``overdue``, ``units`` and ``urgent``: late work and
    work whose accept or ready deadline is near (``deadline_near``) first, then soonest due."""
    return (
        store_fulfilments(store=store)
        .filter(status__in=OPEN_WORK)
        .annotate(due_at=_due_at(), overdue=Q(due_at__lt=now), units=_units())
        .annotate(urgent=Q(overdue=True) | deadline_near(now=now))
        .order_by(F("urgent").desc(), "due_at", "pk")
    )


def deadline_near(*, now: datetime) -> Q:
    """Work whose accept deadline (still pending) or ready deadline (accepted) comes within
    OMS_DEADLINE_REMINDER_MINUTES: the queue's reminder badge and the reminder job's choice."""
    soon = now + timedelta(minutes=settings.OMS_DEADLINE_REMINDER_MINUTES)
    accepted = [s for s in OPEN_WORK if s != Fulfilment.Status.PENDING]
    return Q(status=Fulfilment.Status.PENDING, accept_by__gt=now, accept_by__lte=soon) | Q(
        status__in=accepted, due_by__gt=now, due_by__lte=soon
    )


def fulfilment_due_at():
    """When a fulfilment is due out (or on the shelf): its ready/dispatch deadline once accepted,
    before that the promise; the store queue's deadline, as an expression."""
    return _due_at()


def fulfilments_overdue(*, now: datetime) -> QuerySet[Fulfilment]:
    """Open store work past its ``due_at``, in every store: the same "overdue" the store queue shows."""
    return Fulfilment.objects.filter(status__in=OPEN_WORK).annotate(due_at=_due_at()).filter(due_at__lt=now)


def store_work_counts(*, store: Location, now: datetime, method: str = "") -> dict[str, dict[str, int]]:
    """Per open state (and waiting on the shelf): how many, and how many of them are overdue."""
    work = Fulfilment.objects.filter(location=store, status__in=[*OPEN_WORK, Fulfilment.Status.READY_FOR_PICKUP])
    if method:
        work = work.filter(method=method)
    rows = (
        work.alias(due_at=_due_at())
        .order_by()
        .values("status")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now, status__in=OPEN_WORK)))
    )
    found = {row["status"]: row for row in rows}
    return {
        status: {"n": found.get(status, {}).get("n", 0), "overdue": found.get(status, {}).get("overdue", 0)}
        for status in [*OPEN_WORK, Fulfilment.Status.READY_FOR_PICKUP]
    }


@dataclass(frozen=True)
class PickItem:
    """One SKU to take off the shelf for a fulfilment (its lines of that SKU together)."""

    sku: Sku
    quantity: int
    barcode: str
    scanned: int = 0  # units counted so far by the store's scanners

    @property
    def details(self) -> str:
        """The attributes that tell it apart on the shelf, e.g. "Core, navy, M"."""
        attributes = self.sku.attributes or {}
        return ", ".join(str(attributes[name]) for name in WALK_ATTRIBUTES if attributes.get(name) not in (None, ""))


@dataclass(frozen=True)
class PickGroup:
    category: str
    items: list[PickItem]


def _walk_key(sku: Sku) -> tuple:
    attributes = sku.attributes or {}
    return (
        (sku.category or "").casefold(),
        tuple(str(attributes.get(name, "")).casefold() for name in WALK_ATTRIBUTES),
        sku.code,
    )


def fulfilment_lines_to_send(*, fulfilment: Fulfilment, lines: list[FulfilmentLine] | None = None):
    """The lines with units still to send, with their SKUs: a queryset, or a list from ``lines`` already read.

    A line cancelled in full keeps its row at quantity 0 (the audit needs it); it is no
    longer work for the store, so no store page lists it.
    """
    if lines is not None:
        return [line for line in lines if line.quantity > 0]
    return fulfilment.lines.filter(quantity__gt=0).select_related("sku")


def fulfilment_pick_list(*, fulfilment: Fulfilment) -> list[PickGroup]:
    """The fulfilment's SKUs in the order a person walks the store: by category, then range,
    style, colour and size, then SKU code; one entry per SKU however many lines carry it."""
    quantities: dict[int, int] = {}
    scanned: dict[int, int] = {}
    skus: dict[int, Sku] = {}
    lines = fulfilment_lines_to_send(fulfilment=fulfilment).prefetch_related(
        Prefetch("sku__barcodes", queryset=Barcode.objects.order_by("code"))
    )
    for line in lines:
        quantities[line.sku_id] = quantities.get(line.sku_id, 0) + line.quantity
        scanned[line.sku_id] = scanned.get(line.sku_id, 0) + line.scanned_quantity
        skus[line.sku_id] = line.sku
    groups: list[PickGroup] = []
    for sku in sorted(skus.values(), key=_walk_key):
        barcodes = list(sku.barcodes.all())
        item = PickItem(sku, quantities[sku.pk], barcodes[0].code if barcodes else "", scanned[sku.pk])
        if groups and groups[-1].category == sku.category:
            groups[-1].items.append(item)
        else:
            groups.append(PickGroup(sku.category, [item]))
    return groups


def order_live_fulfilment_ids(*, order: Order) -> set[int]:
    """Ids of the order's live fulfilments (not declined, cancelled or expired)."""
    return set(
        Fulfilment.objects.filter(order=order).exclude(status__in=Fulfilment.INACTIVE).values_list("pk", flat=True)
    )


def order_work_now(*, order: Order, besides: set[int] = frozenset()) -> list[tuple[str, str]]:
    """(location, stock source) codes of the order's live fulfilments but ``besides``, in creation order.

    A collection declined by its pickup store comes back to that store with stock sent from
    elsewhere: the source says where from.
    """
    live = Fulfilment.objects.filter(order=order).exclude(status__in=Fulfilment.INACTIVE).exclude(pk__in=besides)
    return list(live.order_by("pk").values_list("location__code", "source_location__code"))


def pickup_shelf(*, store: Location) -> QuerySet[Fulfilment]:
    """Parcels waiting for collection at the store, longest waiting first, with ``units`` and ``expires_at``."""
    expiry = timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
    return (
        store_fulfilments(store=store)
        .filter(status=Fulfilment.Status.READY_FOR_PICKUP)
        .annotate(units=_units(), expires_at=ExpressionWrapper(F("ready_at") + expiry, output_field=DateTimeField()))
        .order_by("ready_at", "pk")
    )


def pickups_to_put_back(*, store: Location) -> QuerySet[Fulfilment]:
    """Parcels that were on the shelf but will not be collected (expired or cancelled) and whose
    units are not yet back on the shop floor; lines prefetched with what was picked."""
    return (
        store_fulfilments(store=store)
        .filter(
            status__in=[Fulfilment.Status.EXPIRED, Fulfilment.Status.CANCELLED],
            ready_at__isnull=False,
            put_back_at__isnull=True,
        )
        .prefetch_related(Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku")))
        .order_by("ready_at", "pk")
    )


def pickups_find(*, store: Location, query: str, limit: int = 20) -> QuerySet[Fulfilment]:
    """Parcels on the store's shelf matching an order number or reference, a pickup code,
    a customer's phone (any format), e-mail or member number, or part of their name."""
    query = (query or "").strip()
    if not query:
        return Fulfilment.objects.none()
    numbers = [query.upper()]
    if _BARE_ORDER_NUMBER.match(query.upper()):
        numbers.append(f"O-{query.upper()}")
    match = Q(order__number__in=numbers) | Q(order__external_id=query) | Q(pickup_code=query)
    if (by_name := customer_name_match(query, prefix="order__customer__")) is not None:
        match |= by_name
    customers = customer_ids_matching(query=query)
    if customers:
        match |= Q(order__customer__in=customers)
    lines = Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku"))  # to check the parcel
    return pickup_shelf(store=store).filter(match).prefetch_related(lines)[:limit]
