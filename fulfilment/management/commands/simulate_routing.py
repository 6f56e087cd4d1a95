"""Replay a period's orders under the current routing policy and a candidate one, side by side."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from fulfilment.models import RoutingPolicyVersion
from fulfilment.routing.candidates import routing_policy_for
from fulfilment.routing.policy import RoutingError, RoutingPolicy
from fulfilment.simulation import orders_for_replay, simulate_routing, stock_snapshot
from inventory.models import Channel

ROWS = [
    ("orders", "orders", "{:d}"),
    ("split_rate", "split rate", "{:.1%}"),
    ("mean_distance_km", "mean distance (km)", "{:.1f}"),
    ("ship_from_store_share", "ship-from-store share", "{:.1%}"),
    ("click_and_collect_ready_now_share", "click & collect ready now", "{:.1%}"),
    ("capacity_breaches", "capacity breaches", "{:d}"),
    ("unfillable_orders", "unfillable orders", "{:d}"),
]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}.") from exc


def _policy_file(path: Path) -> dict:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


class Command(BaseCommand):
    help = (
        "What-if routing: replay the orders placed between --from and --to (inclusive) under each channel's "
        "current policy and under a candidate policy, on today's stock, without changing anything; "
        "print split rate, mean distance, ship-from-store share, ready-now share, capacity breaches and "
        "unfillable orders side by side. Approximations: fulfilment/simulation.py."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="end", required=True, help="Last day, YYYY-MM-DD (included).")
        parser.add_argument("--channel", help="Only this channel's orders (and its policy versions).")
        candidate = parser.add_mutually_exclusive_group(required=True)
        candidate.add_argument("--policy", type=Path, help="Candidate policy as a JSON file (RoutingPolicy fields).")
        candidate.add_argument("--policy-version", type=int, help="Candidate: a stored routing policy version.")
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="Print one JSON object instead of a table."
        )

    def handle(self, *args, start, end, channel, policy, policy_version, as_json, **options):
        first, last = _day(start), _day(end)
        if last < first:
            raise CommandError("--to is before --from.")
        channel_obj = None
        if channel:
            channel_obj = Channel.objects.filter(code=channel).first()
            if channel_obj is None:
                raise CommandError(f"Unknown channel {channel!r}.")
        candidate = self._candidate(policy, policy_version, channel_obj)

        begin = timezone.make_aware(datetime.combine(first, time.min))
        orders = orders_for_replay(start=begin, end=begin + timedelta((last - first).days + 1), channel=channel_obj)
        channels = Channel.objects.in_bulk({o.channel_id for o in orders})
        current = {pk: routing_policy_for(channel=c) for pk, c in channels.items()}
        results = simulate_routing(
            orders=orders, snapshot=stock_snapshot(orders=orders), current=current, candidate=candidate
        )
        report = {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "channel": channel,
            "current_policy_versions": {channels[pk].code: p.version for pk, p in sorted(current.items())},
            "candidate_policy_version": candidate.version,
            **results,
        }
        self.stdout.write(json.dumps(report, indent=2) if as_json else self._table(report))

    def _candidate(self, path: Path | None, version: int | None, channel: Channel | None) -> RoutingPolicy:
        if path is not None:
            try:
                return RoutingPolicy.from_dict(_policy_file(path))
            except (OSError, ValueError, TypeError, RoutingError) as exc:
                raise CommandError(f"Cannot use {path} as a routing policy: {exc}") from exc
        row = RoutingPolicyVersion.objects.filter(channel=channel, version=version).first()
        if row is None:
            whose = f"channel {channel.code}" if channel else "the default policy (no channel)"
            raise CommandError(f"No routing policy version {version} for {whose}.")
        try:
            return RoutingPolicy.from_dict({**row.data, "version": row.version})
        except (RoutingError, TypeError) as exc:
            raise CommandError(f"Stored policy version {version} is invalid: {exc}") from exc

    def _table(self, report: dict) -> str:
        versions = ", ".join(f"{code} v{v}" for code, v in report["current_policy_versions"].items()) or "none"
        heads = (f"current ({versions})", f"candidate (v{report['candidate_policy_version']})")
        width = max(len(h) for h in heads) + 2
        scope = f"channel {report['channel']}" if report["channel"] else "all channels"
        lines = [
            f"Routing what-if, orders placed {report['from']} to {report['to']} ({scope}), on today's stock",
            f"{'':<28}" + "".join(f"{h:>{width}}" for h in heads),
        ]
        for key, label, fmt in ROWS:
            cells = [report[name][key] for name in ("current", "candidate")]
            lines.append(f"{label:<28}" + "".join(f"{'-' if v is None else fmt.format(v):>{width}}" for v in cells))
        return "\n".join(lines)
