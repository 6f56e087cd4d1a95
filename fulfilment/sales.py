"""Till sales: goods sold over a store's counter, recorded as completed orders.

A sale is never refused for stock, because the goods are already in the customer's hands.
Units the store had reserved for other orders are taken from those orders, which are
re-routed at once exactly as after a short pick; units the books did not know of are
booked in as found stock first (``inventory.till``), so the ledger explains every change.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from core.errors import InvalidInput, NotPermitted
from inventory.atp import channel_location_ids
from inventory.locks import stock_levels_for_update
from inventory.models import Channel, Location, Reservation, Sku, StockLevel
from inventory.ports import stock_rises_collected
from inventory.reservations import reservations_release
from inventory.till import stock_sell
from oms.events import event_emit
from oms.identity import customer_resolve
from oms.intake import MAX_ORDER_TOTAL, OrderLineInput, order_lines_validated
from oms.models import Activity, Order, OrderLine
from oms.selectors import order_by_external_id
from oms.transitions import transition_apply

from .actions import fulfilment_lock, fulfilment_reroute_short
from .models import Fulfilment, FulfilmentLine
from .order_status import order_sync_status

F = Fulfilment.Status
# A till reports a card or cash payment as taken; both words mean the order is paid.
PAID_WORDS = ("captured", "paid")
# Work the till takes units from first: what the store has not started on, newest order first.
_PROGRESS = [F.PENDING, F.ACCEPTED, F.PICKING, F.PACKED, F.READY_FOR_PICKUP]


@dataclass
class SaleInput:
    """A till sale as the store's point of sale sends it (see POST /api/v1/sales)."""

    channel: Channel
    store: str
    external_id: str
    lines: list[OrderLineInput]
    currency: str = "GBP"
    customer: dict = field(default_factory=dict)
    payment_status: str = "captured"
    tenders: list = field(default_factory=list)


def _sale_store(data: SaleInput) -> Location:
    """The store the sale happened at: an active store of the channel's."""
    if data.channel.kind != Channel.Kind.STORE:
        raise NotPermitted(
            f"Channel {data.channel.code} is not a store channel; only a store's till records sales.",
            errors={"channel": ["Not a store channel."]},
        )
    store = Location.objects.filter(code=str(data.store or "").strip(), active=True).first()
    if store is None:
        raise InvalidInput(f"Unknown store {data.store!r}.", errors={"store": ["Unknown store."]})
    if store.kind != Location.Kind.STORE:
        raise InvalidInput(f"{store.code} is not a store.", errors={"store": ["Not a store."]})
    allowed = channel_location_ids(channel=data.channel)
    if allowed is not None and store.pk not in allowed:
        raise InvalidInput(
            f"{store.code} is not one of channel {data.channel.code}'s stores.",
            errors={"store": ["Not one of this channel's stores."]},
        )
    return store


def _validated(data: SaleInput) -> tuple[Location, list[OrderLine]]:
    store = _sale_store(data)
    errors: dict[str, list[str]] = {}
    if not (data.external_id or "").strip():
        errors["external_id"] = ["Required."]
    if not (isinstance(data.currency, str) and len(data.currency) == 3 and data.currency.isalpha()):
        errors["currency"] = ["3-letter ISO code."]
    if data.payment_status not in PAID_WORDS:
        errors["payment.status"] = ["A till sale is paid: use captured."]
    if errors:
        raise InvalidInput("The sale is incomplete.", errors=errors)
    lines = order_lines_validated(data)  # the same line rules as an order's: SKU, quantity, price
    if sum((line.unit_price * line.quantity for line in lines), Decimal(0)) >= MAX_ORDER_TOTAL:
        raise InvalidInput("The sale total is too large.", errors={"lines": [f"Must be below {MAX_ORDER_TOTAL}."]})
    return store, lines


def sale_record(*, data: SaleInput, actor=None) -> tuple[Order, bool]:
    """Record a till sale as a completed order; return it and whether it is new.

    Idempotent per (channel, external id) like an order: a repeat returns the first sale
    and changes nothing.
    """
    existing = order_by_external_id(data.channel, (data.external_id or "").strip())
    if existing is not None:
        return existing, False
    store, lines = _validated(data)
    try:
        return _sale_record(data=data, store=store, lines=lines, actor=actor), True
    except IntegrityError:
        existing = order_by_external_id(data.channel, data.external_id.strip())
        if existing is None:
            raise
        return existing, False


@transaction.atomic
@stock_rises_collected()
def _sale_record(*, data: SaleInput, store: Location, lines: list[OrderLine], actor) -> Order:
    # One transaction from the order to the last re-routed order it took units from: the
    # ledger, the sale and the orders that lost their units agree, or nothing happened.
    customer = customer_resolve(
        email=data.customer.get("email"),
        phone=data.customer.get("phone"),
        member_number=data.customer.get("member_number"),
        name=data.customer.get("name", ""),
    )
    order = Order.objects.create(
        channel=data.channel,
        external_id=data.external_id.strip(),
        customer=customer,
        currency=data.currency.upper(),
        total=sum((line.unit_price * line.quantity for line in lines), Decimal(0)),
        payment_status=Order.PaymentStatus.PAID,
        tenders=data.tenders,
        method=Order.Method.IN_STORE,
        pickup_location=store,
        lat=store.lat,
        lon=store.lon,
        placed_by=actor,
    )
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    event_emit("order.created", channel=data.channel, order=order, data={"order": order.pk, "number": order.number})
    sold = Counter()
    for line in lines:
        sold[line.sku_id] += line.quantity
    skus = {line.sku_id: line.sku for line in lines}
    why = f"sold at the till at {store.code} ({order.external_id})"
    # Lock in the order every writer here uses: order rows first (each order whose store work
    # the sale may take units from, by id), then the store's stock rows (by id). A decline or
    # a placement then never holds a row the sale waits for while waiting for one it holds.
    _lock_work_and_stock(store=store, sku_ids=sorted(sold))
    for sku_id in sorted(sold):
        _free_reserved(store=store, sku=skus[sku_id], quantity=sold[sku_id], reason=why, actor=actor)
    for sku_id in sorted(sold):
        stock_sell(sku=skus[sku_id], location=store, quantity=sold[sku_id], reference=order.number, actor=actor)
    now = timezone.now()
    fulfilment = Fulfilment.objects.create(
        order=order,
        location=store,
        source_location=store,
        method=Fulfilment.Method.IN_STORE,
        status=F.COLLECTED,  # created in its final state: the customer has the goods
        dispatched_at=now,
        ready_at=now,
    )
    FulfilmentLine.objects.bulk_create(
        FulfilmentLine(
            fulfilment=fulfilment,
            order_line=line,
            sku_id=line.sku_id,
            quantity=line.quantity,
            picked_quantity=line.quantity,
        )
        for line in lines
    )
    Activity.objects.create(
        order=order, subject=fulfilment.subject, action="sell", to_state=F.COLLECTED, reason=store.code, actor=actor
    )
    transition_apply(order, "sell_in_store", order=order, subject="order", actor=actor, reason=store.code)
    return order


def _store_work(*, store: Location, sku_ids) -> QuerySet[Fulfilment]:
    return Fulfilment.objects.filter(
        source_location=store, status__in=_PROGRESS, lines__sku_id__in=list(sku_ids), lines__quantity__gt=0
    ).exclude(method=Fulfilment.Method.IN_STORE)


def _lock_work_and_stock(*, store: Location, sku_ids: list[int]) -> None:
    order_ids = sorted(set(_store_work(store=store, sku_ids=sku_ids).values_list("order_id", flat=True)))
    list(Order.objects.select_for_update().filter(pk__in=order_ids).order_by("pk").values_list("pk", flat=True))
    levels = StockLevel.objects.filter(location=store, sku_id__in=sku_ids).values_list("pk", flat=True)
    stock_levels_for_update(ids=list(levels))


def _free_reserved(*, store: Location, sku: Sku, quantity: int, reason: str, actor) -> None:
    """Free the reserved units the sale needs beyond what the store has unreserved.

    Checkout holds go first (nothing was promised yet), then the store's work, least
    started and newest first, each order re-routed without this store as after a short pick.
    """
    level = StockLevel.objects.filter(sku=sku, location=store).first()
    if level is None:
        return
    wanted = min(level.reserved, quantity - max(level.on_hand - level.reserved, 0))
    if wanted <= 0:
        return
    holds = list(
        Reservation.objects.filter(stock_level=level, status=Reservation.Status.ACTIVE, owner_ref__startswith="hold:")
        .select_related("stock_level")
        .order_by("-pk")
    )
    take: dict[int, int] = {}
    for hold in holds:
        n = min(hold.quantity, wanted)
        if n:
            take[hold.pk], wanted = n, wanted - n
    if take:
        reservations_release(reservations=holds, quantities=take, reason="sold_at_till", actor=actor)
    if wanted <= 0:
        return
    progress = Case(*(When(status=s, then=Value(i)) for i, s in enumerate(_PROGRESS)), output_field=IntegerField())
    work = (
        _store_work(store=store, sku_ids=[sku.pk])
        .annotate(progress=progress)
        .order_by("progress", "-order__created_at", "-pk")
        .distinct()
    )
    for fulfilment in list(work):
        if wanted <= 0:
            break
        wanted -= fulfilment_units_taken(fulfilment=fulfilment, sku=sku, quantity=wanted, reason=reason, actor=actor)


def fulfilment_units_taken(*, fulfilment: Fulfilment, sku: Sku, quantity: int, reason: str, actor=None) -> int:
    """Take up to ``quantity`` units of ``sku`` off a store's work for a till sale; return how many.

    The lines shrink, the reservation is released and the units are routed elsewhere
    without this store, as after a short pick; work left with nothing is cancelled.
    """
    fulfilment = fulfilment_lock(fulfilment)
    left = quantity
    for fl in fulfilment.lines.filter(sku=sku).order_by("-pk"):
        n = min(fl.quantity, left)
        if n:
            fl.quantity -= n
            fl.picked_quantity = None if fl.picked_quantity is None else min(fl.picked_quantity, fl.quantity)
            fl.scanned_quantity = min(fl.scanned_quantity, fl.quantity)
            fl.save(update_fields=["quantity", "picked_quantity", "scanned_quantity"])
            left -= n
    taken = quantity - left
    if not taken:
        return 0
    order = fulfilment.order
    if not any(fl.quantity for fl in fulfilment.lines.all()):
        transition_apply(fulfilment, "cancel", order=order, subject=fulfilment.subject, actor=actor, reason=reason)
    Activity.objects.create(
        order=order,
        subject=fulfilment.subject,
        action="sold_at_till",
        from_state=fulfilment.status,
        to_state=fulfilment.status,
        reason=f"{taken} × {sku.code} {reason}"[:255],
        actor=actor,
    )
    fulfilment_reroute_short(
        fulfilment=fulfilment,
        short=Counter({sku.pk: taken}),
        actor=actor,
        release_reason="sold_at_till",
        reason=f"units sold at the till at {fulfilment.location.code}",
    )
    order_sync_status(order=order, actor=actor)
    return taken
