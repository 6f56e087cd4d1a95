"""Placing an order's lines: read the candidates, let the engine decide, reserve the stock, write fulfilments.

Every function here runs in the caller's transaction with the order row locked, so two
staff members (or a store and the API) acting on the same order queue behind each other.
The order-status and stock-release steps it uses live below it (``fulfilment.order_status``,
``fulfilment.reserved_stock``); the store actions that re-route after a decline or a short
pick live above it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.exceptions import InsufficientStock
from inventory.locks import stock_levels_for_update
from inventory.models import Location, StockLevel
from inventory.ports import stock_rises_collected
from inventory.reservations import StockRequest, stock_reserve
from oms.events import event_emit
from oms.models import Activity, Order, OrderLine
from oms.promises import promised_iso, promises_refresh
from oms.transitions import transition_apply

from ..collection_transfers import collection_transfers_request
from ..deadlines import accept_deadline, routing_unavailable
from ..models import Fulfilment, FulfilmentLine
from ..order_status import order_sync_status
from ..reserved_stock import fulfilment_release, order_lines_cancel, units_by_sku
from ..sql import CANDIDATE_FIELDS
from ..store_hours import ready_time
from .candidates import destination_zones, order_shortfall_alternatives, routing_candidates, routing_policy_for
from .engine import plan_available_now, route
from .policy import DELIVERY, Candidate, RoutingPlan, RoutingPolicy, RoutingRequest

MAX_ROUTING_ATTEMPTS = 3
_EXCLUDED = "excluded"  # the routing record's key for an agent's exclusions


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
    return frozenset(order.fulfilments.filter(status=Fulfilment.Status.DECLINED).values_list("location_id", flat=True))


def _source_locations(plan, candidates: list[Candidate]) -> dict[int, Location]:
    """The plan's stock locations built from the candidates routing read, not read again.

    Fields routing does not load stay deferred, so nothing downstream sees a made-up default.
    """
    sources = {g.source_location_id for g in plan.groups}
    return {
        c.location_id: Location.from_db(
            connection.alias,
            CANDIDATE_FIELDS,
            [c.location_id, c.code, c.kind, c.lat, c.lon, c.ships, c.pickup, c.priority, c.daily_capacity],
        )
        for c in candidates
        if c.location_id in sources
    }


@dataclass(frozen=True)
class Placement:
    """One order's plan to write: ``open_lines`` are its order line ids → units the plan places."""

    order: Order
    plan: RoutingPlan
    open_lines: Mapping[int, int]
    lines_by_id: Mapping[int, OrderLine]


def fulfilments_write(placements: Sequence[Placement], kinds: Mapping[int, str]) -> dict[int, list[Fulfilment]]:
    """Write each placement's fulfilments and their lines, and the transfers that bring a collection's
    stock to its pickup store; the stock is reserved already. Order id → its new fulfilments.

    Many orders at once (backorders filled on arrival) cost the same three INSERTs as one.
    A SKU's planned units fill the order's lines in line order (``_backordered_after`` agrees).
    ``kinds``: the source locations' kinds (store or warehouse), for the accept deadline.
    """
    fulfilments = [
        Fulfilment(
            order=p.order,
            location_id=g.location_id,
            source_location_id=g.source_location_id,
            method=g.method,
            ready_by=ready_time(location_id=g.location_id, ready_by=g.ready_by),
            accept_by=accept_deadline(g, kinds.get(g.source_location_id)),
        )
        for p in placements
        for g in p.plan.groups
    ]
    Fulfilment.objects.bulk_create(fulfilments)
    made: dict[int, list[Fulfilment]] = defaultdict(list)
    new_lines: dict[int, list[FulfilmentLine]] = defaultdict(list)
    written = iter(fulfilments)
    for p in placements:
        by_sku: dict[int, list[int]] = defaultdict(list)  # sku id -> order line ids still to place
        for line_id in p.open_lines:
            by_sku[p.lines_by_id[line_id].sku_id].append(line_id)
        remaining = dict(p.open_lines)
        for group in p.plan.groups:
            fulfilment = next(written)
            made[p.order.pk].append(fulfilment)
            for sku_id, quantity in group.lines.items():
                for line_id in by_sku[sku_id]:
                    take = min(quantity, remaining[line_id])
                    if take:
                        new_lines[p.order.pk].append(
                            FulfilmentLine(fulfilment=fulfilment, order_line_id=line_id, sku_id=sku_id, quantity=take)
                        )
                        remaining[line_id] -= take
                        quantity -= take
    FulfilmentLine.objects.bulk_create([line for lines in new_lines.values() for line in lines])
    for p in placements:
        if any(g.source_location_id != g.location_id for g in p.plan.groups):
            skus = {line.sku_id: line.sku for line in p.lines_by_id.values()}
            collection_transfers_request(
                order=p.order, fulfilments=made[p.order.pk], lines=new_lines[p.order.pk], skus=skus
            )
    return made


def _create_fulfilments(
    order: Order, plan, candidates: list[Candidate], open_lines: dict[int, int], lines_by_id: dict[int, OrderLine]
) -> list[Fulfilment]:
    """Reserve the plan's stock, then write its fulfilments (``fulfilments_write``).

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
    return fulfilments_write([Placement(order, plan, open_lines, lines_by_id)], kinds)[order.pk]


def _lock_supply(wanted: Mapping[int, int]) -> None:
    """Lock every stock row of the wanted SKUs, in primary-key order."""
    stock_levels_for_update(ids=StockLevel.objects.filter(sku_id__in=list(wanted)).values_list("pk", flat=True))


def _routing_record(reason: str, plan: RoutingPlan, exclude: frozenset[int]) -> dict:
    """What the order keeps of its routing: why, the plan's explanation, and the locations an agent
    excluded, which the units it leaves waiting are not filled from either (``backorder_fill``)."""
    record = {"reason": reason, **plan.explanation}
    if exclude:
        record[_EXCLUDED] = sorted(exclude)
    return record


def routing_excluded(order: Order) -> frozenset[int]:
    """The locations an agent routed the order without, as its routing record keeps them."""
    return frozenset((order.routing or {}).get(_EXCLUDED, ()))


def _plan(
    request: RoutingRequest, order: Order, wanted: Mapping[int, int], policy: RoutingPolicy
) -> tuple[RoutingPlan, list[Candidate]]:
    """Route over the locations that can send every line, when there are any; else over the best-placed.

    A single shipment beats any split, so the first read leaves out the locations that hold
    only part of the order. Only when none of those holding it all can take it (capacity
    full, excluded, not shipping) is the order routed again over the wider field.
    """

    zones = destination_zones(order.address) if request.method == DELIVERY else ()

    def candidates(whole_only: bool) -> list[Candidate]:
        return routing_candidates(
            channel=order.channel,
            sku_ids=list(wanted),
            pickup_location_id=order.pickup_location_id,
            near=(order.lat, order.lon),
            quantities=wanted,
            whole_only=whole_only,
            zones=zones,
        )

    found = candidates(whole_only=True)
    plan = route(request, found, policy)
    if plan.status != "routed" and any(all(c.stock.get(s, 0) >= q for s, q in wanted.items()) for c in found):
        found = candidates(whole_only=False)
        plan = route(request, found, policy)
    return plan, found


def _backordered_after(
    plan: RoutingPlan, created: list[Fulfilment], open_lines: dict[int, int], lines: list[OrderLine]
) -> dict[int, int]:
    """Units per order line no fulfilment was ``created`` for: a SKU's planned units fill its lines in line order.

    The same order ``_create_fulfilments`` fills them in, so the two agree line by line.
    """
    planned = Counter()
    for group in plan.groups if created else ():
        planned.update(group.lines)
    left = {}
    for line in lines:
        wanted = open_lines.get(line.pk, 0)
        take = min(wanted, planned[line.sku_id])
        planned[line.sku_id] -= take
        left[line.pk] = wanted - take
    return left


def _backorders_record(order: Order, lines: list[OrderLine], left: dict[int, int]) -> int:
    """Write each line's backordered units and move the promise dates of the SKUs' waiting lines;
    announce ``order.backordered`` (with the lines' promises) when some are newly waiting.

    Returns the order's backordered units. Nothing is written when nothing changed (a
    placement filled in full costs no statement here).
    """
    changed = [line for line in lines if line.backordered != left[line.pk]]
    rose = any(left[line.pk] > line.backordered for line in changed)
    for line in changed:
        line.backordered = left[line.pk]
    if changed:
        OrderLine.objects.bulk_update(changed, ["backordered"])
        promised = promises_refresh(sku_ids={line.sku_id for line in changed}, announced=order if rose else None)
        for line in lines:
            line.promised_on = promised.get(line.pk, line.promised_on)
    if rose:
        waiting = [
            {"sku": line.sku.code, "backordered": line.backordered, "promised_on": promised_iso(line.promised_on)}
            for line in lines
            if line.backordered
        ]
        event_emit(
            "order.backordered", order=order, data={"order": order.pk, "order_number": order.number, "lines": waiting}
        )
    return sum(left.values())


def order_route(
    *,
    order: Order,
    actor=None,
    reason: str = "placed",
    at_placement: bool = False,
    exclude: frozenset[int] = frozenset(),
    lines: list[OrderLine] | None = None,
    policy: RoutingPolicy | None = None,
) -> Order:
    """Route the order's uncovered units, reserve their stock and create fulfilments; the rest are backordered.

    Candidates are read, the pure routing engine decides, and the reservation proves
    the decision: if another order took the stock in between, routing runs again on
    fresh numbers. When nothing fits, the order's ``when_short`` (else the channel
    policy's fallback) applies at placement: reject raises InsufficientStock, hold holds
    the order, backorder reserves what can be had now and leaves the rest on its lines as
    backordered units. A later re-route always backorders what it cannot place.
    At placement the order has no fulfilments yet, which saves their look-ups, and the
    caller hands over the ``lines`` it has just written, which saves reading them back.
    The channel's ``policy`` is read once here unless the caller already holds it.
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
    if policy is None:
        policy = routing_policy_for(channel=order.channel)
    fallback = (order.when_short or policy.fallback) if at_placement else "backorder"
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
        if plan.status != "routed" and fallback == "backorder" and attempt == 0:
            # Units about to wait: hold the SKUs' stock rows first, so a receipt in flight
            # ends before the read again (and its units are seen) and one after it finds
            # these backorders waiting (fulfilment.routing.backorder_fill). Only before any
            # reservation was tried: a lost race keeps the rows it touched locked, and
            # locking the rest then would break primary-key order; the sweep covers that.
            _lock_supply(wanted)
            plan, candidates = _plan(request, order, wanted, policy)
        order.routing = _routing_record(reason, plan, exclude)
        order.routing_policy_version = plan.policy_version
        if plan.status != "routed":
            if fallback != "backorder":
                break
            partial = plan_available_now(request, candidates, policy)
            if partial is None:
                break
            plan = partial
            order.routing = _routing_record(reason, plan, exclude)
        try:
            created = _create_fulfilments(order, plan, candidates, open_lines, lines_by_id)
            break
        except InsufficientStock:
            if attempt == MAX_ROUTING_ATTEMPTS - 1 and fallback != "backorder":
                raise
            # When backordering, units others took on every try wait with the rest.
    routing_fields = ("routing", "routing_policy_version")
    if fallback != "backorder" and plan.status != "routed":
        order.save(update_fields=routing_fields)
        if fallback == "reject":
            raise InsufficientStock(order_shortfall_alternatives(order=order, unfilled=plan.unfilled))
        if order.status == Order.Status.PLACED:
            transition_apply(
                order, "hold", order=order, subject="order", actor=actor, reason="no stock", reason_code="stock"
            )
        return order
    if created and not at_placement:
        # At placement the order's own transition tells where it went; later, each new part does.
        why = reason[:255]
        Activity.objects.bulk_create(
            Activity(order=order, subject=f.subject, action="route", to_state=f.status, reason=why, actor=actor)
            for f in created
        )
    backordered = _backorders_record(order, lines, _backordered_after(plan, created, open_lines, lines))
    summary = order.routing.get("summary", reason) if created else reason
    if backordered:
        order.routing = {**order.routing, "backordered": backordered}
    live = created if at_placement else None
    if not order_sync_status(
        order=order, actor=actor, reason=summary, live=live, fields=routing_fields, backordered=backordered
    ):
        order.save(update_fields=routing_fields)
    return order


class FulfilmentRouter:
    """The fulfilment layer's side of ``oms.ports.OrderRouter``."""

    def allocate(self, *, order: Order, actor=None, lines: list[OrderLine] | None = None) -> None:
        order_route(order=order, actor=actor, at_placement=order.status == Order.Status.PLACED, lines=lines)

    def reroute(self, *, order: Order, actor=None, reason: str, exclude: frozenset[int] = frozenset()) -> bool:
        return order_reroute(order=order, actor=actor, reason=reason, exclude=exclude)

    def cancel(self, *, order: Order, actor=None, reason: str, lines: dict[int, int] | None = None) -> None:
        order_lines_cancel(order=order, actor=actor, reason=reason, lines=lines)


def _live_with_lines(order: Order) -> list[Fulfilment]:
    return list(order.fulfilments.exclude(status__in=Fulfilment.INACTIVE).prefetch_related("lines"))


def _placement(live: list[Fulfilment]) -> set[tuple]:
    return {
        (f.location_id, f.source_location_id, f.method, tuple(sorted((fl.sku_id, fl.quantity) for fl in f.lines.all())))
        for f in live
    }


def order_reroute(*, order: Order, actor=None, reason: str, exclude: frozenset[int] = frozenset()) -> bool:
    """Route the order again from scratch while no location has started on it; True if the plan changed.

    The current fulfilments are cancelled and their stock released inside a savepoint,
    so the new plan sees that stock too; if the best plan is what the order already had
    (and no location is being excluded), the savepoint is rolled back and nothing changes.
    """
    live = _live_with_lines(order)
    if any(f.status not in (Fulfilment.Status.PENDING, Fulfilment.Status.ACCEPTED) for f in live):
        raise InvalidInput(
            "Work has started at a location; cancel or decline it there first.", errors={"order": ["Already in work."]}
        )
    before = _placement(live)
    # What the order gives back and does not take again goes to the orders waiting for it after.
    with stock_rises_collected():
        savepoint = transaction.savepoint()
        for f in live:
            fulfilment_release(f, units_by_sku(f.lines.all()), reason=reason, actor=actor)
            transition_apply(f, "cancel", order=order, subject=f.subject, actor=actor, reason=reason)
        order_route(order=order, actor=actor, reason=reason, exclude=exclude)
        if _placement(_live_with_lines(order)) == before:
            transaction.savepoint_rollback(savepoint)
            order.refresh_from_db()
            return False
        transaction.savepoint_commit(savepoint)
    return True
