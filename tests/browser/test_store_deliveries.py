"""Receiving a supplier's delivery on the real "Deliveries due" page: a scan with a quantity, then a slip.

With DOCS_SCREENSHOTS=1 the test also refreshes the page's screenshots in docs/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from inventory.inbound import inbound_create
from inventory.models import Barcode, InboundLine
from tests.browser.support import document
from tests.factories import gtin13


def test_staff_scan_a_delivery_in_and_a_word_in_the_quantity_is_refused(network, soho_staff, page):
    sku = network.skus[0]
    Barcode.objects.create(code=gtin13(501), sku=sku)
    supply = inbound_create(
        reference="PO-1001",
        location=network.soho.code,
        expected_on=timezone.localdate() + timedelta(days=1),
        lines=[(sku.code, 5)],
    )
    page.goto(f"/store/{network.soho.code}/stock/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Deliveries due").click()
    expect(page.get_by_role("heading", name="PO-1001")).to_be_visible()
    row = page.locator(f"#delivery-{supply.pk} tbody tr", has_text=sku.code)
    expect(row.locator('td[data-label="Received"]')).to_have_text("0")

    # Two in the box: the quantity first, then the scanner types the barcode and presses Enter.
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Scan or type a product").fill(gtin13(501))
    page.get_by_label("Scan or type a product").press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Received 2 × {sku.code}")
    expect(row.locator('td[data-label="Received"]')).to_have_text("2")
    expect(row.locator('td[data-label="Still due"]')).to_have_text("3")
    expect(page.get_by_label("Quantity")).to_have_value("1")
    assert InboundLine.objects.get(supply=supply).received == 2
    document(page, "store-deliveries.png")

    page.get_by_label("Quantity").fill("abc")
    page.get_by_label("Scan or type a product").fill(gtin13(501))
    page.get_by_role("button", name="Receive against PO-1001").click()
    expect(page.get_by_role("status")).to_have_text(
        "“abc” is not a number of units. Type how many arrived as a whole number, such as 2."
    )
    expect(row.locator('td[data-label="Received"]')).to_have_text("2")
    assert InboundLine.objects.get(supply=supply).received == 2
    document(page, "store-deliveries-quantity-refused.png")


def test_two_tablets_receiving_the_same_box_book_it_once(network, soho_staff, page, browser, live_server):
    """Both tablets show 0 of 2; the first books the box, the second is stopped and shown the new count."""
    from tests.browser.conftest import PASSWORD

    sku = network.skus[1]
    supply = inbound_create(
        reference="PO-2002",
        location=network.soho.code,
        expected_on=timezone.localdate() + timedelta(days=1),
        lines=[(sku.code, 2)],
    )
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    tablet = other.new_page()
    try:
        tablet.goto("/accounts/login/")
        tablet.get_by_label("Username").fill("sam")
        tablet.get_by_label("Password").fill(PASSWORD)
        tablet.get_by_role("button", name="Sign in").click()
        for p in (page, tablet):
            p.goto(f"/store/{network.soho.code}/stock/deliveries/")
            p.get_by_label("Quantity").fill("2")
            p.get_by_label("Scan or type a product").fill(sku.code)
        page.get_by_role("button", name="Receive against PO-2002").click()
        expect(page.get_by_role("status")).to_contain_text(f"Received 2 × {sku.code}")

        tablet.get_by_role("button", name="Receive against PO-2002").click()
        expect(tablet.get_by_role("status")).to_have_text(
            f"Someone else has just received against PO-2002: 2 of 2 × {sku.code} are in now, so these 2 would be "
            "more than the delivery note says. Nothing was booked. "
            "The delivery is in full now; if more really arrived, tell the back office."
        )
        assert InboundLine.objects.get(supply=supply).received == 2
    finally:
        other.close()
