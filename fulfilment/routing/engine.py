"""The routing engine: the fewest, best-scoring fulfilments for an order, as a pure function.

Plain data in and out (policy.py), no ORM and no database. How it decides: docs/routing.md.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from .explain import explain, judge, plan_summary
from .policy import (
    CLICK_AND_COLLECT,
    DELIVERY,
    PICKUP,
    ROUTED,
    SHIP_FROM_STORE,
    SHIP_FROM_WAREHOUSE,
    WAREHOUSE,
    Candidate,
    PlannedGroup,
    RoutingError,
    RoutingPlan,
    RoutingPolicy,
    RoutingRequest,
)
from .scoring import APPROXIMATION_ERROR, Group, Option, fixed_scorer, measure_exactly, option_rank
from .terms import DISTANCE

EARTH_RADIUS_KM = 6371.0088


def route(request: RoutingRequest, candidates: Sequence[Candidate], policy: RoutingPolicy) -> RoutingPlan:
    """Plan the fewest, best-scoring fulfilments for an order, or the policy's fallback."""
    lines = _checked_lines(request)
    pickup_store = _pickup_store(request, candidates)
    origin = (pickup_store.lat, pickup_store.lon) if pickup_store else request.destination
    options, without_stock = _assess(request, candidates, policy, lines, origin)
    full = (1 << len(lines)) - 1
    groups = _groups(options, policy)

    # Most orders fit in one location: then only the whole-order candidates need measuring.
    single = [_best_of(g, origin, policy) for g in groups if g.mask == full]
    if single:
        chosen = [min(single, key=option_rank)]
    else:
        groups = _undominated(groups)
        chosen = _best_split(groups, full, origin, policy)
    status = ROUTED if chosen else policy.fallback
    if not chosen:
        chosen = _partial_plan(groups, lines, origin, policy)
    assigned = _assign(chosen, len(lines))
    covered = 0
    for mask in assigned.values():
        covered |= mask
    unfilled = {sku: qty for bit, (sku, qty) in enumerate(lines) if not covered >> bit & 1}

    planned = ()
    if status in (ROUTED, "backorder"):
        planned = tuple(
            _planned_group(o, assigned[o], lines, pickup_store, request.now)
            for o in sorted(chosen, key=lambda o: o.candidate.location_id)
        )
    judge(options, chosen, assigned, status, full, policy, origin)
    summary = plan_summary(request, policy, options, chosen, assigned, planned, unfilled, status, pickup_store)
    explanation = explain(request, policy, lines, options, chosen, summary, without_stock)
    return RoutingPlan(status, planned, unfilled, explanation, policy.version)


def lines_available_now(
    request: RoutingRequest, candidates: Sequence[Candidate], policy: RoutingPolicy
) -> dict[int, int]:
    """The most of each line one usable location can send now (sku id → units): what a backorder takes first.

    A line goes to one location, so a short line is cut to what the best-stocked location
    routing may use holds; lines no usable location holds are left out.
    """
    lines = _checked_lines(request)
    found: dict[int, int] = {}
    for c in candidates:
        if _ruled_out(c, request, policy):
            continue
        for sku, qty in lines:
            units = min(qty, c.stock.get(sku, 0))
            if units > found.get(sku, 0):
                found[sku] = units
    return found


def plan_available_now(
    request: RoutingRequest, candidates: Sequence[Candidate], policy: RoutingPolicy
) -> RoutingPlan | None:
    """The plan sending every unit usable locations hold now, for an order that backorders the rest; None
    when nothing can go.

    Each short line is cut to what the best-stocked usable location holds
    (``lines_available_now``) and routed under the backorder fallback; what is still short
    is then taken the same way from what the locations have left, round after round, so no
    unit waits while a location routing may use holds it (filling on arrival splits a line
    over locations the same way). The first round's explanation is the plan's.
    """
    backorder = replace(policy, fallback="backorder")
    left = dict(request.lines)
    rounds: list[RoutingPlan] = []
    while left and (now := lines_available_now(replace(request, lines=left), candidates, policy)):
        plan = route(replace(request, lines=now), candidates, backorder)
        if not plan.groups:
            break
        rounds.append(plan)
        taken: dict[tuple[int, int], int] = defaultdict(int)  # (source, sku) -> units
        work: dict[int, int] = defaultdict(int)  # location -> new fulfilments there
        for g in plan.groups:
            work[g.location_id] += 1
            for sku, qty in g.lines.items():
                taken[(g.source_location_id, sku)] += qty
                left[sku] -= qty
        left = {sku: qty for sku, qty in left.items() if qty > 0}
        candidates = [_after_taking(c, taken, work[c.location_id]) for c in candidates]
    if not rounds:
        return None
    first = rounds[0]
    status = "backorder" if left else first.status
    return RoutingPlan(
        status, tuple(g for p in rounds for g in p.groups), left, first.explanation, first.policy_version
    )


def _after_taking(c: Candidate, taken: dict[tuple[int, int], int], new_work: int) -> Candidate:
    """The candidate as the next round sees it: the units a round took gone, its new work counted."""
    stock = {sku: units - taken.get((c.location_id, sku), 0) for sku, units in c.stock.items()}
    left = c.capacity_left
    return replace(
        c,
        stock={sku: units for sku, units in stock.items() if units > 0},
        capacity_left=left if left is None else left - new_work,
    )


def plan_from(
    request: RoutingRequest, source: Candidate, policy: RoutingPolicy, pickup_store: Candidate | None = None
) -> PlannedGroup | str:
    """The one fulfilment that sends all of ``request.lines`` from ``source``, or why routing may not use it.

    What filling backorders from a location whose stock rose needs: no choice between
    locations, only the same rules routing applies to each (excluded, paused or closed,
    capacity, may it ship) and the same group it would plan there.
    """
    if ruled_out := _ruled_out(source, request, policy):
        return ruled_out
    lines = _checked_lines(request)
    lead = _lead_minutes(source, request.pickup_location_id, policy) if pickup_store else 0
    option = Option(source, (1 << len(lines)) - 1, 0.0, None, lead, 0.0)
    return _planned_group(option, option.mask, lines, pickup_store, request.now)


def pickup_ready_by(
    request: RoutingRequest, candidates: Sequence[Candidate], stores: Sequence[Candidate], policy: RoutingPolicy
) -> dict[int, datetime | None]:
    """When a pickup of ``request.lines`` could be ready at each of ``stores`` (by location id; None: no plan).

    The answer of routing the pickup at each store over ``candidates`` and the store
    itself, without routing once per store. Routing picks the fewest sources, then the
    soonest ready, and scores only choose between plans that are ready as soon: so the
    ready time depends only on which lines each usable source fills in full and how long
    its goods take to reach the store (the store's own after preparation, others' after a
    transfer). Stores seeing the same such pairs share one answer.
    """
    if not stores:
        return {}
    lines = _checked_lines(replace(request, pickup_location_id=stores[0].location_id))
    bits = [(1 << bit, sku, qty) for bit, (sku, qty) in enumerate(lines)]

    # A paused or closed store still hands over its own stock to its own collections.
    own_request = replace(request, unavailable={})

    def fills(c: Candidate, own: bool = False) -> int:
        if _ruled_out(c, own_request if own else request, policy):
            return 0
        return sum(bit for bit, sku, qty in bits if c.stock.get(sku, 0) >= qty)

    sources: dict[tuple[int, int], list[int]] = defaultdict(list)  # (lines filled, lead) -> location ids
    for c in candidates:
        mask = fills(c)
        same = sources[(mask, _lead_minutes(c, None, policy))] if mask else None
        if same is not None and len(same) < 2:  # two, so one is left when the other is the pickup store itself
            same.append(c.location_id)
    ready_by: dict[frozenset[tuple[int, int]], datetime | None] = {}
    found: dict[int, datetime | None] = {}
    for store in stores:
        if not store.pickup:
            raise RoutingError(f"Cannot route: {store.code} has no pickup; customers cannot collect there.")
        usable = {key for key, ids in sources.items() if ids != [store.location_id]}
        own = fills(store, own=True)
        if own:
            usable.add((own, policy.pickup_prep_minutes))
        signature = frozenset(usable)
        if signature not in ready_by:
            ready_by[signature] = _soonest(signature, (1 << len(lines)) - 1, policy, request.now)
        found[store.location_id] = ready_by[signature]
    return found


def _soonest(sources: frozenset[tuple[int, int]], full: int, policy: RoutingPolicy, now: datetime) -> datetime | None:
    """When the plan ``route`` picks from these (lines filled, lead) sources has every line ready, or None.

    A source beaten by another (a superset of its lines, ready as soon) cannot make a plan
    smaller or sooner, so only the unbeaten are searched.
    """
    kept = [
        Group(mask, lead, [], 0.0, 0.0)
        for mask, lead in sources
        if not any((m, t) != (mask, lead) and mask & ~m == 0 and t <= lead for m, t in sources)
    ]
    for size in range(1, policy.max_splits + 1):
        covers = _covers(kept, full, size)
        if covers:
            return now + timedelta(minutes=min(max(g.lead for g in cover) for cover in covers))
    return None


def _checked_lines(request: RoutingRequest) -> list[tuple[int, int]]:
    problems = []
    if request.method not in (DELIVERY, PICKUP):
        problems.append(f"method must be '{DELIVERY}' or '{PICKUP}', not {request.method!r}")
    if request.method == DELIVERY and request.destination is None:
        problems.append("a delivery needs destination coordinates")
    if request.method == PICKUP and request.pickup_location_id is None:
        problems.append("a pickup needs pickup_location_id")
    if not request.lines:
        problems.append("the order has no lines")
    bad = sorted(sku for sku, qty in request.lines.items() if not isinstance(qty, int) or qty < 1)
    if bad:
        problems.append(f"quantities must be positive whole numbers (SKU ids {', '.join(map(str, bad))})")
    if problems:
        raise RoutingError("Cannot route: " + "; ".join(problems) + ".")
    return sorted(request.lines.items())


def _pickup_store(request: RoutingRequest, candidates: Sequence[Candidate]) -> Candidate | None:
    if request.method != PICKUP:
        return None
    store = next((c for c in candidates if c.location_id == request.pickup_location_id), None)
    if store is None:
        raise RoutingError(f"Cannot route: pickup location {request.pickup_location_id} is not a candidate.")
    if not store.pickup:
        raise RoutingError(f"Cannot route: {store.code} has no pickup; customers cannot collect there.")
    return store


def _assess(request, candidates, policy, lines, origin) -> tuple[list[Option], int]:
    """Score every candidate holding any of the stock; count those holding none.

    This loop runs over the whole network for every order, so it is kept lean.
    """
    needs = [(1 << bit, sku, qty) for bit, (sku, qty) in enumerate(lines)]
    pickup = request.method == PICKUP
    lat0, lon0 = math.radians(origin[0]), math.radians(origin[1])
    cos_lat0 = math.cos(lat0)
    weight_km, fixed_score = DISTANCE.weight(policy), fixed_scorer(policy)
    options, without_stock = [], 0
    for c in candidates:
        get = c.stock.get
        mask = holds = 0
        for bit, sku, qty in needs:
            have = get(sku, 0)
            if have > 0:
                holds = 1
                if have >= qty:
                    mask |= bit
        if not holds:
            without_stock += 1
            continue
        # Haversine: cheap enough for every candidate; geopy re-measures the finalists.
        lat = math.radians(c.lat)
        h = math.sin((lat - lat0) / 2) ** 2 + cos_lat0 * math.cos(lat) * math.sin((math.radians(c.lon) - lon0) / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
        ruled_out = _ruled_out(c, request, policy)
        if ruled_out:
            options.append(Option(c, mask, km, ruled_out, 0, 0.0))
            continue
        lead = _lead_minutes(c, request.pickup_location_id, policy) if pickup else 0
        options.append(Option(c, mask, km, None, lead, weight_km * km + fixed_score(c)))
    return options, without_stock


def _ruled_out(c: Candidate, request: RoutingRequest, policy: RoutingPolicy) -> str | None:
    if c.location_id in request.excluded:
        return "excluded"
    if c.location_id in request.unavailable:
        return request.unavailable[c.location_id]
    if c.capacity_left is not None and c.capacity_left <= 0:
        return "capacity full"
    # Sending stock to a pickup store is an internal transfer: only delivery needs `ships`.
    if request.method == DELIVERY:
        if not c.ships:
            return "cannot ship"
        if c.kind != WAREHOUSE and not policy.allow_ship_from_store:
            return "ship-from-store is off in this policy"
    return None


def _lead_minutes(c: Candidate, pickup_location_id: int | None, policy: RoutingPolicy) -> int:
    if c.location_id == pickup_location_id:
        return policy.pickup_prep_minutes
    if c.kind == WAREHOUSE:
        return policy.transfer_lead_hours_warehouse * 60
    return policy.transfer_lead_hours_store * 60


def _groups(options: list[Option], policy: RoutingPolicy) -> list[Group]:
    """Group the usable options by the lines they fill and how soon; only a group's best can be in a plan."""
    by_key = defaultdict(list)
    for o in options:
        if o.ruled_out is None:
            by_key[(o.mask, o.lead)].append(o)
    err = APPROXIMATION_ERROR * DISTANCE.weight(policy)
    return [
        Group(
            mask,
            lead,
            members,
            min(o.total - err * o.km for o in members),
            min(o.total + err * o.km for o in members),
        )
        for (mask, lead), members in by_key.items()
    ]


def _best_of(group: Group, origin, policy: RoutingPolicy) -> Option:
    """Return the group's best option, measuring exactly the ones the approximation cannot tell apart."""
    if group.best is None:
        err = APPROXIMATION_ERROR * DISTANCE.weight(policy)
        close = [o for o in group.members if o.total - err * o.km <= group.high]
        for o in close:
            measure_exactly(o, origin, policy)
        group.best = min(close, key=option_rank)
    return group.best


def _undominated(groups: list[Group]) -> list[Group]:
    """Drop the groups another one certainly beats: it fills a superset of their lines as soon, scoring lower."""
    by_high = sorted(groups, key=lambda g: g.high)
    kept = []
    for g in groups:
        beaten = False
        for other in by_high:
            if other.high >= g.low:
                break
            if g.mask & ~other.mask == 0 and other.lead <= g.lead:
                beaten = True
                break
        if not beaten:
            kept.append(g)
    return kept


def _covers(groups: list[Group], full: int, size: int) -> list[list[Group]]:
    """Return every set of at most `size` groups that together fill every line."""
    line_count = full.bit_length()
    holders = [sum(1 for g in groups if g.mask >> bit & 1) for bit in range(line_count)]
    found = []

    def search(chosen: list[Group], covered: int) -> None:
        if covered == full:
            found.append(chosen)
            return
        if len(chosen) == size:
            return
        # Every cover must fill the line the fewest groups can fill: branch on it.
        pivot = min((bit for bit in range(line_count) if not covered >> bit & 1), key=holders.__getitem__)
        for g in groups:
            if g.mask >> pivot & 1 and g not in chosen:
                search([*chosen, g], covered | g.mask)

    search([], 0)
    return found


def _best_split(groups: list[Group], full: int, origin, policy: RoutingPolicy) -> list[Option] | None:
    """Return the best plan of the fewest locations, at most `max_splits`, or None.

    Plans of one size are ranked by when the last goods are ready, then by total score.
    Only the groups of plans that could beat the best-looking one within the distance
    approximation's error are measured exactly.
    """
    for size in range(2, policy.max_splits + 1):
        covers = _covers(groups, full, size)
        if covers:
            break
    else:
        return None
    looks_best = min(covers, key=lambda cover: (max(g.lead for g in cover), sum(g.low + g.high for g in cover)))
    lead = max(g.lead for g in looks_best)
    budget = sum(g.high for g in looks_best) + 1e-9  # float sums are not exact
    contenders = [c for c in covers if max(g.lead for g in c) <= lead and sum(g.low for g in c) <= budget]

    def rank(cover: list[Group]) -> tuple:
        best = sorted((_best_of(g, origin, policy) for g in cover), key=lambda o: o.candidate.location_id)
        return (round(sum(o.total for o in best), 9), [o.candidate.location_id for o in best])

    return sorted((_best_of(g, origin, policy) for g in min(contenders, key=rank)), key=option_rank)


def _first_id(group: Group) -> int:
    return min(o.candidate.location_id for o in group.members)


def _partial_plan(groups: list[Group], lines, origin, policy: RoutingPolicy) -> list[Option]:
    """Greedily pick up to `max_splits` locations filling the most units, for the fallback."""

    def gain(g: Group, covered: int) -> int:
        return sum(qty for bit, (_, qty) in enumerate(lines) if (g.mask & ~covered) >> bit & 1)

    chosen, covered = [], 0
    for _ in range(policy.max_splits):
        gains = {g: gain(g, covered) for g in groups if g not in chosen}
        remaining = [g for g, units in gains.items() if units]
        if not remaining:
            break
        pick = min(remaining, key=lambda g: (-gains[g], g.lead, g.low + g.high, _first_id(g)))
        chosen.append(pick)
        covered |= pick.mask
    return [_best_of(g, origin, policy) for g in chosen]


def _assign(chosen: list[Option], line_count: int) -> dict[Option, int]:
    """Give each line to the soonest-ready, best-scoring chosen option that can fill it."""
    assigned = {o: 0 for o in chosen}
    for bit in range(line_count):
        fillers = [o for o in chosen if o.mask >> bit & 1]
        if fillers:
            assigned[min(fillers, key=option_rank)] |= 1 << bit
    return assigned


def _planned_group(o: Option, mask: int, lines, pickup_store: Candidate | None, now: datetime) -> PlannedGroup:
    c = o.candidate
    taken = {sku: qty for bit, (sku, qty) in enumerate(lines) if mask >> bit & 1}
    if pickup_store:
        ready_by = now + timedelta(minutes=o.lead)
        return PlannedGroup(pickup_store.location_id, CLICK_AND_COLLECT, taken, c.location_id, ready_by)
    method = SHIP_FROM_WAREHOUSE if c.kind == WAREHOUSE else SHIP_FROM_STORE
    return PlannedGroup(c.location_id, method, taken, c.location_id, None)
