"""The daily roll-up: what it counts, and that it stays right as orders, fulfilments and returns change."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from geopy.distance import geodesic

from fulfilment.actions import fulfilment_accept, fulfilment_decline
from omnichannel.analytics.models import DailyChannelRollup, DailyReturnRollup, DailyStockRollup, RollupRun
from omnichannel.analytics.services import analytics_rollup
from omnichannel.analytics.tasks import rollup_analytics
from oms.models import Order
from returns.requests import ReturnLineInput, return_request
from tests.analytics.shop import order_via, ship

pytestmark = pytest.mark.django_db

TRAFALGAR = (51.5080, -0.1281)


def network_row(channel) -> DailyChannelRollup:
    return DailyChannelRollup.objects.get(channel=channel, location__isnull=True)


def test_network_row_counts_each_order_once_and_location_rows_share_a_split_order(shop):
    analytics_rollup()

    app = network_row(shop.app)
    assert (app.orders, app.revenue, app.routed_orders, app.split_orders) == (1, Decimal("14.50"), 1, 1)
    soho, camden = shop.network.soho, shop.network.camden
    at_stores = DailyChannelRollup.objects.filter(channel=shop.app, location__isnull=False)
    assert {(r.location, r.orders, r.revenue, r.split_orders) for r in at_stores} == {
        (soho, 1, Decimal("7.25"), 1),
        (camden, 1, Decimal("7.25"), 1),
    }
    expected_km = geodesic(TRAFALGAR, (soho.lat, soho.lon)).km + geodesic(TRAFALGAR, (camden.lat, camden.lon)).km
    assert app.shipments == 2
    assert app.shipment_km == pytest.approx(expected_km)


def test_fulfilment_mix_and_cross_channel_return(shop):
    analytics_rollup()

    web = network_row(shop.network.web)
    assert (web.ship_from_warehouse, web.ship_from_store, web.click_and_collect) == (1, 1, 1)
    assert web.returned_orders == 1
    matrix = DailyReturnRollup.objects.get()
    assert (matrix.purchase_channel, matrix.return_channel, matrix.returns, matrix.units) == (
        shop.network.web,
        shop.pos,
        1,
        1,
    )


def test_a_new_order_after_a_rollup_appears_after_the_next_run(shop):
    rollup_analytics.delay()
    assert network_row(shop.app).orders == 1

    order_via(shop.app, [(shop.network.skus[0], 1)], external_id="APP-2")
    assert network_row(shop.app).orders == 1  # the pages read the roll-up, not the orders

    rollup_analytics.delay()
    row = network_row(shop.app)
    assert (row.orders, row.revenue) == (2, Decimal("24.50"))
    assert RollupRun.objects.count() == 2


def test_a_return_on_an_old_order_updates_the_day_it_was_placed(shop):
    a = shop.network.skus[0]
    old = order_via(shop.network.web, [(a, 1)], external_id="WEB-OLD")
    placed = timezone.now() - timedelta(days=3)
    Order.objects.filter(pk=old.pk).update(created_at=placed)
    analytics_rollup()
    old_day = DailyChannelRollup.objects.filter(day=placed.date(), channel=shop.network.web, location__isnull=True)
    assert old_day.values_list("orders", "returned_orders").get() == (1, 0)

    ship(old.fulfilments.get())
    return_request(order=old, lines=[ReturnLineInput(a.code, 1)])
    analytics_rollup()

    assert old_day.values_list("orders", "returned_orders").get() == (1, 1)


def test_declines_and_acceptances_are_counted_at_the_store(shop):
    near = shop.orders["near"].fulfilments.get()
    fulfilment_decline(fulfilment=near, reason_code="damaged")
    fulfilment_accept(fulfilment=shop.orders["collect"].fulfilments.get())
    analytics_rollup()

    soho = DailyChannelRollup.objects.get(channel=shop.network.web, location=shop.network.soho)
    assert (soho.fulfilments, soho.declined, soho.accepted) == (1, 1, 0)
    camden = DailyChannelRollup.objects.get(channel=shop.network.web, location=shop.network.camden)
    assert (camden.fulfilments, camden.accepted) == (1, 1)


def test_running_twice_changes_nothing(shop):
    rows = DailyChannelRollup.objects.order_by("channel", "location").values_list(
        "channel", "location", "orders", "revenue", "fulfilments"
    )
    analytics_rollup()
    first = list(rows)
    analytics_rollup()
    assert list(rows) == first
    assert DailyReturnRollup.objects.count() == 1


def test_stock_snapshot_counts_out_of_stock_skus_and_dispatched_units(shop):
    analytics_rollup()
    warehouse = DailyStockRollup.objects.get(location=shop.network.warehouse)
    assert (warehouse.skus_tracked, warehouse.skus_out_of_stock, warehouse.units_dispatched) == (2, 0, 3)
    camden = DailyStockRollup.objects.get(location=shop.network.camden)
    assert camden.skus_out_of_stock == 0
