"""A scanner that never sends Enter, or a paste of a whole document, types thousands of
characters: the pages that echo what was typed keep to the width of the tablet."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from fulfilment.actions import fulfilment_accept
from oms.models import StaffProfile
from returns.approvals import refund_request_create
from tests.orders_support import place
from tests.returns.support import received_return

LONG = "5060000001327" * 400  # 5,200 characters, no space to break at


@pytest.fixture
def soho_staff(staff_user, network):
    return staff_user("sam", StaffProfile.Role.STORE_STAFF, stores=[network.soho])


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def test_a_huge_scan_is_refused_and_the_pick_page_keeps_its_width(page, sign_in, soho_staff, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    f = place(network, [(sku, 1)]).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    sign_in("sam")
    page.goto(f"/store/ST-SOHO/work/{f.pk}/pick/")
    page.get_by_label("Scan a barcode").fill(LONG)
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("nothing counted")
    _fits(page)


def test_a_huge_search_keeps_the_stock_and_handover_pages_to_their_width(page, sign_in, soho_staff, network):
    sign_in("sam")
    page.goto("/store/ST-SOHO/stock/?sku=" + LONG)
    expect(page.get_by_role("alert")).to_contain_text("No product")
    _fits(page)
    page.goto("/store/ST-SOHO/pickups/handover/?q=" + LONG)
    expect(page.get_by_text("No parcel on this store")).to_be_visible()
    _fits(page)


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_a_long_reason_keeps_the_refund_approvals_list_to_its_width(page, sign_in, staff_user, network):
    ret = received_return(network)
    asker = staff_user("sam", StaffProfile.Role.STORE_STAFF, stores=[network.soho])
    staff_user("boss", StaffProfile.Role.SUPERVISOR)
    refund_request_create(ret=ret, actor=asker, method="original_tenders", reason="x" * 255)
    sign_in("boss")
    page.goto("/backoffice/refund-approvals/")
    expect(page.get_by_role("row", name=ret.reference)).to_be_visible()
    _fits(page)
