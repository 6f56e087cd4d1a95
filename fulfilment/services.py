"""Routing orders into fulfilments and moving fulfilments through their life.

Every function here runs in one transaction with the order row locked, so two staff
members (or a store and the API) acting on the same order queue behind each other.
"""

from __future__ import annotations

import hmac
import secrets
from collections import Counter, defaultdict
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from inventory.exceptions import InsufficientStock, InvalidInput
from inventory.models import AdjustmentReason, Channel, Location, Reservation, Sku
from inventory.reservations import StockRequest, reservations_commit, reservations_release, stock_reserve
from inventory.services import stock_adjust, stock_write_off
from inventory.sql import rows_insert
from oms.amounts import order_amounts
from oms.models import Activity, Order, OrderLine, OutboxEvent
from oms.transitions import transition_apply
from oms.webhooks import outbox_kick

from .deadlines import accept_deadline, ready_deadline, routing_unavailable
from .exceptions import PickupCodeRefused
from .models import Fulfilment, FulfilmentLine
from .routing import Candidate, RoutingPlan, RoutingPolicy, RoutingRequest, route
from .selectors import order_shortfall_alternatives, routing_candidates, routing_policy_for
from .store_hours import ready_time

F = Fulfilment.Status
MAX_ROUTING_ATTEMPTS = 3


# --- order status ----------------------------------------------------------------------


def _order_target_status(fulfilments: list[Fulfilment]) -> str | None:
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
    target = _order_target_status(fulfilments)
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


# --- routing ---------------------------------------------------------------------------


def _open_quantities(order: Order, lines: list[OrderLine], *, fresh: bool) -> dict[int, int]:
    """Units per order line that no live fulfilment covers yet (a fresh order has none)."""
    covered = Counter()
    if not fresh:
        live = FulfilmentLine.objects.filter(order_line__order=order).exclude(
            fulfilment__status__in=Fulfilment.INACTIVE
        )
        for line in live:
            covered[line.order_line_id] += line.quantity
    return {
        line.pk: line.open_quantity - covered[line.pk] for line in lines if line.open_quantity - covered[line.pk] > 0
    }


def _excluded_locations(order: Order) -> frozenset[int]:
    return frozenset(order.fulfilments.filter(status=F.DECLINED).values_list("location_id", flat=True))


_CANDIDATE_FIELDS = ["id", "code", "kind", "lat", "lon", "ships", "pickup", "priority", "daily_capacity"]


def _source_locations(plan, candidates: list[Candidate]) -> dict[int, Location]:
    """The plan's stock locations built from the candidates routing read, not read again.

    Fields routing does not load stay deferred, so nothing downstream sees a made-up default.
    """
    sources = {g.source_location_id for g in plan.groups}
    return {
        c.location_id: Location.from_db(
            connection.alias,
            _CANDIDATE_FIELDS,
            [c.location_id, c.code, c.kind, c.lat, c.lon, c.ships, c.pickup, c.priority, c.daily_capacity],
        )
        for c in candidates
        if c.location_id in sources
    }


def _create_fulfilments(
    order: Order, plan, candidates: list[Candidate], open_lines: dict[int, int], lines_by_id: dict[int, OrderLine]
) -> list[Fulfilment]:
    """Reserve the plan's stock, then write its fulfilments.

    Reserving first means a lost race (another order took the stock since routing read
    it) is rolled back by the reservation's own savepoint before anything else exists.
    """
    skus = {line.sku_id: line.sku for line in lines_by_id.values()}
    sources = _source_locations(plan, candidates)
    stock_reserve(
        requests=[
            StockRequest(skus[sku_id], sources[g.source_location_id], quantity)
            for g in plan.groups
            for sku_id, quantity in g.lines.items()
        ],
        owner_ref=order.owner_ref,
        channel=order.channel,
    )
    kinds = {c.location_id: c.kind for c in candidates}
    fulfilments = [
        Fulfilment(
            order=order,
            location_id=g.location_id,
            source_location_id=g.source_location_id,
            method=g.method,
            ready_by=ready_time(location_id=g.location_id, ready_by=g.ready_by),
            accept_by=accept_deadline(g, kinds.get(g.source_location_id)),
        )
        for g in plan.groups
    ]
    rows_insert(fulfilments)
    by_sku: dict[int, list[int]] = defaultdict(list)  # sku id -> order line ids still to place
    for line_id in open_lines:
        by_sku[lines_by_id[line_id].sku_id].append(line_id)
    remaining = dict(open_lines)
    new_lines = []
    for fulfilment, group in zip(fulfilments, plan.groups, strict=True):
        for sku_id, quantity in group.lines.items():
            for line_id in by_sku[sku_id]:
                take = min(quantity, remaining[line_id])
                if take:
                    new_lines.append(
                        FulfilmentLine(fulfilment=fulfilment, order_line_id=line_id, sku_id=sku_id, quantity=take)
                    )
                    remaining[line_id] -= take
                    quantity -= take
    rows_insert(new_lines)
    return fulfilments


def _routing_policy(channel: Channel):
    """The channel's routing policy, read once per Channel instance like its location list.

    Code placing many orders for one channel instance reads it once; a request or task
    loads a fresh Channel, so a new policy version applies from the next one on.
    """
    if not hasattr(channel, "_routing_policy"):
        channel._routing_policy = routing_policy_for(channel=channel)
    return channel._routing_policy


def _plan(
    request: RoutingRequest, order: Order, wanted: Mapping[int, int], policy: RoutingPolicy
) -> tuple[RoutingPlan, list[Candidate]]:
    """Route over the locations that can send every line, when there are any; else over the best-placed.

    A single shipment beats any split, so the first read leaves out the locations that hold
    only part of the order. Only when none of those holding it all can take it (capacity
    full, excluded, not shipping) is the order routed again over the wider field.
    """

    def candidates(whole_only: bool) -> list[Candidate]:
        return routing_candidates(
            channel=order.channel,
            sku_ids=list(wanted),
            pickup_location_id=order.pickup_location_id,
            near=(order.lat, order.lon),
            quantities=wanted,
            whole_only=whole_only,
        )

    found = candidates(whole_only=True)
    plan = route(request, found, policy)
    if plan.status != "routed" and any(all(c.stock.get(s, 0) >= q for s, q in wanted.items()) for c in found):
        found = candidates(whole_only=False)
        plan = route(request, found, policy)
    return plan, found


def order_route(
    *,
    order: Order,
    actor=None,
    reason: str = "placed",
    at_placement: bool = False,
    exclude: frozenset[int] = frozenset(),
    lines: list[OrderLine] | None = None,
) -> Order:
    """Route the order's uncovered lines, reserve their stock and create fulfilments.

    Candidates are read, the pure routing engine decides, and the reservation proves
    the decision: if another order took the stock in between, routing runs again on
    fresh numbers. When nothing fits, the channel policy's fallback applies at
    placement (reject raises InsufficientStock); a later re-route backorders instead.
    At placement the order has no fulfilments yet, which saves their look-ups, and the
    caller hands over the ``lines`` it has just written, which saves reading them back.
    """
    if lines is None:
        lines = list(order.lines.select_related("sku"))
    open_lines = _open_quantities(order, lines, fresh=at_placement)
    if not open_lines:
        return order
    lines_by_id = {line.pk: line for line in lines}
    wanted = Counter()
    for line_id, quantity in open_lines.items():
        wanted[lines_by_id[line_id].sku_id] += quantity
    policy = _routing_policy(order.channel)
    excluded = exclude if at_placement else _excluded_locations(order) | exclude
    created: list[Fulfilment] = []
    for attempt in range(MAX_ROUTING_ATTEMPTS):
        request = RoutingRequest(
            lines=dict(wanted),
            method="pickup" if order.method == Order.Method.PICKUP else "delivery",
            destination=(order.lat, order.lon),
            pickup_location_id=order.pickup_location_id,
            excluded=excluded,
            now=timezone.now(),
            unavailable=routing_unavailable(order),
        )
        plan, candidates = _plan(request, order, wanted, policy)
        order.routing = {"reason": reason, **plan.explanation}
        order.routing_policy_version = plan.policy_version
        if plan.status != "routed":
            break
        try:
            created = _create_fulfilments(order, plan, candidates, open_lines, lines_by_id)
            break
        except InsufficientStock:
            if attempt == MAX_ROUTING_ATTEMPTS - 1:
                raise
    routing_fields = ("routing", "routing_policy_version")
    if created and not at_placement:
        # At placement the order's own transition tells where it went; later, each new part does.
        why = reason[:255]
        Activity.objects.bulk_create(
            Activity(order=order, subject=f.subject, action="route", to_state=f.status, reason=why, actor=actor)
            for f in created
        )
    if plan.status == "routed":
        live = created if at_placement else None
        summary = plan.explanation.get("summary", reason)
        if not order_sync_status(order=order, actor=actor, reason=summary, live=live, fields=routing_fields):
            order.save(update_fields=routing_fields)
        return order
    order.save(update_fields=routing_fields)
    fallback = plan.status if at_placement else "backorder"
    if fallback == "reject":
        raise InsufficientStock(order_shortfall_alternatives(order=order, unfilled=plan.unfilled))
    if fallback == "hold" and order.status == Order.Status.PLACED:
        transition_apply(
            order, "hold", order=order, subject="order", actor=actor, reason="no stock", reason_code="stock"
        )
    elif order.status in (Order.Status.PLACED, Order.Status.ALLOCATED, Order.Status.IN_FULFILMENT):
        if _order_target_status(list(order.fulfilments.all())) is None:
            transition_apply(order, "backorder", order=order, subject="order", actor=actor, reason=reason)
    return order


class FulfilmentRouter:
    """The fulfilment layer's side of ``oms.ports.OrderRouter``."""

    def allocate(self, *, order: Order, actor=None, lines: list[OrderLine] | None = None) -> None:
        order_route(order=order, actor=actor, at_placement=order.status == Order.Status.PLACED, lines=lines)

    def reroute(self, *, order: Order, actor=None, reason: str, exclude: frozenset[int] = frozenset()) -> bool:
        return order_reroute(order=order, actor=actor, reason=reason, exclude=exclude)

    def cancel(self, *, order: Order, actor=None, reason: str, lines: dict[int, int] | None = None) -> None:
        _cancel_lines(order=order, actor=actor, reason=reason, lines=lines)


def _placement(order: Order) -> set[tuple]:
    return {
        (f.location_id, f.source_location_id, f.method, tuple(sorted((fl.sku_id, fl.quantity) for fl in f.lines.all())))
        for f in order.fulfilments.exclude(status__in=Fulfilment.INACTIVE)
    }


def order_reroute(*, order: Order, actor=None, reason: str, exclude: frozenset[int] = frozenset()) -> bool:
    """Route the order again from scratch while no location has started on it; True if the plan changed.

    The current fulfilments are cancelled and their stock released inside a savepoint,
    so the new plan sees that stock too; if the best plan is what the order already had
    (and no location is being excluded), the savepoint is rolled back and nothing changes.
    """
    live = list(order.fulfilments.exclude(status__in=Fulfilment.INACTIVE))
    if any(f.status not in (F.PENDING, F.ACCEPTED) for f in live):
        raise InvalidInput(
            "Work has started at a location; cancel or decline it there first.", errors={"order": ["Already in work."]}
        )
    before = _placement(order)
    savepoint = transaction.savepoint()
    for f in live:
        _release(f, _units(f.lines.all()), reason=reason, actor=actor)
        transition_apply(f, "cancel", order=order, subject=f.subject, actor=actor, reason=reason)
    order_route(order=order, actor=actor, reason=reason, exclude=exclude)
    if _placement(order) == before:
        transaction.savepoint_rollback(savepoint)
        order.refresh_from_db()
        return False
    transaction.savepoint_commit(savepoint)
    return True


# --- stock of one fulfilment -----------------------------------------------------------


def _reservations(fulfilment: Fulfilment, sku_ids) -> list[Reservation]:
    return list(
        Reservation.objects.filter(
            owner_ref=fulfilment.order.owner_ref,
            status=Reservation.Status.ACTIVE,
            stock_level__location_id=fulfilment.source_location_id,
            stock_level__sku_id__in=list(sku_ids),
        )
        .select_related("stock_level")
        .order_by("pk")
    )


def _portion(reservations: list[Reservation], units: Counter) -> dict[int, int]:
    """Reservation id → units, taking ``units`` (sku id → quantity) from the reservations in order."""
    take: dict[int, int] = {}
    left = Counter(units)
    for r in reservations:
        n = min(r.quantity, left[r.stock_level.sku_id])
        if n > 0:
            take[r.pk] = n
            left[r.stock_level.sku_id] -= n
    return take


def _release(fulfilment: Fulfilment, units: Counter, *, reason: str, actor) -> None:
    if not units:
        return
    reservations = _reservations(fulfilment, units)
    reservations_release(
        reservations=reservations, quantities=_portion(reservations, units), reason=reason, actor=actor
    )


def _commit(fulfilment: Fulfilment, units: Counter, *, actor) -> None:
    reservations = _reservations(fulfilment, units)
    reservations_commit(
        reservations=reservations,
        quantities=_portion(reservations, units),
        reference=fulfilment.order.number,
        actor=actor,
    )


def _units(lines) -> Counter:
    """Units per SKU id; a line whose units were all cancelled counts for nothing (no zero entries)."""
    units = Counter()
    for line in lines:
        units[line.sku_id] += line.quantity
    return +units


def _cancel_lines(*, order: Order, actor, reason: str, lines: dict[int, int] | None) -> None:
    """Take quantities out of the order's undispatched fulfilments and release their stock."""
    todo = dict(lines) if lines is not None else None
    for fulfilment in order.fulfilments.exclude(status__in=Fulfilment.CLOSED + [F.SHIPPED]).select_for_update():
        released = Counter()
        for fl in fulfilment.lines.all():
            n = fl.quantity if todo is None else min(fl.quantity, todo.get(fl.order_line_id, 0))
            if n:
                # Units already scanned or picked off the shelf go back with the cancelled ones:
                # the counts never exceed what is still to send (a CHECK keeps scanned within it).
                fl.quantity -= n
                fl.scanned_quantity = min(fl.scanned_quantity, fl.quantity)
                if fl.picked_quantity is not None:
                    fl.picked_quantity = min(fl.picked_quantity, fl.quantity)
                fl.save(update_fields=["quantity", "scanned_quantity", "picked_quantity"])
                released[fl.sku_id] += n
                if todo is not None:
                    todo[fl.order_line_id] -= n
        _release(fulfilment, released, reason=reason, actor=actor)
        if released and not any(fl.quantity for fl in fulfilment.lines.all()):
            transition_apply(fulfilment, "cancel", order=order, subject=fulfilment.subject, actor=actor, reason=reason)
    if lines is not None:  # what is left decides the order's state (the rest shipped, say)
        order_sync_status(order=order, actor=actor, reason=reason)


# --- fulfilment actions ----------------------------------------------------------------


def _locked(fulfilment: Fulfilment) -> Fulfilment:
    """Lock the order, then the fulfilment; never the channel row joined for reading (``of``).

    Locking the channel would make every checkout of that channel wait at COMMIT, where
    PostgreSQL checks its rows' reference to the channel.
    """
    Order.objects.select_for_update().get(pk=fulfilment.order_id)
    return (
        Fulfilment.objects.select_for_update(of=("self",))
        .select_related("order", "order__channel")
        .get(pk=fulfilment.pk)
    )


def _act(fulfilment: Fulfilment, action: str, *, actor=None, reason: str = "", **kwargs) -> None:
    transition_apply(
        fulfilment, action, order=fulfilment.order, subject=fulfilment.subject, actor=actor, reason=reason, **kwargs
    )


@transaction.atomic
def fulfilment_accept(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """The location takes the work on."""
    fulfilment = _locked(fulfilment)
    _act(fulfilment, "accept", actor=actor)
    fulfilment.due_by = ready_deadline(fulfilment)
    Fulfilment.objects.filter(pk=fulfilment.pk).update(due_by=fulfilment.due_by)
    order_sync_status(order=fulfilment.order, actor=actor, reason=f"accepted at {fulfilment.location.code}")
    return fulfilment


def _adjust_for_reason(fulfilment: Fulfilment, units: Counter, *, reason_code: str, actor) -> None:
    """Make the location's stock tell the truth the reason reveals, after the stock was released."""
    location = fulfilment.source_location
    skus = Sku.objects.in_bulk(list(units))
    for sku_id, quantity in sorted(units.items()):
        if reason_code == Fulfilment.DeclineReason.NOT_IN_STOCK:
            stock_adjust(
                sku=skus[sku_id],
                location=location,
                delta=-quantity,
                reason=AdjustmentReason.LOST,
                reference=fulfilment.order.number,
                actor=actor,
            )
        elif reason_code == Fulfilment.DeclineReason.DAMAGED:
            stock_write_off(
                sku=skus[sku_id],
                location=location,
                quantity=quantity,
                reason=AdjustmentReason.DAMAGED,
                reference=fulfilment.order.number,
                actor=actor,
            )


@transaction.atomic
def fulfilment_decline(*, fulfilment: Fulfilment, reason_code: str, actor=None, note: str = "") -> Fulfilment:
    """Refuse the work: release its stock, correct the store's stock by the reason, re-route the lines elsewhere.

    not_in_stock: the units are not there (on-hand drops); damaged: they are written
    off; mismatch: the stock stays as it is for a count to settle.
    """
    if reason_code not in Fulfilment.DeclineReason.values:
        raise InvalidInput("Unknown decline reason.", errors={"reason": [f"One of {Fulfilment.DeclineReason.values}."]})
    fulfilment = _locked(fulfilment)
    _act(fulfilment, "decline", actor=actor, reason=note or reason_code, reason_code=reason_code)
    units = _units(fulfilment.lines.all())
    _release(fulfilment, units, reason=f"declined:{reason_code}", actor=actor)
    _adjust_for_reason(fulfilment, units, reason_code=reason_code, actor=actor)
    order_route(order=fulfilment.order, actor=actor, reason=f"{fulfilment.location.code} declined ({reason_code})")
    return fulfilment


@transaction.atomic
def fulfilment_pick(
    *,
    fulfilment: Fulfilment,
    picked: dict[str, int],
    actor=None,
    short_reason: str = Fulfilment.DeclineReason.NOT_IN_STOCK,
) -> Fulfilment:
    """Record the units picked per SKU code; what is short is released, corrected and re-routed."""
    fulfilment = _locked(fulfilment)
    lines = list(fulfilment.lines.select_related("sku").order_by("pk"))
    wanted = Counter()
    for fl in lines:
        wanted[fl.sku.code] += fl.quantity
    errors = {}
    for code, quantity in picked.items():
        if code not in wanted:
            errors[f"lines.{code}"] = ["Not on this fulfilment."]
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity <= wanted[code]:
            errors[f"lines.{code}"] = [f"Pick between 0 and {wanted[code]}."]
    if errors:
        raise InvalidInput("The pick does not match the fulfilment.", errors=errors)
    # Units are counted per SKU; lines carrying the same SKU are filled in line order.
    left = Counter({code: picked.get(code, quantity) for code, quantity in wanted.items()})
    if not any(left.values()):
        return fulfilment_decline(fulfilment=fulfilment, reason_code=short_reason, actor=actor, note="nothing picked")
    short = Counter()
    for fl in lines:
        got = min(fl.quantity, left[fl.sku.code])
        left[fl.sku.code] -= got
        if got < fl.quantity:
            short[fl.sku_id] += fl.quantity - got
            fl.quantity = got
        fl.picked_quantity, fl.scanned_quantity = got, min(fl.scanned_quantity, got)
        fl.save(update_fields=["quantity", "picked_quantity", "scanned_quantity"])
    _act(fulfilment, "pick", actor=actor, reason="short pick" if short else "")
    if short:
        fulfilment_reroute_short(
            fulfilment=fulfilment,
            short=short,
            actor=actor,
            release_reason=f"short_pick:{short_reason}",
            reason=f"short pick at {fulfilment.location.code}",
            reason_code=short_reason,
        )
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment


def fulfilment_reroute_short(
    *, fulfilment: Fulfilment, short: Counter, actor, release_reason: str, reason: str, reason_code: str = ""
) -> None:
    """Release units (sku id → quantity) a location no longer has for this work and route them elsewhere.

    The caller has locked the fulfilment and taken the units off its lines. ``reason_code``
    (a decline reason) corrects the location's stock as a decline would; the re-route
    excludes the location, since its shelf has just proved short.
    """
    _release(fulfilment, short, reason=release_reason, actor=actor)
    if reason_code:
        _adjust_for_reason(fulfilment, short, reason_code=reason_code, actor=actor)
    order_route(order=fulfilment.order, actor=actor, reason=reason, exclude=frozenset({fulfilment.source_location_id}))


@transaction.atomic
def fulfilment_pack(
    *, fulfilment: Fulfilment, actor=None, parcels: int | None = None, weight_kg: Decimal | None = None
) -> Fulfilment:
    """Close the picked units into parcels; how many and their total weight are kept for the carrier."""
    errors = {}
    if parcels is not None and (isinstance(parcels, bool) or not isinstance(parcels, int) or not 1 <= parcels <= 99):
        errors["parcels"] = ["Between 1 and 99."]
    if weight_kg is not None and not (isinstance(weight_kg, Decimal) and Decimal("0") < weight_kg < Decimal("10000")):
        errors["weight_kg"] = ["More than 0 and under 10000 kg."]
    if errors:
        raise InvalidInput("Check the parcels and weight.", errors=errors)
    fulfilment = _locked(fulfilment)
    _act(fulfilment, "pack", actor=actor, parcels=parcels, weight_kg=weight_kg)
    return fulfilment


@transaction.atomic
def fulfilment_ship(*, fulfilment: Fulfilment, carrier: str, tracking: str, actor=None) -> Fulfilment:
    """Hand the parcel to the carrier: the reserved units leave on-hand through the ledger."""
    if not carrier.strip() or not tracking.strip():
        raise InvalidInput(
            "Carrier and tracking are required.", errors={"carrier": ["Required."], "tracking": ["Required."]}
        )
    fulfilment = _locked(fulfilment)
    _act(fulfilment, "ship", actor=actor, carrier=carrier.strip(), tracking=tracking.strip(), at=timezone.now())
    _commit(fulfilment, _units(fulfilment.lines.all()), actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor, reason=f"shipped by {carrier}")
    return fulfilment


@transaction.atomic
def fulfilment_deliver(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    fulfilment = _locked(fulfilment)
    _act(fulfilment, "deliver", actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment


@transaction.atomic
def fulfilment_ready(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Put a click-and-collect parcel on the shelf and give the customer a pickup code."""
    fulfilment = _locked(fulfilment)
    code = f"{secrets.randbelow(10**PICKUP_CODE_DIGITS):0{PICKUP_CODE_DIGITS}d}"
    _act(fulfilment, "ready", actor=actor, pickup_code=code, at=timezone.now())
    OutboxEvent.objects.create(
        type="fulfilment.ready_for_pickup",
        channel=fulfilment.order.channel,
        order=fulfilment.order,
        data={"fulfilment": fulfilment.pk, "order_number": fulfilment.order.number, "store": fulfilment.location.code},
    )
    order_sync_status(order=fulfilment.order, actor=actor)
    return fulfilment


# A pickup code is this many digits; anything else cannot be one and is not counted as a miss.
PICKUP_CODE_DIGITS = 6


def _pickup_code_misses_key(fulfilment: Fulfilment) -> str:
    return f"pickup-code-misses:{fulfilment.pk}"


def _pickup_code_check(fulfilment: Fulfilment, pickup_code: str) -> None:
    """Refuse a wrong code, and any code once too many wrong ones came in a row.

    A six-digit code could otherwise be guessed at the counter or over the API. Misses are
    counted in the cache, not the database, because the refused call changes nothing; the
    caller holds the parcel's row lock, so two attempts never count at once. The lock
    lifts OMS_PICKUP_CODE_LOCK_MINUTES after the last miss, or when the code is resent.
    """
    key, limit = _pickup_code_misses_key(fulfilment), settings.OMS_PICKUP_CODE_MAX_MISSES
    minutes = settings.OMS_PICKUP_CODE_LOCK_MINUTES
    locked = (
        f"Too many wrong pickup codes for this parcel: it takes no code for {minutes:g} minutes. "
        "Check the code in the customer's message, or resend it."
    )
    misses = cache.get(key, 0)
    if misses >= limit:
        raise PickupCodeRefused(locked, field_error="Locked after too many wrong codes.", locked_minutes=minutes)
    typed = str(pickup_code or "").strip()
    if len(typed) != PICKUP_CODE_DIGITS or not (typed.isascii() and typed.isdigit()):
        # A typo or a scan of the wrong barcode, not a guess: refused without counting.
        raise PickupCodeRefused(
            f"A pickup code is {PICKUP_CODE_DIGITS} digits.", field_error=f"{PICKUP_CODE_DIGITS} digits."
        )
    if hmac.compare_digest(fulfilment.pickup_code, typed):
        cache.delete(key)
        return
    misses += 1
    cache.set(key, misses, timeout=minutes * 60)
    left = limit - misses
    if not left:
        raise PickupCodeRefused(locked, field_error="Wrong code.", locked_minutes=minutes)
    message = f"The pickup code does not match. {left} attempt(s) left before the parcel is locked."
    raise PickupCodeRefused(message, field_error="Wrong code.", tries_left=left)


@transaction.atomic
def fulfilment_collect(*, fulfilment: Fulfilment, pickup_code: str, actor=None) -> Fulfilment:
    """Hand the parcel over once the customer's pickup code matches."""
    fulfilment = _locked(fulfilment)
    if fulfilment.status == F.READY_FOR_PICKUP:
        _pickup_code_check(fulfilment, pickup_code)
    _act(fulfilment, "collect", actor=actor, at=timezone.now())
    _commit(fulfilment, _units(fulfilment.lines.all()), actor=actor)
    order_sync_status(order=fulfilment.order, actor=actor, reason="collected")
    return fulfilment


@transaction.atomic
def fulfilment_expire(*, fulfilment: Fulfilment, actor=None) -> Fulfilment | None:
    """Give up on a parcel nobody collected: release the stock, cancel its lines, ask for a refund.

    Returns None when it is no longer waiting (a second run of the job does nothing).
    """
    fulfilment = _locked(fulfilment)
    if fulfilment.status != F.READY_FOR_PICKUP:
        return None
    _act(fulfilment, "expire", actor=actor, reason="not collected in time")
    lines = list(fulfilment.lines.select_related("order_line"))
    _release(fulfilment, _units(lines), reason="pickup_expired", actor=actor)
    order = fulfilment.order
    refund = 0
    for fl in lines:
        OrderLine.objects.filter(pk=fl.order_line_id).update(
            cancelled_quantity=fl.order_line.cancelled_quantity + fl.quantity
        )
        refund += fl.order_line.unit_price * fl.quantity
    order.total = order_amounts(order=order).total
    Order.objects.filter(pk=order.pk).update(total=order.total)
    OutboxEvent.objects.create(
        type="refund.requested",
        channel=order.channel,
        order=order,
        data={
            "order": order.pk,
            "order_number": order.number,
            "amount": str(refund),
            "currency": order.currency,
            "reason": "pickup_expired",
        },
    )
    if not any(line.open_quantity for line in order.lines.all()):
        transition_apply(order, "cancel", order=order, subject="order", actor=actor, reason="pickup expired")
    else:
        order_sync_status(order=order, actor=actor)
    return fulfilment


# --- timed jobs ------------------------------------------------------------------------


def pickups_remind(*, now=None) -> int:
    """Mark and announce parcels waiting longer than the reminder time; each is reminded once."""
    now = now or timezone.now()
    due = Fulfilment.objects.filter(
        status=F.READY_FOR_PICKUP,
        reminded_at__isnull=True,
        ready_at__lte=now - timedelta(hours=settings.OMS_PICKUP_REMINDER_HOURS),
    ).select_related("order")
    count = 0
    for fulfilment in due:
        with transaction.atomic():
            if Fulfilment.objects.filter(pk=fulfilment.pk, reminded_at__isnull=True).update(reminded_at=now):
                OutboxEvent.objects.create(
                    type="fulfilment.pickup_reminder",
                    channel_id=fulfilment.order.channel_id,
                    order=fulfilment.order,
                    data={"fulfilment": fulfilment.pk, "order_number": fulfilment.order.number},
                )
                count += 1
    return count


def pickups_expire(*, now=None) -> int:
    """Expire parcels left on the shelf past the collection window."""
    now = now or timezone.now()
    due = list(
        Fulfilment.objects.filter(
            status=F.READY_FOR_PICKUP, ready_at__lte=now - timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
        )
    )
    return sum(1 for fulfilment in due if fulfilment_expire(fulfilment=fulfilment) is not None)


# --- back-office interventions ---------------------------------------------------------


@transaction.atomic
def order_reroute_excluding(*, order: Order, location: Location, reason: str, actor=None) -> bool:
    """Route the order again without ``location``; True if the plan changed.

    For an agent who knows a location cannot serve this order (a customer complaint, a
    store that is short-staffed today). The exclusion holds for this re-route; a store that
    should never get the order again declines it instead, which excludes it for good.
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


@transaction.atomic
def fulfilment_resend_pickup_code(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Ask the channel to send the customer their pickup code again (the first message got lost).

    The event carries the code itself, since the channel is what reaches the customer.
    Resending lifts a lock left by wrong codes: the customer is about to bring the right one.
    """
    fulfilment = _locked(fulfilment)
    if fulfilment.status != F.READY_FOR_PICKUP:
        raise InvalidInput(
            f"The parcel is {fulfilment.status}; a pickup code exists only while it waits for collection.",
            errors={"fulfilment": ["Not ready for pickup."]},
        )
    cache.delete(_pickup_code_misses_key(fulfilment))
    order = fulfilment.order
    OutboxEvent.objects.create(
        type="fulfilment.pickup_code_resent",
        channel=order.channel,
        order=order,
        data={
            "fulfilment": fulfilment.pk,
            "order_number": order.number,
            "store": fulfilment.location.code,
            "pickup_code": fulfilment.pickup_code,
        },
    )
    Activity.objects.create(
        order=order,
        subject=fulfilment.subject,
        action="resend_pickup_code",
        reason=f"collect at {fulfilment.location.code}",
        actor=actor,
    )
    outbox_kick()
    return fulfilment


# --- store work ------------------------------------------------------------------------


@transaction.atomic
def fulfilment_put_back(*, fulfilment: Fulfilment, actor=None) -> Fulfilment:
    """Record that a parcel nobody will collect was unpacked and its units are back on the shop floor.

    Expiry or cancellation already released the reservation; this closes the store's
    to-do, so the same parcel is never listed (or put back) twice.
    """
    fulfilment = _locked(fulfilment)
    if fulfilment.status not in (F.EXPIRED, F.CANCELLED) or fulfilment.ready_at is None:
        raise InvalidInput(
            f"The parcel is {fulfilment.status}; only an expired or cancelled pickup goes back to the shop floor.",
            errors={"fulfilment": ["Not an uncollected pickup."]},
        )
    if fulfilment.put_back_at is not None:
        raise InvalidInput("This parcel was already put back.", errors={"fulfilment": ["Already put back."]})
    fulfilment.put_back_at = timezone.now()
    fulfilment.save(update_fields=["put_back_at"])
    Activity.objects.create(
        order=fulfilment.order,
        subject=fulfilment.subject,
        action="put_back",
        from_state=fulfilment.status,
        to_state=fulfilment.status,
        reason=f"stock put back at {fulfilment.location.code}",
        actor=actor,
    )
    return fulfilment
