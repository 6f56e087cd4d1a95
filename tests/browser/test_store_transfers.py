"""Click-and-collect by transfer in a real browser: the order is placed for collection at a
store with none of it, the warehouse's staff ship the transfer from their queue, the store
receives it by scanning its label, puts the parcel on the shelf and hands it over against
the customer's code. Each step leaves a screenshot in artifacts/screenshots/.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from fulfilment.models import Fulfilment
from inventory.models import StockLevel, Transfer
from inventory.selectors import inventory_discrepancies
from oms.models import Order, StaffProfile
from tests.browser.conftest import SCREENSHOTS
from tests.orders_support import place


@pytest.fixture
def shop(network, staff_user):
    network.soho.name, network.warehouse.name = "Soho", "Midlands warehouse"
    network.soho.save(update_fields=["name"])
    network.warehouse.save(update_fields=["name"])
    network.stock(network.warehouse, network.skus[0], 20)
    staff_user("wendy", StaffProfile.Role.STORE_STAFF, stores=[network.warehouse])
    staff_user("sam", StaffProfile.Role.STORE_STAFF, stores=[network.soho])
    return network


def shot(page, request, step: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{step}.png", full_page=True)


def scan(page, code: str) -> None:
    """Type into whatever has focus and press Enter, as a barcode scanner does."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def test_collect_by_transfer_shipped_received_by_scan_shelved_and_collected(page, request, sign_in, shop):
    sku = shop.skus[0]
    customer = {"name": "Priya Shah", "email": "priya@example.com", "phone": "+44 7700 900101"}
    order = place(shop, [(sku, 2)], method="pickup", store=shop.soho, external_id="WEB-7001", customer=customer)
    f = order.fulfilments.get()
    transfer = Transfer.objects.get()
    assert (f.location, f.source_location, transfer.status) == (shop.soho, shop.warehouse, "requested")

    sign_in("wendy")
    page.goto("/store/WH-MID/")
    expect(page.get_by_role("heading", name="Transfers to ship")).to_be_visible()
    expect(page.get_by_role("row", name=transfer.reference)).to_contain_text(f"{sku.code} × 2")
    shot(page, request, "1-to-ship")
    page.get_by_role("button", name="Ship to Soho").click()
    expect(page.get_by_role("status")).to_contain_text(f"Transfer {transfer.reference} shipped to Soho.")
    expect(page.get_by_role("button", name="Ship to Soho")).to_have_count(0)
    assert Transfer.objects.get().status == "in_transit"

    page.context.clear_cookies()
    sign_in("sam")
    page.goto(f"/store/ST-SOHO/work/{f.pk}/")
    expect(page.get_by_test_id("awaiting-transfer")).to_contain_text(f"{transfer.reference} from Midlands warehouse")
    page.goto("/store/ST-SOHO/stock/")
    expect(page.get_by_role("row", name=transfer.reference)).to_contain_text("On its way")
    shot(page, request, "2-inbound")
    page.get_by_label("Receive: scan the transfer label or a product on it").focus()
    scan(page, "NOT-A-LABEL")
    expect(page.get_by_role("status")).to_contain_text("Nothing matches “NOT-A-LABEL”")
    page.get_by_label("Receive: scan the transfer label or a product on it").focus()
    scan(page, transfer.reference)
    expect(page.get_by_role("status")).to_contain_text(f"order {order.number} is here, put it on the pickup shelf")
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    shot(page, request, "3-received")
    level = StockLevel.objects.get(sku=sku, location=shop.soho)
    assert (level.on_hand, level.reserved) == (2, 2)

    page.get_by_role("button", name="On the shelf: notify the customer").click()
    expect(page.get_by_role("status")).to_contain_text("the customer has been sent their code")
    f.refresh_from_db()
    page.get_by_role("link", name=f"Hand over {order.number}").click()
    page.get_by_label("Pickup code").fill(f.pickup_code)
    page.get_by_role("button", name="Check code and hand over").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {order.number} handed over to Priya Shah: collected.")
    shot(page, request, "4-collected")
    assert Fulfilment.objects.get(pk=f.pk).status == "collected"
    assert Order.objects.get(pk=order.pk).status == "completed"
    assert Transfer.objects.get().status == "received"
    assert inventory_discrepancies() == []
