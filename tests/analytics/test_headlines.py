"""Headline figures and their change against the previous period equal what the order tables say."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from omnichannel.analytics.headlines import headline_figures
from omnichannel.analytics.selectors import AnalyticsFilters
from omnichannel.analytics.services import analytics_rollup
from oms.models import StaffProfile
from oms.services import staff_create

from .headline_support import expected_change, figures_from_the_database, two_days_of_orders

pytestmark = pytest.mark.django_db


def test_headlines_and_changes_equal_the_tables_for_two_periods(network, django_assert_num_queries):
    two_days_of_orders(network)
    analytics_rollup()
    today = timezone.localdate()
    now, before = figures_from_the_database(today), figures_from_the_database(today - timedelta(days=1))
    assert (now["orders"], before["orders"]) == (2, 2)
    assert (now["on_time"], before["on_time"]) == (1.0, 0.0)

    with django_assert_num_queries(1):
        headlines = headline_figures(filters=AnalyticsFilters(start=today, end=today))
    for h in headlines:
        assert (h.value, h.previous) == (pytest.approx(now[h.slug]), pytest.approx(before[h.slug])), h.slug
        assert h.change == pytest.approx(expected_change(h.kind, now[h.slug], before[h.slug])), h.slug
    by_slug = {h.slug: h for h in headlines}
    assert by_slug["on_time"].change_text == "+100.0 pts"
    assert by_slug["orders"].change_text == "+0.0%"
    # Fewer returns is good news, less revenue is not; shares are neither.
    tones = {slug: by_slug[slug].tone for slug in ("return_rate", "revenue", "ship_from_store", "orders")}
    assert tones == {"return_rate": "good", "revenue": "bad", "ship_from_store": "neutral", "orders": "neutral"}


def test_the_page_opens_with_the_headlines_and_links_to_each_section(client, network):
    two_days_of_orders(network)
    analytics_rollup()
    client.force_login(staff_create(username="ann", password="pw-agent-123", role=StaffProfile.Role.AGENT).user)
    today = timezone.localdate().isoformat()
    page = client.get(reverse("analytics:dashboard"), {"start": today, "end": today}).content.decode()
    assert page.index('id="headline"') < page.index('id="channels"')
    for anchor in ("headline", "channels", "fulfilment-mix", "stores", "returns", "inventory"):
        assert f'href="#{anchor}"' in page and f'id="{anchor}"' in page
    assert 'data-testid="headline-on_time"' in page and "+100.0 pts" in page
    assert 'table class="stack" data-sortable' in page
