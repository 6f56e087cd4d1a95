"""The back-office worklists: each count equals its list and what the database says, in four queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from fulfilment.models import Fulfilment
from inventory.inbound import inbound_create
from omnichannel.backoffice.worklists import WORKLISTS, worklist_counts, worklist_page
from oms.models import Order, WebhookEndpoint
from oms.services import order_hold
from returns.models import RefundRequest, Return
from tests.orders_support import place

from .conftest import Role
from .worklist_support import arrange_exceptions, bare_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def exceptions(network, login):
    agent = login(Role.AGENT, "ann")
    return arrange_exceptions(network, agent)


def counted_by_hand(now) -> dict[str, int]:
    """The test's own reading of each exception, straight from the tables."""
    open_work = ["pending", "accepted", "picking", "packed"]
    in_progress = ["allocated", "backordered", "in_fulfilment"]
    late = set()
    for f in Fulfilment.objects.filter(status__in=open_work):
        due = f.ready_by or f.created_at + timedelta(hours=4)
        if due < now:
            late.add(f.order_id)
    declines = dict(
        Fulfilment.objects.filter(status="declined")
        .values_list("order")
        .annotate(n=Count("pk"))
        .values_list("order", "n")
    )
    store_work = {
        o.pk for o in Order.objects.filter(status__in=in_progress) if o.pk in late or declines.get(o.pk, 0) >= 2
    }
    expiry = timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
    pickups = {
        f.order_id
        for f in Fulfilment.objects.filter(status="ready_for_pickup")
        if f.ready_at + expiry <= now + timedelta(hours=24)
    }
    pending = set(RefundRequest.objects.filter(status="pending").values_list("ret_id", flat=True))
    returns = [r for r in Return.objects.filter(status__in=["received", "inspected"]) if r.pk not in pending]
    webhooks = (
        WebhookEndpoint.objects.filter(active=True)
        .filter(Q(deliveries__status="failed") | Q(deliveries__status="pending", deliveries__attempts__gt=0))
        .distinct()
    )
    return {
        "holds": Order.objects.filter(status="on_hold").count(),
        "backorders": Order.objects.filter(Q(status="backordered") | Q(lines__backordered__gt=0)).distinct().count(),
        "store-work": len(store_work),
        "pickups": len(pickups),
        "returns": len(returns),
        "approvals": len(pending),
        "webhooks": webhooks.count(),
    }


def test_every_count_equals_the_database_and_its_list_in_four_queries(exceptions, django_assert_num_queries):
    now = timezone.now()
    with django_assert_num_queries(4):
        counts = worklist_counts(now=now)
    assert counts == counted_by_hand(now)
    assert counts == {
        "holds": 2,
        "backorders": 2,
        "store-work": 2,
        "pickups": 1,
        "returns": 1,
        "approvals": 1,
        "webhooks": 1,
    }
    for slug in WORKLISTS:
        assert worklist_page(slug=slug, now=now, params={}).page.paginator.count == counts[slug], slug


def test_each_list_holds_the_expected_orders_oldest_first(exceptions):
    now = timezone.now()

    def numbers(slug, **params):
        return [o.number for o in worklist_page(slug=slug, now=now, params=params).page.object_list]

    assert numbers("holds") == [exceptions.payment_hold.number, exceptions.fraud_hold.number]
    assert numbers("holds", reason="fraud") == [exceptions.fraud_hold.number]
    assert numbers("holds", sort="-since") == [exceptions.fraud_hold.number, exceptions.payment_hold.number]
    assert set(numbers("store-work")) == {exceptions.overdue.number, exceptions.declined_twice.number}
    assert numbers("store-work") == [exceptions.overdue.number, exceptions.declined_twice.number]  # late first
    assert numbers("pickups") == [exceptions.expiring_pickup.number]
    assert numbers("backorders", channel="nope") == numbers("backorders")  # an unknown filter is ignored


def test_the_home_page_shows_the_counts_and_each_list_its_rows_and_next_action(client, exceptions):
    home = client.get(reverse("backoffice:home")).content.decode()
    assert "Needs attention" in home
    assert 'data-testid="tile-holds"' in home and "<strong>2</strong> Orders on hold" in home

    holds = client.get(reverse("backoffice:worklist", args=["holds"]))
    page = holds.content.decode()
    assert f"Release {exceptions.fraud_hold.number}" in page and "Fraud" in page
    assert reverse("backoffice:order", args=[exceptions.fraud_hold.pk]) in page

    approvals = client.get(reverse("backoffice:worklist", args=["approvals"])).content.decode()
    assert "parcel lost in the post" in approvals and "a supervisor decides" in approvals

    for slug in WORKLISTS:
        assert (
            client.get(reverse("backoffice:worklist", args=[slug]), {"sort": "bogus", "page": "x"}).status_code == 200
        )
    assert client.get(reverse("backoffice:worklist", args=["nope"])).status_code == 404


def test_releasing_from_the_worklist_comes_back_to_the_list_without_the_order(client, exceptions, network):
    network.stock(network.leeds, network.skus[2], 1)
    here = reverse("backoffice:worklist", args=["holds"])
    url = reverse("backoffice:order_action", args=[exceptions.fraud_hold.pk, "release"])
    response = client.post(url, {"next": here}, follow=True)
    assert response.redirect_chain[-1][0] == here
    assert [str(m) for m in response.context["messages"]] == ["Hold released; the order is allocated."]
    assert exceptions.fraud_hold.number not in response.content.decode().split("<table", 1)[-1]
    assert client.post(url, {"next": "https://evil.example/"}).url == reverse(
        "backoffice:order", args=[exceptions.fraud_hold.pk]
    )


@pytest.mark.parametrize("next_value", ["2147483648", "abc", "backoffice:home", "//evil.example/", "javascript:x"])
def test_a_next_that_is_not_a_path_on_this_site_goes_back_to_the_order(client, exceptions, next_value):
    url = reverse("backoffice:order_action", args=[exceptions.fraud_hold.pk, "note"])
    response = client.post(url, {"text": "called back", "next": next_value})
    assert response.status_code == 302
    assert response.url == reverse("backoffice:order", args=[exceptions.fraud_hold.pk])


def test_each_list_page_reads_a_fixed_number_of_queries(client, exceptions, network):
    def queries(slug) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(reverse("backoffice:worklist", args=[slug])).status_code == 200
        return len(seen)

    before = {slug: queries(slug) for slug in WORKLISTS}
    arrange_exceptions_again(network)
    after = {slug: queries(slug) for slug in WORKLISTS}
    assert after == before
    assert max(before.values()) <= 12  # session and user 2-3, counts 4, the page's count and rows 2, choices 1


def arrange_exceptions_again(network):
    """More rows in two lists: a second hold, a second late order."""
    order_hold(order=bare_order(network, "WL-FRAUD-2"), reason="address")
    network.stock(network.soho, network.skus[2], 1)
    late = place(network, [(network.skus[2], 1)], external_id="WL-LATE-2")
    Fulfilment.objects.filter(order=late).update(created_at=timezone.now() - timedelta(hours=7))


def test_a_failing_endpoints_next_action_opens_its_deliveries_in_the_admin(client, exceptions, login):
    login(Role.ADMIN, "root")
    page = client.get(reverse("backoffice:worklist", args=["webhooks"])).content.decode()
    link = page.split('<a href="/admin/oms/webhookdelivery/', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    deliveries = client.get(f"/admin/oms/webhookdelivery/{link}")
    assert deliveries.status_code == 200
    assert "1 webhook delivery" in deliveries.content.decode() or "1 result" in deliveries.content.decode()


def test_an_order_with_some_units_waiting_for_supply_is_on_the_backorders_list(network, login):
    login(Role.AGENT, "ann")
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 3)
    order = place(network, [(sku, 5)], when_short="backorder")
    assert order.status != "backordered" and order.lines.get().backordered == 2
    now = timezone.now()
    assert worklist_counts(now=now)["backorders"] == 1
    assert [o.number for o in worklist_page(slug="backorders", now=now, params={}).page.object_list] == [order.number]


def test_the_backorders_list_says_by_when_known_supply_covers_each_order(client, network, login):
    login(Role.AGENT, "ann")
    a, b = network.skus[:2]
    due = timezone.localdate() + timedelta(days=4)
    inbound_create(reference="PO-9", location=network.warehouse.code, expected_on=due, lines=[(a.code, 2)])
    covered = place(network, [(a, 2)], external_id="WEB-COVERED", when_short="backorder")
    uncovered = place(network, [(b, 1)], external_id="WEB-UNCOVERED", when_short="backorder")

    page = client.get(reverse("backoffice:worklist", args=["backorders"])).content.decode()

    rows = {o.number: page.split(o.number, 1)[1].split("</tr>", 1)[0] for o in (covered, uncovered)}
    assert f'<td data-label="Promised">by {due:%-d %b %Y}</td>' in rows[covered.number]
    assert '<span class="badge bad">no date</span>' in rows[uncovered.number]
