"""Cross-channel KPIs equal what the test reads from the order tables itself."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.models import Channel
from omnichannel.analytics.kpi_reports import kpi_page
from omnichannel.analytics.kpis import channel_contribution, cross_channel_customers, served_by_another_channels_store
from omnichannel.analytics.selectors import AnalyticsFilters
from oms.intake import OrderInput, OrderLineInput
from oms.models import Order, StaffProfile
from oms.services import order_place, staff_create
from tests.factories import ChannelFactory
from tests.orders_support import CITY

pytestmark = pytest.mark.django_db


def buy(channel, sku, *, who: str, ref: str, price="10.00", quantity=1, days_ago=0) -> Order:
    order, _ = order_place(
        data=OrderInput(
            channel=channel,
            external_id=ref,
            lines=[OrderLineInput(sku.code, quantity, Decimal(price))],
            method="delivery",
            address={**CITY, "lat": 51.5080, "lon": -0.1281},
            customer={"email": f"{who}@example.com"},
        )
    )
    if days_ago:
        Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    return order


@pytest.fixture
def shoppers(network):
    far, near, _ = network.skus
    far.unit_cost = Decimal("6.00")
    far.save()
    network.stock(network.warehouse, far, 100)  # only the warehouse has it
    network.stock(network.soho, near, 100)  # a store ships it
    pos = ChannelFactory(code="pos", kind=Channel.Kind.STORE)
    app = ChannelFactory(code="app", kind=Channel.Kind.APP)
    web = network.web
    buy(web, far, who="ann", ref="W-ANN-1", days_ago=30)  # ann: online first, then a store
    buy(pos, far, who="ann", ref="P-ANN-2", price="40.00")
    buy(pos, far, who="bob", ref="P-BOB-1", days_ago=30)  # bob: store first, then the app
    buy(app, near, who="bob", ref="A-BOB-2", price="25.00", quantity=2)
    buy(web, near, who="cat", ref="W-CAT-1")  # cat: web only, served by Soho
    buy(pos, far, who="dan", ref="P-DAN-1", price="30.00")  # dan: a store only
    return {"web": web, "pos": pos, "app": app}


def test_contribution_and_margin_where_cost_is_known(shoppers):
    today = timezone.localdate()
    rows = {r.code: r for r in channel_contribution(filters=AnalyticsFilters(start=today, end=today))}
    assert {code: (r.orders, r.revenue) for code, r in rows.items()} == {
        "app": (1, Decimal("50.00")),
        "pos": (2, Decimal("70.00")),
        "web": (1, Decimal("10.00")),
    }
    assert rows["pos"].revenue_share == pytest.approx(70 / 130)
    assert (rows["pos"].margin, rows["pos"].margin_rate) == (Decimal("58.00"), pytest.approx(58 / 70))
    assert (rows["web"].margin, rows["web"].cost_coverage) == (None, 0.0)  # the store-shipped SKU has no cost


def test_lifetime_value_and_crossing_follow_customers_over_their_whole_history(shoppers):
    today = timezone.localdate()
    found = cross_channel_customers(filters=AnalyticsFilters(start=today, end=today))
    bands = {b.label: (b.customers, b.mean_value) for b in found.bands}
    # In the period: ann (web 10 + pos 40), bob (pos 10 + app 50), cat (web 10), dan (pos 30).
    assert bands == {
        "1 channel": (2, Decimal("20.00")),
        "2 channels": (2, Decimal("55.00")),
        "3 or more channels": (0, None),
    }
    assert (found.first_online, found.online_then_store, found.first_store, found.store_then_online) == (2, 1, 2, 1)
    assert (found.online_to_store_rate, found.store_to_online_rate) == (0.5, 0.5)
    assert found.multi_channel_mean == Decimal("55.00")


def test_orders_a_store_served_for_another_channel(shoppers):
    today = timezone.localdate()
    filters = AnalyticsFilters(start=today, end=today)
    by_hand = {}
    for order in Order.objects.filter(created_at__date=today).select_related("channel"):
        served = Fulfilment.objects.filter(order=order, location__kind="store").exclude(
            status__in=["declined", "cancelled"]
        )
        n, by_store = by_hand.get(order.channel.code, (0, 0))
        by_hand[order.channel.code] = (n + 1, by_store + (order.channel.kind != "store" and served.exists()))
    rows = served_by_another_channels_store(filters=filters)
    assert (
        {r.code: (r.orders, r.served_by_store) for r in rows}
        == by_hand
        == {
            "app": (1, 1),
            "pos": (2, 0),
            "web": (1, 1),
        }
    )
    headlines = dict((slug, value) for slug, _, value in kpi_page(filters)["headlines"])
    assert headlines == {
        "store-served": "50.0%",
        "online-to-store": "50.0%",
        "store-to-online": "50.0%",
        "multi-channel-value": "55.00",
    }


def test_the_page_and_its_exports(client, shoppers, django_assert_max_num_queries):
    client.force_login(staff_create(username="ann", password="pw-agent-123", role=StaffProfile.Role.AGENT).user)
    url = reverse("analytics:cross_channel")
    with django_assert_max_num_queries(10):
        page = client.get(url).content.decode()
    for anchor in ("headline", "contribution", "lifetime-value", "crossing", "store-service"):
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    assert 'data-testid="kpi-store-served"' in page
    export = client.get(reverse("analytics:export", args=["crossing"]))
    assert export.content.decode().splitlines()[1] == '"First online, later in a store",2,1,50.0'
    assert client.get(url, {"start": "2026-01-02", "end": "2026-01-01"}).status_code == 400
