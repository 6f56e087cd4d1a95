"""Scoring candidates with the policy's terms: the options routing weighs and how they rank."""

from __future__ import annotations

from dataclasses import dataclass

from geopy.distance import geodesic

from .policy import Candidate, RoutingPolicy
from .terms import DISTANCE, FIXED_TERMS, TERMS

# A sphere is off the WGS84 ellipsoid by at most about 0.56%: candidates whose spherical
# score is within this share of the best are re-measured with geopy before anything is decided.
APPROXIMATION_ERROR = 0.006


@dataclass(eq=False, slots=True)
class Option:
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
class Group:
    """Usable options filling the same lines, ready as soon, with bounds on their best exact score."""

    mask: int
    lead: int
    members: list[Option]
    low: float
    high: float
    best: Option | None = None


def fixed_scorer(policy: RoutingPolicy):
    """The score of the terms that do not depend on distance, as a function of a candidate.

    Built once per order: terms weighted 0 are left out of the loop over the network
    (adding their 0 would not change any sum).
    """
    weighted = [(t.weight(policy), t.measure) for t in FIXED_TERMS if t.weight(policy) != 0]

    def score(c: Candidate) -> float:
        total = 0.0
        for weight, measure in weighted:
            total += weight * measure(c, 0.0)
        return total

    return score


def score_parts(o: Option, policy: RoutingPolicy) -> dict[str, float]:
    """Each explained term's weighted part of the option's score, by term key."""
    return {t.key: t.weight(policy) * t.measure(o.candidate, o.km) for t in TERMS if t.explained(policy)}


def score_components(o: Option, policy: RoutingPolicy) -> dict[str, float]:
    parts = {**score_parts(o, policy), "total": o.total}
    return {name: round(value, 2) + 0.0 for name, value in parts.items()}  # + 0.0 turns -0.0 into 0.0


def measure_exactly(o: Option, origin, policy: RoutingPolicy) -> None:
    """Replace the spherical distance by the geodesic one."""
    if o.exact:
        return
    km = geodesic(origin, (o.candidate.lat, o.candidate.lon)).km if o.km else 0.0
    o.total += DISTANCE.weight(policy) * (km - o.km)
    o.km, o.exact = km, True


def option_rank(o: Option) -> tuple:
    return (o.lead, o.total, o.candidate.location_id)
