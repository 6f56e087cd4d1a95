"""The order page shows backordered units, and an agent can cancel them even after the rest was dispatched."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from inventory.inbound import inbound_create
from oms.models import Order
from tests.orders_support import place

from .conftest import Role

pytestmark = pytest.mark.django_db


def test_the_order_page_shows_backordered_units_and_lets_an_agent_cancel_them(client, login, network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.soho, b, 1)
    split = place(network, [(a, 1), (b, 3)], when_short="backorder")
    f = split.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    login(Role.AGENT)
    url = reverse("backoffice:order", args=[split.pk])

    page = client.get(url).content.decode()

    assert '<th scope="col" class="num">Backordered</th>' in page
    assert '<td data-label="Backordered" class="num">2</td>' in page
    assert "Cancel backordered units" in page and "Cancel the whole order" not in page
    line = split.lines.get(sku=b)
    response = client.post(
        reverse("backoffice:order_action", args=[split.pk, "cancel-lines"]),
        {"reason": "customer gave up", f"line_{line.pk}": 2},
        follow=True,
    )
    assert response.status_code == 200
    split.refresh_from_db()
    assert split.status == Order.Status.SHIPPED
    assert split.lines.get(sku=b).backordered == 0


def test_the_order_page_says_when_backordered_units_are_expected(client, login, network):
    a, b = network.skus[:2]
    due = timezone.localdate() + timedelta(days=9)
    inbound_create(reference="PO-7", location=network.warehouse.code, expected_on=due, lines=[(a.code, 2)])
    order = place(network, [(a, 2), (b, 1)], when_short="backorder")
    login(Role.AGENT)

    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()

    assert f'<td data-label="Expected">by {due:%-d %b %Y}</td>' in page  # covered by the purchase order
    assert '<td data-label="Expected">no date yet: supply on its way does not cover it</td>' in page  # nothing coming
