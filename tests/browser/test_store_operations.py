"""Store operations in a real browser: pausing new work, the till sales history and the count list.

With DOCS_SCREENSHOTS=1 the tests also refresh the screenshots in docs/screenshots/.
"""

from __future__ import annotations

from playwright.sync_api import expect

from fulfilment.sales import SaleInput, sale_record
from fulfilment.store_hours import unavailable_stores
from oms.intake import OrderLineInput
from tests.browser.support import document
from tests.factories import ChannelFactory


def test_store_staff_pause_new_work_with_a_reason_and_resume_it(network, soho_staff, page):
    page.goto(f"/store/{network.soho.code}/")
    panel = page.get_by_test_id("pause-panel")
    panel.get_by_role("button", name="Pause").click()  # no reason given
    expect(page.get_by_text("The store was not paused.")).to_be_visible()
    assert network.soho.pk not in unavailable_stores()

    page.get_by_label("Pause for").select_option(label="2 hours")
    page.get_by_label("Why").fill("Two staff off sick")
    page.get_by_test_id("pause-panel").get_by_role("button", name="Pause").click()
    expect(page.get_by_role("heading", name="Paused until")).to_be_visible()
    expect(page.get_by_test_id("pause-panel")).to_contain_text("Two staff off sick")
    assert "Two staff off sick" in unavailable_stores()[network.soho.pk]
    document(page, "store-pause.png")

    page.get_by_role("button", name="Resume now").click()
    expect(page.get_by_text(f"Resumed: {network.soho.name} receives new work again.")).to_be_visible()
    assert network.soho.pk not in unavailable_stores()


def test_till_sales_and_the_skus_to_count_are_listed_for_the_store(network, soho_staff, page):
    till = ChannelFactory(code="tills", kind="store")
    known, unknown = network.skus[0], network.skus[1]
    network.stock(network.soho, known, 5)
    sales = []
    for n, (sku, quantity) in enumerate([(known, 2), (unknown, 1)]):
        order, _ = sale_record(
            data=SaleInput(
                channel=till,
                store=network.soho.code,
                external_id=f"TILL-3-00012{n}",
                lines=[OrderLineInput(sku.code, quantity, "12.50")],
            )
        )
        sales.append(order)
    page.goto(f"/store/{network.soho.code}/")
    page.get_by_role("link", name="Till sales & counts").click()
    history = page.get_by_test_id("till-sales")
    for order in sales:
        expect(history).to_contain_text(order.number)
    counts = page.get_by_test_id("count-list")
    expect(counts).to_contain_text(unknown.code)
    expect(counts).not_to_contain_text(known.code)
    document(page, "store-till-sales.png")

    counts.get_by_role("link", name="Count it").click()
    page.get_by_label("Counted on the shelf").fill("0")
    page.get_by_role("button", name="Save count").click()
    expect(page.get_by_role("status")).to_contain_text(f"{unknown.code}: 0 on hand")
    page.get_by_role("link", name="Till sales & counts").click()
    expect(page.get_by_text("Nothing to count")).to_be_visible()
