"""The order page fits the work: returns and timeline first, the routing explanation folded to its summary."""

import pytest
from django.urls import reverse

from tests.orders_support import place

from .conftest import Role

pytestmark = pytest.mark.django_db


def test_returns_and_timeline_come_first_and_the_candidates_open_on_demand(client, login, network):
    login(Role.AGENT)
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    order = place(network, [(sku, 1)])
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    sections = [page.index(f'aria-labelledby="{name}-h"') for name in ("returns", "timeline", "lines", "routing")]
    assert sections == sorted(sections)
    summary = order.routing["summary"]
    folded = page.split('<details class="bo-candidates">', 1)
    assert summary in folded[0].split('aria-labelledby="routing-h"', 1)[1]  # the summary stays visible
    assert "ST-CAMDEN" in folded[1].split("</details>", 1)[0]  # the losers are inside the fold
