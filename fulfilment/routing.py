"""Choose where an order is fulfilled: the routing (sourcing) engine.

A pure function over plain data, with no ORM and no database, so the same code routes
live orders, runs in benchmarks and replays past orders under another policy in what-if
simulations. How it decides and what the explanation holds: docs/routing.md.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime, timedelta

from geopy.distance import geodesic

DELIVERY = "delivery"
PICKUP = "pickup"
SHIP_FROM_WAREHOUSE = "ship_from_warehouse"
SHIP_FROM_STORE = "ship_from_store"
CLICK_AND_COLLECT = "click_and_collect"
ROUTED = "routed"
FALLBACKS = ("backorder", "hold", "reject")
WAREHOUSE = "warehouse"

EARTH_RADIUS_KM = 6371.0088
# A sphere is off the WGS84 ellipsoid by at most about 0.56%: candidates whose spherical
# score is within this share of the best are re-measured with geopy before anything is decided.
APPROXIMATION_ERROR = 0.006
# A policy's ranges: beyond them scores lose their meaning (a weight of 1e308 makes every
# score infinite) and ready dates leave the calendar.
MAX_WEIGHT = 10_000.0
MAX_LEAD_HOURS = 24 * 365
MAX_SPLITS = 10
WEIGHTS = ("weight_distance", "weight_priority", "weight_cost", "weight_load")
LEAD_HOURS = ("transfer_lead_hours_warehouse", "transfer_lead_hours_store")


class RoutingError(ValueError):
    """The request or policy cannot be routed as given: bad input, not a shortage of stock."""


@dataclass(frozen=True)
class Candidate:
    """One location as routing sees it."""

    location_id: int
    code: str
    kind: str  # "warehouse" | "store"
    lat: float
    lon: float
    ships: bool
    pickup: bool
    priority: int  # higher wins a tie
    capacity_left: int | None  # fulfilments it can still take today; None = unlimited
    stock: Mapping[int, int]  # sku_id -> ATP for the ordering channel
    cost: float = 0.0  # cost per shipment from here
    daily_capacity: int | None = None  # to weigh how busy it already is; None = not weighed


@dataclass(frozen=True)
class RoutingPolicy:
    """Versioned routing settings of one channel, stored as JSON."""

    version: int = 1
    max_splits: int = 3
    fallback: str = "reject"
    weight_distance: float = 1.0
    weight_priority: float = 10.0
    weight_cost: float = 1.0
    weight_load: float = 20.0
    allow_ship_from_store: bool = True
    transfer_lead_hours_warehouse: int = 48
    transfer_lead_hours_store: int = 24
    pickup_prep_minutes: int = 30
    # A warehouse that misses its accept deadline loses the work too (stores always do).
    reroute_warehouse_on_deadline: bool = False
    explain_limit: int = 20  # candidates described one by one; the rest are counted by outcome

    def __post_init__(self):
        problems = []
        if self.fallback not in FALLBACKS:
            problems.append(f"fallback must be one of {', '.join(FALLBACKS)}")
        if not 1 <= self.max_splits <= MAX_SPLITS:
            problems.append(f"max_splits must be from 1 to {MAX_SPLITS}")
        for name in WEIGHTS:
            if not (math.isfinite(getattr(self, name)) and abs(getattr(self, name)) <= MAX_WEIGHT):
                problems.append(f"{name} must be a number from -{MAX_WEIGHT:,.0f} to {MAX_WEIGHT:,.0f}")
        for name in LEAD_HOURS:
            if not 0 <= getattr(self, name) <= MAX_LEAD_HOURS:
                problems.append(f"{name} must be from 0 to {MAX_LEAD_HOURS:,} hours")
        if not isinstance(self.reroute_warehouse_on_deadline, bool):
            problems.append("reroute_warehouse_on_deadline must be true or false")
        # Distance must not reward being far away, or the spherical pre-ranking would be unsound.
        if self.weight_distance < 0:
            problems.append("weight_distance must not be negative")
        if problems:
            raise RoutingError("Invalid routing policy: " + "; ".join(problems) + ".")

    @classmethod
    def from_dict(cls, data: Mapping) -> RoutingPolicy:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise RoutingError(f"Invalid routing policy: unknown fields {', '.join(sorted(unknown))}.")
        return cls(**data)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RoutingRequest:
    lines: Mapping[int, int]  # sku_id -> quantity
    method: str  # "delivery" | "pickup"
    destination: tuple[float, float] | None  # (lat, lon); ignored for pickup
    now: datetime
    pickup_location_id: int | None = None
    excluded: frozenset[int] = frozenset()  # declined before, closed, frozen
    unavailable: Mapping[int, str] = field(default_factory=dict)  # paused or closed today: location id -> why


@dataclass(frozen=True)
class PlannedGroup:
    location_id: int  # where the customer's fulfilment is executed (for pickup: the pickup store)
    method: str
    lines: Mapping[int, int]  # sku_id -> quantity taken from source_location_id
    source_location_id: int  # where the stock is reserved
    ready_by: datetime | None  # click-and-collect only


@dataclass(frozen=True)
class RoutingPlan:
    status: str  # "routed" | "backorder" | "hold" | "reject"
    groups: tuple[PlannedGroup, ...]
    unfilled: Mapping[int, int]
    explanation: dict
    policy_version: int


@dataclass(eq=False, slots=True)
class _Option:
    """A candidate holding some of the stock, with what it can fill and its score."""

    candidate: Candidate
    mask: int  # one bit per line it can fill in full
    km: float
    ruled_out: str | None
    lead: int  # minutes until the goods are at the pickup store; 0 for delivery
    total: float  # the score, lower wins; not computed for ruled-out options
    exact: bool = False
    outcome: str = ""
    detail: str = ""  # the figures behind the outcome, shown only when the option is listed


@dataclass(eq=False, slots=True)
class _Group:
    """Usable options filling the same lines, ready as soon, with bounds on their best exact score."""

    mask: int
    lead: int
    members: list[_Option]
    low: float
    high: float
    best: _Option | None = None


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
        chosen = [min(single, key=_rank)]
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
    _judge(options, chosen, assigned, status, full, policy, origin)
    summary = _summary(request, policy, options, chosen, assigned, planned, unfilled, status, pickup_store)
    explanation = _explain(request, policy, lines, options, chosen, summary, without_stock)
    return RoutingPlan(status, planned, unfilled, explanation, policy.version)


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
        _Group(mask, lead, [], 0.0, 0.0)
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


def _assess(request, candidates, policy, lines, origin) -> tuple[list[_Option], int]:
    """Score every candidate holding any of the stock; count those holding none.

    This loop runs over the whole network for every order, so it is kept lean.
    """
    needs = [(1 << bit, sku, qty) for bit, (sku, qty) in enumerate(lines)]
    pickup = request.method == PICKUP
    lat0, lon0 = math.radians(origin[0]), math.radians(origin[1])
    cos_lat0 = math.cos(lat0)
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
            options.append(_Option(c, mask, km, ruled_out, 0, 0.0))
            continue
        lead = _lead_minutes(c, request.pickup_location_id, policy) if pickup else 0
        options.append(_Option(c, mask, km, None, lead, policy.weight_distance * km + _fixed_score(c, policy)))
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


def _load(c: Candidate) -> float:
    """Share of the day's capacity already used."""
    if not c.daily_capacity or c.capacity_left is None:
        return 0.0
    return min(1.0, max(0.0, 1 - c.capacity_left / c.daily_capacity))


def _fixed_score(c: Candidate, policy: RoutingPolicy) -> float:
    return -policy.weight_priority * c.priority + policy.weight_cost * c.cost + policy.weight_load * _load(c)


def _parts(o: _Option, policy: RoutingPolicy) -> dict[str, float]:
    c = o.candidate
    return {
        "distance": policy.weight_distance * o.km,
        "priority": -policy.weight_priority * c.priority,
        "cost": policy.weight_cost * c.cost,
        "load": policy.weight_load * _load(c),
    }


def _components(o: _Option, policy: RoutingPolicy) -> dict[str, float]:
    parts = {**_parts(o, policy), "total": o.total}
    return {name: round(value, 2) + 0.0 for name, value in parts.items()}  # + 0.0 turns -0.0 into 0.0


def _measure(o: _Option, origin, policy: RoutingPolicy) -> None:
    """Replace the spherical distance by the geodesic one."""
    if o.exact:
        return
    km = geodesic(origin, (o.candidate.lat, o.candidate.lon)).km if o.km else 0.0
    o.total += policy.weight_distance * (km - o.km)
    o.km, o.exact = km, True


def _rank(o: _Option) -> tuple:
    return (o.lead, o.total, o.candidate.location_id)


def _groups(options: list[_Option], policy: RoutingPolicy) -> list[_Group]:
    """Group the usable options by the lines they fill and how soon; only a group's best can be in a plan."""
    by_key = defaultdict(list)
    for o in options:
        if o.ruled_out is None:
            by_key[(o.mask, o.lead)].append(o)
    err = APPROXIMATION_ERROR * policy.weight_distance
    return [
        _Group(
            mask,
            lead,
            members,
            min(o.total - err * o.km for o in members),
            min(o.total + err * o.km for o in members),
        )
        for (mask, lead), members in by_key.items()
    ]


def _best_of(group: _Group, origin, policy: RoutingPolicy) -> _Option:
    """Return the group's best option, measuring exactly the ones the approximation cannot tell apart."""
    if group.best is None:
        err = APPROXIMATION_ERROR * policy.weight_distance
        close = [o for o in group.members if o.total - err * o.km <= group.high]
        for o in close:
            _measure(o, origin, policy)
        group.best = min(close, key=_rank)
    return group.best


def _undominated(groups: list[_Group]) -> list[_Group]:
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


def _covers(groups: list[_Group], full: int, size: int) -> list[list[_Group]]:
    """Return every set of at most `size` groups that together fill every line."""
    line_count = full.bit_length()
    holders = [sum(1 for g in groups if g.mask >> bit & 1) for bit in range(line_count)]
    found = []

    def search(chosen: list[_Group], covered: int) -> None:
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


def _best_split(groups: list[_Group], full: int, origin, policy: RoutingPolicy) -> list[_Option] | None:
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

    def rank(cover: list[_Group]) -> tuple:
        best = sorted((_best_of(g, origin, policy) for g in cover), key=lambda o: o.candidate.location_id)
        return (round(sum(o.total for o in best), 9), [o.candidate.location_id for o in best])

    return sorted((_best_of(g, origin, policy) for g in min(contenders, key=rank)), key=_rank)


def _first_id(group: _Group) -> int:
    return min(o.candidate.location_id for o in group.members)


def _partial_plan(groups: list[_Group], lines, origin, policy: RoutingPolicy) -> list[_Option]:
    """Greedily pick up to `max_splits` locations filling the most units, for the fallback."""

    def gain(g: _Group, covered: int) -> int:
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


def _assign(chosen: list[_Option], line_count: int) -> dict[_Option, int]:
    """Give each line to the soonest-ready, best-scoring chosen option that can fill it."""
    assigned = {o: 0 for o in chosen}
    for bit in range(line_count):
        fillers = [o for o in chosen if o.mask >> bit & 1]
        if fillers:
            assigned[min(fillers, key=_rank)] |= 1 << bit
    return assigned


def _planned_group(o: _Option, mask: int, lines, pickup_store: Candidate | None, now: datetime) -> PlannedGroup:
    c = o.candidate
    taken = {sku: qty for bit, (sku, qty) in enumerate(lines) if mask >> bit & 1}
    if pickup_store:
        ready_by = now + timedelta(minutes=o.lead)
        return PlannedGroup(pickup_store.location_id, CLICK_AND_COLLECT, taken, c.location_id, ready_by)
    method = SHIP_FROM_WAREHOUSE if c.kind == WAREHOUSE else SHIP_FROM_STORE
    return PlannedGroup(c.location_id, method, taken, c.location_id, None)


def _judge(options, chosen, assigned, status, full, policy, origin) -> None:
    """Set every option's outcome: chosen, or why it lost."""
    for o in chosen:
        o.outcome = "chosen" if status in (ROUTED, "backorder") else "in the best partial plan"
    for o in options:
        if o.outcome:
            continue
        if o.ruled_out:
            o.outcome = o.ruled_out
        elif status != ROUTED:
            o.outcome = "not picked for the partial plan"
        elif len(chosen) == 1 and o.mask != full:
            o.outcome = "cannot fill the whole order and a single-location fill exists"
        else:
            # It lost to a chosen option whose lines it could have taken over, or to the whole plan.
            rivals = [w for w in chosen if assigned[w] & ~o.mask == 0]
            if rivals:
                o.outcome, o.detail = _lost_to(o, rivals[0], policy, origin)
            else:
                o.outcome = f"no better {len(chosen)}-shipment plan includes it"


def _lost_to(o: _Option, winner: _Option, policy: RoutingPolicy, origin) -> tuple[str, str]:
    """Return why `o` lost to `winner`, and the figures that show it."""
    code = winner.candidate.code
    if o.lead > winner.lead:
        return f"ready later than {code}", ""
    if abs(o.total - winner.total) <= APPROXIMATION_ERROR * policy.weight_distance * (o.km + winner.km):
        _measure(o, origin, policy)
        _measure(winner, origin, policy)
    mine, theirs = _parts(o, policy), _parts(winner, policy)
    worse = {name: mine[name] - theirs[name] for name in mine}
    reason = max(worse, key=worse.get)
    if worse[reason] <= 0:
        return f"same score as {code}; the lower location id wins", ""
    if reason == "distance":
        return f"farther than {code}", f"{o.km:.1f} vs {winner.km:.1f} km"
    label = {"priority": "lower priority", "cost": "higher cost", "load": "busier"}[reason]
    return f"{label} than {code}", f"score {o.total:.2f} vs {winner.total:.2f}; lower wins"


def _explain(request, policy, lines, options, chosen, summary, without_stock) -> dict:
    """Describe the decision compactly enough to store with every order.

    The chosen locations come first, then the others nearest first, which answers an
    agent's usual question ("why not the store next door?"); past `explain_limit` rows
    they are only counted by outcome.
    """
    chosen_set = set(chosen)
    others = sorted((o for o in options if o not in chosen_set), key=lambda o: (o.km, o.candidate.location_id))
    limit = max(policy.explain_limit - len(chosen), 0)
    listed, unlisted = sorted(chosen, key=_rank) + others[:limit], others[limit:]
    return {
        "summary": summary,
        "policy": {
            "version": policy.version,
            "max_splits": policy.max_splits,
            "fallback": policy.fallback,
            "weights": {
                "distance_per_km": policy.weight_distance,
                "priority": policy.weight_priority,
                "cost": policy.weight_cost,
                "load": policy.weight_load,
            },
        },
        "request": {
            "method": request.method,
            "lines": {str(sku): qty for sku, qty in lines},
            "destination": list(request.destination) if request.destination else None,
            "pickup_location_id": request.pickup_location_id,
            "excluded": sorted(request.excluded),
        },
        "candidates": [_row(o, lines, policy) for o in listed],
        "unlisted": dict(Counter(o.outcome for o in unlisted)),
        "without_stock": without_stock,
    }


def _row(o: _Option, lines, policy: RoutingPolicy) -> dict:
    row = {
        "code": o.candidate.code,
        "location_id": o.candidate.location_id,
        "kind": o.candidate.kind,
        "distance_km": round(o.km, 1),
        "fills": [sku for bit, (sku, _) in enumerate(lines) if o.mask >> bit & 1],
    }
    if not o.ruled_out:
        row["score"] = _components(o, policy)
    if o.lead:
        row["lead_hours"] = round(o.lead / 60, 1)
    row["outcome"] = f"{o.outcome} ({o.detail})" if o.detail else o.outcome
    return row


def _summary(request, policy, options, chosen, assigned, groups, unfilled, status, pickup_store) -> str:
    if status != ROUTED:
        missing = ", ".join(f"SKU {sku} x{qty}" for sku, qty in unfilled.items())
        kept = f"; {len(groups)} fulfilment(s) go ahead for the rest" if groups else ""
        return f"{status.capitalize()}: no plan of at most {policy.max_splits} fulfilment(s) fills {missing}{kept}."
    if request.method == PICKUP:
        ready = max(g.ready_by for g in groups).isoformat(timespec="minutes")

        def source(o: _Option) -> str:
            return "its own stock" if o.candidate is pickup_store else f"a transfer from {o.candidate.code}"

        if len(chosen) == 1:
            return f"Collect at {pickup_store.code} from {source(chosen[0])}, ready by {ready}."
        parts = ", ".join(f"{bin(assigned[o]).count('1')} line(s) from {source(o)}" for o in sorted(chosen, key=_rank))
        return f"Collect at {pickup_store.code}, ready by {ready}: {parts}."
    if len(chosen) == 1:
        winner = chosen[0]
        rivals = [o for o in options if o.mask == winner.mask and o is not winner and not o.ruled_out]
        head = f"Single shipment from {winner.candidate.code} ({winner.km:.1f} km)"
        if not rivals:
            return head + "; no other candidate could fill the whole order."
        why = "were farther" if all(o.outcome.startswith("farther") for o in rivals) else "scored worse"
        return head + f"; {len(rivals)} other candidate(s) could fill it but {why}."
    parts = ", ".join(
        f"{o.candidate.code} ({bin(assigned[o]).count('1')} line(s), {o.km:.1f} km)" for o in sorted(chosen, key=_rank)
    )
    return f"No single location can fill the order; {len(chosen)} shipments: {parts}."
