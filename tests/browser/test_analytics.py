"""The analytics dashboard shows what the database holds for the filters chosen, and the lab runs from the page."""

import os
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.db.models import F, Sum
from django.utils import timezone

from fulfilment.models import Fulfilment, RoutingPolicyVersion
from omnichannel.analytics.selectors import day_bounds
from omnichannel.analytics.services import analytics_rollup
from oms.models import Order, OrderLine, StaffProfile
from returns.models import Return
from tests.analytics.shop import build_shop, order_via

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def keep_for_docs(page, name: str) -> None:
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOCS_SCREENSHOTS / name, full_page=True)


def table_rows(page, name: str) -> list[list[str]]:
    table = page.get_by_role("table", name=name)
    return [row.locator("th, td").all_inner_texts() for row in table.locator("tbody tr").all()]


def expected_from_database(channel, first, last):
    """Orders and revenue, fulfilment mix per day and the returns matrix, straight from the order tables."""
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    orders = Order.objects.filter(channel=channel, created_at__gte=start, created_at__lt=end)
    revenue = OrderLine.objects.filter(order__in=orders).aggregate(
        v=Sum(F("unit_price") * (F("quantity") - F("cancelled_quantity")))
    )["v"] or Decimal(0)
    mix = Counter()
    for f in Fulfilment.objects.filter(order__in=orders).exclude(
        status__in=[Fulfilment.S.DECLINED, Fulfilment.S.CANCELLED]
    ):
        mix[(timezone.localdate(f.order.created_at), f.method)] += 1
    returns = Counter(
        (r.order.channel.code, r.channel.code)
        for r in Return.objects.filter(order__channel=channel, created_at__gte=start, created_at__lt=end).exclude(
            status__in=Return.VOID
        )
    )
    return orders.count(), revenue, mix, returns


def test_dashboard_figures_match_the_database_for_the_chosen_period_and_channel(page, sign_in, staff_user, network):
    shop = build_shop(network)
    outside = order_via(network.web, [(network.skus[0], 4)], external_id="WEB-OLD")
    Order.objects.filter(pk=outside.pk).update(created_at=timezone.now() - timedelta(days=10))
    order_via(shop.app, [(network.skus[1], 1)], external_id="APP-2")  # another channel: filtered out
    analytics_rollup()
    today = timezone.localdate()
    first = today - timedelta(days=2)
    staff_user("ops", StaffProfile.Role.AGENT)
    sign_in("ops")

    page.goto("/backoffice/analytics/")
    page.get_by_label("From", exact=True).fill(first.isoformat())
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_label("Channel", exact=True).select_option("web")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()

    orders, revenue, mix, returns = expected_from_database(network.web, first, today)
    channel_rows = table_rows(page, "Orders and revenue by channel")
    assert [row[:3] for row in channel_rows] == [["web", str(orders), f"{revenue:,.2f}"]]
    assert orders == 3  # the old order and the app orders are not counted
    methods = [m.value for m in Fulfilment.Method if m != Fulfilment.Method.IN_STORE]  # till sales are not routed
    expected_mix = [
        [day.isoformat(), *[str(mix[(day, m)]) for m in methods]] for day in (first + timedelta(n) for n in range(3))
    ]
    assert [row[:4] for row in table_rows(page, "Fulfilment mix over time")] == expected_mix
    matrix = table_rows(page, "Returns: channel of purchase × channel of return")
    assert [row[:-1] for row in matrix] == [["web", *[str(n) for n in returns.values()]]]
    assert list(returns) == [("web", "pos")]
    assert page.get_by_role("img", name="Revenue by channel").is_visible()
    keep_for_docs(page, "analytics-dashboard.png")


def test_lab_runs_a_candidate_policy_beside_the_current_one(page, sign_in, staff_user, network):
    build_shop(network)
    RoutingPolicyVersion.objects.create(channel=network.web, version=2, data={"allow_ship_from_store": False})
    staff_user("ops", StaffProfile.Role.SUPERVISOR)
    sign_in("ops")

    page.goto("/backoffice/analytics/routing-lab/")
    page.get_by_label("Channel", exact=True).select_option("web")
    page.get_by_role("button", name="Start from the channel's current policy").click()
    page.wait_for_load_state()
    assert not page.get_by_label("Stores may ship to customers").is_checked()
    page.get_by_label("Stores may ship to customers").check()
    page.get_by_label("Weight: distance (per km)").fill("2")
    page.get_by_label("Weight: store vs warehouse (negative prefers stores)").fill("-5")
    page.get_by_role("button", name="Run simulation").click()
    page.wait_for_load_state()

    rows = {row[0]: row[1:] for row in table_rows(page, "Current and candidate policy")}
    assert rows["Orders replayed"] == ["3", "3"]
    assert rows["Ship-from-store share"][0] == "0.0%"
    assert rows["Ship-from-store share"][1] != "0.0%"
    assert page.get_by_role("img", name="Fulfilments per location").is_visible()
    keep_for_docs(page, "routing-lab.png")
