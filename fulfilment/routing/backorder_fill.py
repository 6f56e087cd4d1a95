"""Fill on arrival: when available stock rises at a location, the backorders waiting for it take it,
first placed first served, never beyond what their channel may sell there.

``backorders_fill`` runs through inventory's supply port (``fulfilment.supply``) in the
transaction that raised the stock, so by the time a receipt, a restock, a count or a
release returns, its units are the waiting orders'. It draws only on the location whose
stock rose, under the same rules routing applies to any location (``engine.plan_from``).

Locks, in the one order every writer here keeps: the location's stock rows (the raiser
holds them already), then the waiting orders with SKIP LOCKED, then the channel caps.
An order someone else is changing at this moment is left to that transaction and to the
next rise or the sweep (``backorders_sweep``): a fill never waits for an order while it
holds stock rows, so it cannot deadlock with an agent who holds the order and wants the
stock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from inventory.availability import stock_availability
from inventory.locks import stock_levels_for_update
from inventory.models import ChannelCap, StockLevel
from inventory.reservations import Allocation, stock_allocate
from oms.events import order_events_emit
from oms.models import Activity, Order, OrderLine
from oms.promises import promises_refresh
from oms.selectors import WAITING_FOR_SUPPLY, waiting_for_supply
from oms.transitions import transitions_apply

from ..deadlines import routing_unavailable
from ..models import Fulfilment
from ..order_status import order_sync_status
from ..store_hours import unavailable_stores
from .candidates import location_candidates, routing_policy_for
from .engine import plan_from
from .placement import Placement, fulfilments_write, routing_excluded
from .policy import DELIVERY, PICKUP, ROUTED, Candidate, RoutingPlan, RoutingPolicy, RoutingRequest


def backorders_fill(*, levels: Collection[tuple[int, int]], now: datetime | None = None) -> int:
    """Allocate the backorders waiting for the (sku id, location id) ``levels`` from those locations'
    available stock, in order of placement; return the units allocated.

    One read when nothing waits for these SKUs, which is what most rises find.
    """
    levels = set(levels)
    waiting: dict[int, set[int]] = defaultdict(set)  # sku id -> ids of orders waiting for it
    for sku_id, order_id in waiting_lines().filter(sku_id__in={s for s, _ in levels}).values_list("sku_id", "order_id"):
        waiting[sku_id].add(order_id)
    by_location: dict[int, set[int]] = defaultdict(set)
    for sku_id, location_id in levels:
        if sku_id in waiting:
            by_location[location_id].add(sku_id)
    now = now or timezone.now()
    filled = 0
    for location_id in sorted(by_location):
        sku_ids = sorted(by_location[location_id])
        order_ids = set().union(*(waiting[s] for s in sku_ids))
        filled += _fill_at(location_id, sku_ids, order_ids, now)
    return filled


def waiting_lines():
    return OrderLine.objects.filter(waiting_for_supply())


def _locked_waiting_orders(sku_ids: list[int], location_id: int, order_ids: set[int]) -> list[Order]:
    """Those of the orders waiting for these SKUs that nobody else holds now, locked, in order of placement."""
    levels = StockLevel.objects.filter(sku_id__in=sku_ids, location_id=location_id).values_list("pk", flat=True)
    stock_levels_for_update(ids=levels)
    orders = (
        Order.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=order_ids, status__in=WAITING_FOR_SUPPLY)
        .select_related("channel")
        .order_by("pk")
    )
    return sorted(orders, key=lambda o: (o.created_at, o.pk))


def _available(orders: list[Order], sku_ids: list[int], location_id: int) -> tuple[Counter, dict]:
    """(channel id, sku id) → ATP here for that channel, and → what is left of its cap (only where capped)."""
    channels = {o.channel_id: o.channel for o in orders}
    atp: Counter = Counter()
    for channel_id, channel in channels.items():
        for (sku_id, _), units in stock_availability(
            sku_ids=sku_ids, location_ids=[location_id], channel=channel
        ).items():
            atp[(channel_id, sku_id)] = units
    caps = ChannelCap.objects.filter(channel_id__in=list(channels), sku_id__in=sku_ids)
    cap_left = {(c, s): left for c, s, left in caps.values_list("channel_id", "sku_id", F("quantity") - F("used"))}
    return atp, cap_left


def _fill_at(location_id: int, sku_ids: list[int], order_ids: set[int], now: datetime) -> int:
    orders = _locked_waiting_orders(sku_ids, location_id, order_ids)
    if not orders:
        return 0
    atp, cap_left = _available(orders, sku_ids, location_id)
    if not any(atp.values()):
        return 0
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    waiting = waiting_lines().filter(order__in=orders, sku_id__in=sku_ids).select_related("sku").order_by("pk")
    for line in waiting:
        lines[line.order_id].append(line)
    declined = set(
        Fulfilment.objects.filter(order__in=orders, location_id=location_id, status=Fulfilment.Status.DECLINED)
        .values_list("order_id", flat=True)
    )  # fmt: skip
    pickups = {o.pickup_location_id for o in orders if o.method == Order.Method.PICKUP}
    places = {
        c.location_id: c
        for c in location_candidates(stock={}, pickup_location_id=None, include={location_id, *pickups})
    }
    source = places.get(location_id)
    if source is None:
        return 0
    closed = unavailable_stores(at=now)
    policies: dict[int, RoutingPolicy] = {}  # channel id -> its policy, read once per channel
    used: Counter = Counter()  # sku id -> units taken here by this fill, whatever the channel
    capped: Counter = Counter()  # (channel id, sku id) -> units counted against a cap
    placements: list[Placement] = []
    allocations: list[Allocation] = []
    for order in orders:
        takes, want = _takes(order, lines[order.pk], atp, cap_left, used, capped)
        if not want:
            continue
        pickup = order.method == Order.Method.PICKUP
        request = RoutingRequest(
            lines=dict(want),
            method=PICKUP if pickup else DELIVERY,
            destination=(order.lat, order.lon),
            now=now,
            pickup_location_id=order.pickup_location_id,
            excluded=frozenset({location_id}) if _excluded(order, location_id, declined) else frozenset(),
            unavailable=routing_unavailable(order, stores=closed),
        )
        if order.channel_id not in policies:
            policies[order.channel_id] = routing_policy_for(channel=order.channel)
        policy = policies[order.channel_id]
        group = plan_from(request, source, policy, places.get(order.pickup_location_id) if pickup else None)
        if isinstance(group, str):
            continue
        used.update(want)
        capped.update({(order.channel_id, s): q for s, q in want.items() if (order.channel_id, s) in cap_left})
        source = _one_more_fulfilment(source)
        plan = RoutingPlan(ROUTED, (group,), {}, {}, policy.version)
        placements.append(Placement(order, plan, takes, {line.pk: line for line in lines[order.pk]}))
        allocations += [Allocation(order.owner_ref, order.channel_id, s, location_id, q) for s, q in want.items()]
    if placements:
        _write(placements, allocations, places[location_id])
    return sum(used.values())


def _excluded(order: Order, location_id: int, declined: set[int]) -> bool:
    """The location declined the order, or an agent re-routed the order without it."""
    return order.pk in declined or location_id in routing_excluded(order)


def _takes(order: Order, lines: list[OrderLine], atp: Counter, cap_left: dict, used: Counter, capped: Counter):
    """What each of the order's waiting lines can take here now: (line id → units, sku id → units)."""
    takes: dict[int, int] = {}
    want: Counter = Counter()
    for line in lines:
        key = (order.channel_id, line.sku_id)
        free = atp[key] - used[line.sku_id] - want[line.sku_id]
        if key in cap_left:
            free = min(free, cap_left[key] - capped[key] - want[line.sku_id])
        take = min(line.backordered, free)
        if take > 0:
            takes[line.pk] = take
            want[line.sku_id] += take
    return takes, want


def _one_more_fulfilment(source: Candidate) -> Candidate:
    left = source.capacity_left
    return source if left is None else replace(source, capacity_left=left - 1)


def _write(placements: list[Placement], allocations: list[Allocation], source: Candidate) -> None:
    """Reserve, write the fulfilments, take the units off the lines' backorders, move and announce the orders;
    the lines still waiting behind them may now be promised sooner."""
    stock_allocate(allocations=allocations)
    made = fulfilments_write(placements, {source.location_id: source.kind})
    why = f"stock arrived at {source.code}"
    by_take: dict[int, list[int]] = defaultdict(list)  # units taken -> lines: one UPDATE per distinct amount
    for p in placements:
        for line_id, take in p.open_lines.items():
            p.lines_by_id[line_id].backordered -= take
            by_take[take].append(line_id)
    for take, line_ids in by_take.items():
        OrderLine.objects.filter(pk__in=line_ids).update(backordered=F("backordered") - take)
    # An order with nothing else live is allocated now, and its transition tells where it went;
    # for the others each new part does, and their status is what their parts say.
    was_waiting = [p.order for p in placements if p.order.status == Order.Status.BACKORDERED]
    transitions_apply(was_waiting, "allocate", reason=why)
    moved = {o.pk for o in was_waiting}
    others = [p.order for p in placements if p.order.pk not in moved]
    Activity.objects.bulk_create(
        Activity(order=o, subject=f.subject, action="route", to_state=f.status, reason=why)
        for o in others
        for f in made[o.pk]
    )
    for order in others:
        order_sync_status(order=order, reason=why)
    order_events_emit(
        "order.backorder_allocated",
        [
            (
                p.order,
                {
                    "order": p.order.pk,
                    "order_number": p.order.number,
                    "location": source.code,
                    "lines": [
                        {"sku": p.lines_by_id[i].sku.code, "allocated": n, "backordered": p.lines_by_id[i].backordered}
                        for i, n in p.open_lines.items()
                    ],
                },
            )
            for p in placements
        ],
    )
    promises_refresh(sku_ids={a.sku_id for a in allocations})


def backorders_sweep(*, now: datetime | None = None) -> int:
    """Fill what a rise could not reach (an order locked at that moment, a store's capacity full until
    today): every location holding free stock of a SKU that orders wait for, each in its own transaction."""
    sku_ids = set(waiting_lines().values_list("sku_id", flat=True))
    if not sku_ids:
        return 0
    free = (
        StockLevel.objects.filter(sku_id__in=sku_ids, on_hand__gt=F("reserved"), location__active=True)
        .values_list("sku_id", "location_id")
        .order_by("location_id", "sku_id")
    )
    by_location: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sku_id, location_id in free:
        by_location[location_id].append((sku_id, location_id))
    filled = 0
    for levels in by_location.values():
        with transaction.atomic():
            filled += backorders_fill(levels=levels, now=now)
    return filled
