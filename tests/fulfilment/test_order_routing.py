from dataclasses import replace

import pytest

from fulfilment.models import Fulfilment
from fulfilment.routing.policy import RoutingPolicy
from inventory.exceptions import InsufficientStock
from inventory.models import Reservation
from inventory.selectors import inventory_discrepancies
from oms.models import Order
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_delivery_near_a_store_with_everything_ships_from_that_store(network):
    a, b = network.skus[:2]
    for loc in (network.soho, network.warehouse):
        network.stock(loc, a, 5)
        network.stock(loc, b, 5)
    order = place(network, [(a, 1), (b, 2)])
    [fulfilment] = order.fulfilments.all()
    assert (fulfilment.location, fulfilment.method) == (network.soho, "ship_from_store")
    assert order.status == Order.Status.ALLOCATED
    assert network.level(network.soho, b).reserved == 2
    assert network.level(network.warehouse, b).reserved == 0
    assert "ST-SOHO" in order.routing["summary"]


def test_order_no_single_location_can_fill_is_split_into_fewest_shipments(network):
    a, b, c = network.skus
    network.stock(network.soho, a, 1)
    network.stock(network.camden, b, 1)
    network.stock(network.leeds, c, 1)
    network.stock(network.warehouse, b, 1)
    network.stock(network.warehouse, c, 1)
    order = place(network, [(a, 1), (b, 1), (c, 1)])
    groups = {f.location.code: sorted(fl.sku.code for fl in f.lines.all()) for f in order.fulfilments.all()}
    assert groups == {"ST-SOHO": [a.code], "WH-MID": sorted([b.code, c.code])}


def test_capacity_full_store_is_skipped_and_the_explanation_says_so(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    network.stock(network.camden, a, 5)
    network.soho.daily_capacity = 1
    network.soho.save()
    first = place(network, [(a, 1)], external_id="WEB-1")
    second = place(network, [(a, 1)], external_id="WEB-2")
    assert first.fulfilments.get().location == network.soho
    assert second.fulfilments.get().location == network.camden
    soho = next(c for c in second.routing["candidates"] if c["code"] == "ST-SOHO")
    assert "capacity" in soho["outcome"]


def test_locations_holding_part_of_the_order_are_left_out_when_one_can_send_it_all(network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)  # nearest, but only part of the order
    network.stock(network.camden, b, 5)
    for sku in (a, b):
        network.stock(network.leeds, sku, 5)
    order = place(network, [(a, 1), (b, 1)])
    assert order.fulfilments.get().location == network.leeds
    assert [c["code"] for c in order.routing["candidates"]] == ["ST-LEEDS"]
    assert "Single shipment from ST-LEEDS" in order.routing["summary"]


def test_when_the_only_location_with_everything_is_full_the_order_is_split_over_the_others(network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    network.stock(network.camden, b, 5)
    for sku in (a, b):
        network.stock(network.leeds, sku, 5)
    network.leeds.daily_capacity = 0
    network.leeds.save()
    order = place(network, [(a, 1), (b, 1)])
    assert {f.location.code for f in order.fulfilments.all()} == {"ST-SOHO", "ST-CAMDEN"}
    leeds = next(c for c in order.routing["candidates"] if c["code"] == "ST-LEEDS")
    assert "capacity" in leeds["outcome"]


def test_shortfall_reserves_nothing_and_reports_each_line_with_alternatives(network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.leeds, b, 1)
    with pytest.raises(InsufficientStock) as exc:
        place(network, [(a, 3), (b, 1)])
    [short] = exc.value.shortfalls
    assert (short.sku, short.requested, short.available) == (a.code, 3, 1)
    assert short.alternatives[0]["store"] == "ST-SOHO"
    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert network.level(network.soho, a).reserved == 0


def test_same_external_id_returns_the_first_order_and_reserves_once(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    first = place(network, [(a, 1)])
    again = place(network, [(a, 1)])
    assert again.pk == first.pk
    assert network.level(network.soho, a).reserved == 1


def test_customer_is_recognised_across_formats_of_the_phone_number(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    one = place(network, [(a, 1)], external_id="WEB-1", customer={"phone": "07700 900123"})
    two = place(network, [(a, 1)], external_id="WEB-2", customer={"phone": "+44 7700 900123", "email": "x@example.com"})
    assert one.customer_id == two.customer_id
    assert one.customer.phone == "+447700900123"


def test_pickup_from_the_store_own_stock_is_ready_soon(network):
    a = network.skus[0]
    network.stock(network.camden, a, 2)
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 2)], method="pickup", store=network.camden)
    [f] = order.fulfilments.all()
    assert (f.location, f.source_location, f.method) == (network.camden, network.camden, "click_and_collect")
    assert inventory_discrepancies() == []


def test_cancelling_the_order_releases_its_stock(network):
    from oms.services import order_cancel

    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 2)])
    order_cancel(order=order, reason="customer changed mind")
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.fulfilments.get().status == Fulfilment.Status.CANCELLED
    assert network.level(network.soho, a).reserved == 0
    assert inventory_discrepancies() == []


def test_address_change_reroutes_when_another_location_is_now_best(network):
    from oms.selectors import order_timeline
    from oms.services import order_change_address

    a = network.skus[0]
    network.stock(network.soho, a, 5)
    network.stock(network.leeds, a, 5)
    order = place(network, [(a, 1)])
    assert order.fulfilments.get().location == network.soho
    order_change_address(
        order=order,
        address={
            "line1": "2 Briggate",
            "city": "Leeds",
            "postcode": "LS1 6HD",
            "country": "GB",
            "lat": 53.7980,
            "lon": -1.5420,
        },
    )
    live = order.fulfilments.exclude(status="cancelled").get()
    assert live.location == network.leeds
    assert network.level(network.soho, a).reserved == 0
    assert network.level(network.leeds, a).reserved == 1
    assert any("delivery address changed" in e.text for e in order_timeline(order=order))
    assert inventory_discrepancies() == []


def test_address_change_keeps_the_plan_when_nothing_better_exists(network):
    from oms.services import order_change_address

    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 1)])
    first = order.fulfilments.get()
    order_change_address(
        order=order,
        address={
            "line1": "9 Strand",
            "city": "London",
            "postcode": "WC2R 0EZ",
            "country": "GB",
            "lat": 51.511,
            "lon": -0.119,
        },
    )
    assert list(order.fulfilments.all()) == [first]
    assert order.fulfilments.get().status == "pending"


def test_candidates_are_read_in_two_statements_with_todays_load_and_the_pickup_store(
    network, django_assert_num_queries
):
    from fulfilment.routing.candidates import routing_candidates

    a = network.skus[0]
    for location in (network.soho, network.camden, network.warehouse):
        network.stock(location, a, 5)
    network.soho.daily_capacity = 2
    network.soho.save()
    place(network, [(a, 1)])  # Soho takes one of its two for today
    with django_assert_num_queries(2):  # the ranked stock, then the locations with today's counts
        candidates = routing_candidates(
            channel=network.web, sku_ids=[a.pk], pickup_location_id=network.leeds.pk, near=(51.508, -0.128)
        )
    by_code = {c.code: c for c in candidates}
    assert set(by_code) == {"ST-SOHO", "ST-CAMDEN", "WH-MID", "ST-LEEDS"}
    assert (by_code["ST-SOHO"].capacity_left, by_code["WH-MID"].capacity_left) == (1, None)
    assert by_code["ST-SOHO"].stock == {a.pk: 4} and by_code["ST-LEEDS"].stock == {}


def test_the_channels_newest_active_policy_wins_over_the_default(network, django_assert_num_queries):
    from fulfilment.models import RoutingPolicyVersion
    from fulfilment.routing.candidates import routing_policy_for
    from tests.factories import ChannelFactory

    assert routing_policy_for(channel=network.web).version == 0  # none stored: the built-in defaults
    RoutingPolicyVersion.objects.create(channel=None, version=7, data={"max_splits": 1})
    assert routing_policy_for(channel=network.web) == replace(RoutingPolicy(), version=7, max_splits=1)
    RoutingPolicyVersion.objects.create(channel=network.web, version=1, data={"fallback": "hold"})
    RoutingPolicyVersion.objects.create(channel=network.web, version=2, data={"fallback": "backorder"})
    RoutingPolicyVersion.objects.create(channel=network.web, version=3, data={"max_splits": 2}, active=False)
    RoutingPolicyVersion.objects.create(channel=ChannelFactory(), version=9, data={"max_splits": 2})
    with django_assert_num_queries(1):
        policy = routing_policy_for(channel=network.web)
    assert policy == replace(RoutingPolicy(), version=2, fallback="backorder")


def test_policies_are_read_once_and_a_new_version_is_seen_at_once(network, django_assert_num_queries):
    from fulfilment.models import RoutingPolicyVersion
    from fulfilment.routing.candidates import routing_policy_for

    routing_policy_for(channel=network.web)
    with django_assert_num_queries(0):  # every order asks: the policies are one cached value
        assert routing_policy_for(channel=network.web).version == 0
    RoutingPolicyVersion.objects.create(channel=network.web, version=4, data={"max_splits": 1})
    assert routing_policy_for(channel=network.web) == replace(RoutingPolicy(), version=4, max_splits=1)
    RoutingPolicyVersion.objects.filter(channel=network.web).delete()
    assert routing_policy_for(channel=network.web).version == 0


def test_the_timeline_tells_the_order_was_created_before_it_was_allocated(network):
    from oms.selectors import order_timeline

    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    network.stock(network.soho, b, 5)
    order = place(network, [(a, 1), (b, 1)])

    steps = [e.action for e in order_timeline(order=order)]
    assert steps == ["order.created", "allocate"]
