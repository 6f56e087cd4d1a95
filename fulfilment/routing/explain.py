"""What routing stores with every plan: each candidate's outcome, the score's terms and a summary.

Compact enough to keep on every order; the format is described in docs/routing.md.
"""

from __future__ import annotations

from collections import Counter

from .policy import PICKUP, ROUTED, RoutingPolicy
from .scoring import APPROXIMATION_ERROR, Option, measure_exactly, option_rank, score_components, score_parts
from .terms import DISTANCE, TERMS

TERMS_BY_KEY = {t.key: t for t in TERMS}


def judge(options, chosen, assigned, status, full, policy, origin) -> None:
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


def _lost_to(o: Option, winner: Option, policy: RoutingPolicy, origin) -> tuple[str, str]:
    """Return why `o` lost to `winner`, and the figures that show it."""
    code = winner.candidate.code
    if o.lead > winner.lead:
        return f"ready later than {code}", ""
    if abs(o.total - winner.total) <= APPROXIMATION_ERROR * DISTANCE.weight(policy) * (o.km + winner.km):
        measure_exactly(o, origin, policy)
        measure_exactly(winner, origin, policy)
    mine, theirs = score_parts(o, policy), score_parts(winner, policy)
    worse = {name: mine[name] - theirs[name] for name in mine}
    reason = max(worse, key=worse.get)
    if worse[reason] <= 0:
        return f"same score as {code}; the lower location id wins", ""
    if reason == DISTANCE.key:
        return f"{DISTANCE.lost_reason} than {code}", f"{o.km:.1f} vs {winner.km:.1f} km"
    return f"{TERMS_BY_KEY[reason].lost_reason} than {code}", f"score {o.total:.2f} vs {winner.total:.2f}; lower wins"


def explain(request, policy, lines, options, chosen, summary, without_stock) -> dict:
    """Describe the decision compactly enough to store with every order.

    The chosen locations come first, then the others nearest first, which answers an
    agent's usual question ("why not the store next door?"); past `explain_limit` rows
    they are only counted by outcome.
    """
    chosen_set = set(chosen)
    others = sorted((o for o in options if o not in chosen_set), key=lambda o: (o.km, o.candidate.location_id))
    limit = max(policy.explain_limit - len(chosen), 0)
    listed, unlisted = sorted(chosen, key=option_rank) + others[:limit], others[limit:]
    return {
        "summary": summary,
        "policy": {
            "version": policy.version,
            "max_splits": policy.max_splits,
            "fallback": policy.fallback,
            "weights": {t.explain_key: t.weight(policy) for t in TERMS if t.explained(policy)},
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


def _row(o: Option, lines, policy: RoutingPolicy) -> dict:
    row = {
        "code": o.candidate.code,
        "location_id": o.candidate.location_id,
        "kind": o.candidate.kind,
        "distance_km": round(o.km, 1),
        "fills": [sku for bit, (sku, _) in enumerate(lines) if o.mask >> bit & 1],
    }
    if not o.ruled_out:
        row["score"] = score_components(o, policy)
    if o.lead:
        row["lead_hours"] = round(o.lead / 60, 1)
    row["outcome"] = f"{o.outcome} ({o.detail})" if o.detail else o.outcome
    return row


def plan_summary(request, policy, options, chosen, assigned, groups, unfilled, status, pickup_store) -> str:
    if status != ROUTED:
        missing = ", ".join(f"SKU {sku} x{qty}" for sku, qty in unfilled.items())
        kept = f"; {len(groups)} fulfilment(s) go ahead for the rest" if groups else ""
        return f"{status.capitalize()}: no plan of at most {policy.max_splits} fulfilment(s) fills {missing}{kept}."
    if request.method == PICKUP:
        ready = max(g.ready_by for g in groups).isoformat(timespec="minutes")

        def source(o: Option) -> str:
            return "its own stock" if o.candidate is pickup_store else f"a transfer from {o.candidate.code}"

        if len(chosen) == 1:
            return f"Collect at {pickup_store.code} from {source(chosen[0])}, ready by {ready}."
        parts = ", ".join(
            f"{bin(assigned[o]).count('1')} line(s) from {source(o)}" for o in sorted(chosen, key=option_rank)
        )
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
        f"{o.candidate.code} ({bin(assigned[o]).count('1')} line(s), {o.km:.1f} km)"
        for o in sorted(chosen, key=option_rank)
    )
    return f"No single location can fill the order; {len(chosen)} shipments: {parts}."
