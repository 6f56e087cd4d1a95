"""The analytics page opens with headline figures whose change against the day before matches the order tables.

With DOCS_SCREENSHOTS=1 the test also refreshes the screenshot in docs/screenshots/.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from omnichannel.analytics.reports import display
from omnichannel.analytics.services import analytics_rollup
from oms.models import StaffProfile
from tests.analytics.headline_support import expected_change, figures_from_the_database, two_days_of_orders

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KINDS = {"orders": "int", "revenue": "money"}


def shown_change(kind: str, change) -> str:
    if change is None:
        return "no figure to compare"
    return f"{change * 100:+.1f} pts" if kind == "rate" else f"{change:+.1%}"


def test_headline_figures_and_their_change_equal_the_tables_for_two_days(page, sign_in, staff_user, network):
    two_days_of_orders(network)
    analytics_rollup()
    today = timezone.localdate()
    now, before = figures_from_the_database(today), figures_from_the_database(today - timedelta(days=1))
    staff_user("ops", StaffProfile.Role.AGENT)
    sign_in("ops")

    page.goto(f"/backoffice/analytics/?start={today.isoformat()}&end={today.isoformat()}")
    for slug, value in now.items():
        kind = KINDS.get(slug, "rate")
        tile = page.get_by_test_id(f"headline-{slug}")
        expect(tile.locator(".headline-value")).to_have_text(display(value, kind))
        expect(tile.locator(".headline-change")).to_contain_text(
            shown_change(kind, expected_change(kind, value, before[slug]))
        )
    if os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOCS / "analytics-headlines.png", full_page=False)

    page.get_by_role("navigation", name="Sections of this page").get_by_role("link", name="Store performance").click()
    assert page.url.endswith("#stores")
    table = page.get_by_role("table", name="Orders and revenue by channel")
    table.get_by_role("button", name="Revenue").click()
    codes = table.locator("tbody tr th").all_inner_texts()
    table.get_by_role("button", name="Revenue").click()
    assert table.locator("tbody tr th").all_inner_texts() == list(reversed(codes))
