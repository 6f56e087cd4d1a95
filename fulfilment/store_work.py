"""A store's work as its pages read it: the queue with its deadlines, pick lists and the pickup shelf."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, DateTimeField, ExpressionWrapper, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from inventory.models import Barcode, Location, Sku
from oms.models import Order
from oms.selectors import customer_ids_matching, customer_name_match

from .models import Fulfilment, FulfilmentLine
from .order_search import BARE_ORDER_NUMBER

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
    if BARE_ORDER_NUMBER.match(query.upper()):
        numbers.append(f"O-{query.upper()}")
    match = Q(order__number__in=numbers) | Q(order__external_id=query) | Q(pickup_code=query)
    if (by_name := customer_name_match(query, prefix="order__customer__")) is not None:
        match |= by_name
    customers = customer_ids_matching(query=query)
    if customers:
        match |= Q(order__customer__in=customers)
    lines = Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku"))  # to check the parcel
    return pickup_shelf(store=store).filter(match).prefetch_related(lines)[:limit]
