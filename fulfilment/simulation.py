"""What-if routing: replay a period's real orders under the current and a candidate policy.

Both replays use the pure routing engine and never touch stock. Approximations, chosen
so the two policies are compared on equal terms rather than to reconstruct the past:

* Stock starts from today's ATP snapshot for each order's channel, not the stock the
  orders met when they were placed; each replay subtracts what its own plans take, in
  order placement order, so the two policies compete for the same finite stock.
* Daily capacity starts empty on every day of the period and fills with the replay's own
  fulfilments (counted at the fulfilment's location, as live routing counts them).
* Orders are replayed with the quantities they were placed with, whatever happened later.

Measures: split rate is the share of routed orders needing more than one fulfilment;
mean distance is per delivery shipment, customer to the shipping location (collection
orders are left out: the customer comes to the store); ship-from-store share is of
delivery shipments; ready-now share is of routed collection orders whose every line is
in the pickup store itself; a capacity breach is an order the policy would have sent to
a location that day's capacity had already filled, so it went elsewhere or not at all;
unfillable orders got the policy's fallback instead of a plan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from django.db.models import Prefetch
from geopy.distance import geodesic

from inventory.models import Channel, Location
from oms.models import Order, OrderLine

from .routing.candidates import routing_candidates
from .routing.engine import route
from .routing.policy import (
    CLICK_AND_COLLECT,
    DELIVERY,
    PICKUP,
    ROUTED,
    SHIP_FROM_STORE,
    Candidate,
    RoutingError,
    RoutingPlan,
    RoutingPolicy,
    RoutingRequest,
)


@dataclass(frozen=True)
class SimulatedOrder:
    """A past order as the replay needs it."""

    number: str
    channel_id: int
    placed_at: datetime
    lines: Mapping[int, int]  # sku id -> quantity
    method: str  # "delivery" | "pickup"
    destination: tuple[float, float]
    pickup_location_id: int | None = None


@dataclass
class PolicyMetrics:
    orders: int = 0
    routed: int = 0
    split: int = 0
    unfillable: int = 0
    capacity_breaches: int = 0
    shipments: int = 0
    shipment_km: float = 0.0
    shipment_cost: float = 0.0  # at each location's shipping cost to any destination
    from_store: int = 0
    pickups: int = 0
    ready_now: int = 0
    load: Counter[int] = field(default_factory=Counter)  # location id -> fulfilments it was given

    @staticmethod
    def _share(part: float, whole: int) -> float | None:
        return part / whole if whole else None

    def as_dict(self) -> dict:
        return {
            "orders": self.orders,
            "split_rate": self._share(self.split, self.routed),
            "mean_distance_km": self._share(self.shipment_km, self.shipments),
            "ship_from_store_share": self._share(self.from_store, self.shipments),
            "click_and_collect_ready_now_share": self._share(self.ready_now, self.pickups),
            "capacity_breaches": self.capacity_breaches,
            "unfillable_orders": self.unfillable,
        }


PolicyChoice = RoutingPolicy | Mapping[int, RoutingPolicy]  # one policy, or one per channel id


class _Replay:
    """One policy's run through the orders, with the stock and capacity its plans used up."""

    def __init__(self, policy: PolicyChoice, snapshot: Mapping[int, Sequence[Candidate]]):
        self.policy = policy
        self.snapshot = snapshot
        self.positions = {c.location_id: (c.lat, c.lon) for cs in snapshot.values() for c in cs}
        self.costs = {c.location_id: c.cost for cs in snapshot.values() for c in cs}
        self.taken: Counter[tuple[int, int]] = Counter()  # (location, sku) -> units
        self.used: Counter[tuple[int, date]] = Counter()  # (location, day) -> fulfilments
        self.metrics = PolicyMetrics()

    def _candidates(self, order: SimulatedOrder, *, capped: bool = True) -> list[Candidate]:
        day = order.placed_at.date()
        result = []
        for c in self.snapshot[order.channel_id]:
            loc = c.location_id
            stock = {s: q - self.taken[(loc, s)] for s, q in c.stock.items() if q > self.taken[(loc, s)]}
            left = None if c.daily_capacity is None or not capped else max(0, c.daily_capacity - self.used[(loc, day)])
            result.append(replace(c, stock=stock, capacity_left=left))
        return result

    def play(self, order: SimulatedOrder) -> None:
        policy = self.policy if isinstance(self.policy, RoutingPolicy) else self.policy[order.channel_id]
        request = RoutingRequest(
            lines=order.lines,
            method=order.method,
            destination=order.destination,
            pickup_location_id=order.pickup_location_id,
            now=order.placed_at,
        )
        candidates = self._candidates(order)
        m = self.metrics
        m.orders += 1
        try:
            plan = route(request, candidates, policy)
        except RoutingError:  # e.g. the pickup store no longer offers collection
            m.unfillable += 1
            return
        if any(c.capacity_left == 0 and c.stock for c in candidates):
            uncapped = route(request, self._candidates(order, capped=False), policy)
            if _locations(uncapped) != _locations(plan):
                m.capacity_breaches += 1
        if plan.status != ROUTED:
            m.unfillable += 1
            return
        self._record(order, plan)

    def _record(self, order: SimulatedOrder, plan: RoutingPlan) -> None:
        m = self.metrics
        m.routed += 1
        m.split += len(plan.groups) > 1
        for g in plan.groups:
            self.used[(g.location_id, order.placed_at.date())] += 1
            m.load[g.location_id] += 1
            for sku, quantity in g.lines.items():
                self.taken[(g.source_location_id, sku)] += quantity
            if g.method != CLICK_AND_COLLECT:
                m.shipments += 1
                m.shipment_km += geodesic(order.destination, self.positions[g.location_id]).km
                m.shipment_cost += self.costs[g.location_id]
                m.from_store += g.method == SHIP_FROM_STORE
        if order.method == PICKUP:
            m.pickups += 1
            m.ready_now += all(g.source_location_id == order.pickup_location_id for g in plan.groups)


def _locations(plan: RoutingPlan) -> set[int]:
    return {g.source_location_id for g in plan.groups}


def replay_policies(
    *,
    orders: Sequence[SimulatedOrder],
    snapshot: Mapping[int, Sequence[Candidate]],
    current: PolicyChoice,
    candidate: PolicyChoice,
) -> dict[str, PolicyMetrics]:
    """Replay ``orders`` (in placement order) under both policies; return each one's tallies.

    ``snapshot`` maps each channel id to its routing candidates with today's ATP; it
    must include every pickup store the orders name.
    """
    replays = {"current": _Replay(current, snapshot), "candidate": _Replay(candidate, snapshot)}
    for order in sorted(orders, key=lambda o: o.placed_at):
        for replay in replays.values():
            replay.play(order)
    return {name: replay.metrics for name, replay in replays.items()}


def simulate_routing(
    *,
    orders: Sequence[SimulatedOrder],
    snapshot: Mapping[int, Sequence[Candidate]],
    current: PolicyChoice,
    candidate: PolicyChoice,
) -> dict[str, dict]:
    """Replay ``orders`` under both policies; return each one's measures as plain numbers."""
    results = replay_policies(orders=orders, snapshot=snapshot, current=current, candidate=candidate)
    return {name: metrics.as_dict() for name, metrics in results.items()}


# --- reading the period ----------------------------------------------------------------


def orders_for_replay(*, start: datetime, end: datetime, channel: Channel | None = None) -> list[SimulatedOrder]:
    """The orders placed in [start, end), as the replay needs them."""
    rows = Order.objects.filter(created_at__gte=start, created_at__lt=end, lat__isnull=False, lon__isnull=False)
    if channel is not None:
        rows = rows.filter(channel=channel)
    rows = rows.order_by("created_at", "pk").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.only("order_id", "sku_id", "quantity"))
    )
    result = []
    for order in rows:
        lines: Counter[int] = Counter()
        for line in order.lines.all():
            lines[line.sku_id] += line.quantity
        result.append(
            SimulatedOrder(
                number=order.number,
                channel_id=order.channel_id,
                placed_at=order.created_at,
                lines=dict(lines),
                method=PICKUP if order.method == Order.Method.PICKUP else DELIVERY,
                destination=(order.lat, order.lon),
                pickup_location_id=order.pickup_location_id,
            )
        )
    return result


def stock_snapshot(*, orders: Sequence[SimulatedOrder]) -> dict[int, list[Candidate]]:
    """Today's routing candidates per channel of the orders, every pickup store they name included."""
    snapshot = {}
    channels = Channel.objects.in_bulk({o.channel_id for o in orders})
    for channel_id, channel in channels.items():
        mine = [o for o in orders if o.channel_id == channel_id]
        sku_ids = sorted({sku for o in mine for sku in o.lines})
        candidates = routing_candidates(channel=channel, sku_ids=sku_ids)
        present = {c.location_id for c in candidates}
        stores = {o.pickup_location_id for o in mine if o.pickup_location_id} - present
        for store_id in sorted(Location.objects.filter(pk__in=stores, active=True).values_list("pk", flat=True)):
            candidates += routing_candidates(channel=channel, sku_ids=[], pickup_location_id=store_id)
        snapshot[channel_id] = candidates
    return snapshot
