"""Routing's plain data: the candidates, the policy, the request and the plan.

No ORM and no database, so the same engine routes live orders, runs in benchmarks and
replays past orders under another policy (docs/routing.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime

from core.errors import InvalidInput

from .terms import DISTANCE, MAX_WEIGHT, TERMS

DELIVERY = "delivery"
PICKUP = "pickup"
SHIP_FROM_WAREHOUSE = "ship_from_warehouse"
SHIP_FROM_STORE = "ship_from_store"
CLICK_AND_COLLECT = "click_and_collect"
ROUTED = "routed"
FALLBACKS = ("backorder", "hold", "reject")
WAREHOUSE = "warehouse"

# A policy's ranges: beyond them ready dates leave the calendar (weights: terms.MAX_WEIGHT).
MAX_LEAD_HOURS = 24 * 365
MAX_SPLITS = 10
WEIGHTS = tuple(t.weight_field for t in TERMS)
LEAD_HOURS = ("transfer_lead_hours_warehouse", "transfer_lead_hours_store")
_DEFAULT = {t.key: t.default for t in TERMS}


class RoutingError(InvalidInput):
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
    priority: int  # a weighted score term (terms.py)
    capacity_left: int | None  # fulfilments it can still take today; None = unlimited
    stock: Mapping[int, int]  # sku_id -> ATP for the ordering channel
    cost: float = 0.0  # cost of one shipment from here to the destination's zone
    daily_capacity: int | None = None  # to weigh how busy it already is; None = not weighed


@dataclass(frozen=True)
class RoutingPolicy:
    """Versioned routing settings of one channel, stored as JSON; the weights are the terms' (terms.py)."""

    version: int = 1
    max_splits: int = 3
    fallback: str = "reject"
    weight_distance: float = _DEFAULT["distance"]
    weight_priority: float = _DEFAULT["priority"]
    weight_cost: float = _DEFAULT["cost"]
    weight_load: float = _DEFAULT["load"]
    weight_store: float = _DEFAULT["store"]
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
        if DISTANCE.weight(self) < 0:
            problems.append(f"{DISTANCE.weight_field} must not be negative")
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
