"""What-if routing replays real orders under two policies side by side and changes nothing."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from geopy.distance import geodesic

from fulfilment.models import Fulfilment, RoutingPolicyVersion
from inventory.models import Reservation, StockMovement
from oms.models import Order, OrderLine
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db

TRAFALGAR = (51.5080, -0.1281)
TODAY = timezone.localdate().isoformat()


def past_order(network, lines, *, method="delivery", store=None, days_ago=0) -> Order:
    """An order as it was captured; the replay needs its lines, destination and method only."""
    lat, lon = (store.lat, store.lon) if store else TRAFALGAR
    order = Order.objects.create(
        channel=network.web,
        external_id=f"WEB-{Order.objects.count() + 1}",
        currency="GBP",
        method=method,
        pickup_location=store,
        lat=lat,
        lon=lon,
    )
    OrderLine.objects.bulk_create(OrderLine(order=order, sku=sku, quantity=q, unit_price=10) for sku, q in lines)
    if days_ago:
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return order


@pytest.fixture
def period(network):
    """A week of orders on a network where only the stores can fill some lines.

    The channel's live policy ships from the warehouse only; the candidate lets stores
    ship too. Soho can ship one parcel a day.
    """
    a, b, c = network.skus
    d = SkuFactory()
    network.stock(network.warehouse, a, 10)
    network.stock(network.warehouse, b, 10)
    network.stock(network.soho, a, 5)
    network.stock(network.camden, b, 5)
    network.stock(network.camden, d, 2)
    network.soho.daily_capacity = 1
    network.soho.save()
    RoutingPolicyVersion.objects.create(channel=network.web, version=1, data={"allow_ship_from_store": False})
    past_order(network, [(a, 3)], days_ago=10)  # before the period: not replayed
    past_order(network, [(a, 1)])
    past_order(network, [(a, 1), (b, 1)])  # the warehouse alone fills it under both
    past_order(network, [(b, 1)], method="pickup", store=network.camden)  # on camden's own shelf
    past_order(network, [(b, 1)], method="pickup", store=network.soho)  # transferred from camden
    past_order(network, [(a, 1)])  # soho has shipped its one parcel today
    past_order(network, [(c, 1)])  # nothing left anywhere
    past_order(network, [(a, 1), (d, 1)])  # d is only in camden
    return network


def simulate(*args) -> str:
    out = StringIO()
    call_command("simulate_routing", "--from", TODAY, "--to", TODAY, *args, stdout=out)
    return out.getvalue()


def km(location) -> float:
    return geodesic(TRAFALGAR, (location.lat, location.lon)).km


def test_ship_from_store_shortens_distance_at_the_cost_of_splits_and_capacity(period, tmp_path):
    policy = tmp_path / "stores-ship.json"
    policy.write_text(json.dumps({"version": 2, "allow_ship_from_store": True}))
    to_warehouse = km(period.warehouse)
    with_stores = (km(period.soho) + 3 * to_warehouse + km(period.camden)) / 5

    lines = simulate("--policy", str(policy)).splitlines()

    assert lines[0] == f"Routing what-if, orders placed {TODAY} to {TODAY} (all channels), on today's stock"
    assert lines[1].split() == ["current", "(web", "v1)", "candidate", "(v2)"]
    assert [line.split("  ")[0] for line in lines[2:]] == [
        "orders",
        "split rate",
        "mean distance (km)",
        "ship-from-store share",
        "click & collect ready now",
        "capacity breaches",
        "unfillable orders",
    ]
    assert [line.split()[-2:] for line in lines[2:]] == [
        ["7", "7"],
        ["0.0%", "16.7%"],
        [f"{to_warehouse:.1f}", f"{with_stores:.1f}"],
        ["0.0%", "40.0%"],
        ["50.0%", "50.0%"],
        ["0", "2"],
        ["2", "1"],
    ]


def test_json_report_and_a_stored_policy_version_as_the_candidate(period):
    RoutingPolicyVersion.objects.create(
        channel=period.web, version=2, data={"allow_ship_from_store": True}, active=False, note="trial"
    )

    report = json.loads(simulate("--policy-version", "2", "--channel", "web", "--json"))

    assert report["current_policy_versions"] == {"web": 1}
    assert report["candidate_policy_version"] == 2
    assert report["current"] == {
        "orders": 7,
        "split_rate": 0.0,
        "mean_distance_km": pytest.approx(km(period.warehouse)),
        "ship_from_store_share": 0.0,
        "click_and_collect_ready_now_share": 0.5,
        "capacity_breaches": 0,
        "unfillable_orders": 2,
    }
    assert report["candidate"]["split_rate"] == pytest.approx(1 / 6)
    assert report["candidate"]["capacity_breaches"] == 2


def test_replay_reserves_nothing_and_creates_no_fulfilment(period, tmp_path):
    policy = tmp_path / "p.json"
    policy.write_text("{}")
    movements = StockMovement.objects.count()
    simulate("--policy", str(policy))
    assert StockMovement.objects.count() == movements
    assert not Reservation.objects.exists()
    assert not Fulfilment.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy-version", "9"], "No routing policy version 9"),
        (["--policy-version", "1", "--channel", "nope"], "Unknown channel"),
        (["--policy", "missing.json"], "Cannot use missing.json"),
    ],
)
def test_bad_candidate_is_refused_with_the_reason(period, args, message):
    with pytest.raises(CommandError, match=message):
        simulate(*args)


def test_invalid_policy_file_names_the_problem(period, tmp_path):
    policy = tmp_path / "bad.json"
    policy.write_text(json.dumps({"max_splits": 0, "colour": "blue"}))
    with pytest.raises(CommandError, match="unknown fields colour"):
        simulate("--policy", str(policy))
