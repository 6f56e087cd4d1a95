"""The store's returns desk, stock page and endless aisle, driven through the real pages.

With DOCS_SCREENSHOTS=1 the tests also refresh the screenshots in docs/screenshots/.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from inventory.availability import stock_available
from inventory.models import Barcode, Channel, StockMovement
from oms.models import Order, StaffProfile
from returns.models import Return
from tests.browser.support import document
from tests.factories import ChannelFactory, gtin13
from tests.orders_support import place

STORE_STAFF = StaffProfile.Role.STORE_STAFF


def scan(page, label: str, code: str) -> None:
    """Type a code into a field and press Enter, as a barcode scanner does."""
    page.get_by_label(label).fill(code)
    page.get_by_label(label).press("Enter")
    page.wait_for_load_state()


def test_web_order_returned_at_the_store_desk_restocks_the_store_and_prints_a_receipt(network, soho_staff, page):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 10)
    order = place(network, [(sku, 3)], tenders=[{"type": "card", "amount": "30.00", "reference": "PAY-1"}])
    shipment = order.fulfilments.get()
    assert shipment.location == network.warehouse
    fulfilment_accept(fulfilment=shipment)
    fulfilment_pick(fulfilment=shipment, picked={sku.code: 3})
    fulfilment_pack(fulfilment=shipment)
    fulfilment_ship(fulfilment=shipment, carrier="DPD", tracking="T-1")
    assert stock_available(sku=sku, location=network.soho) == 0

    page.goto(f"/store/{network.soho.code}/returns/")
    scan(page, "Find an order or return", order.number)
    expect(page.get_by_role("heading", name=f"Order {order.number}")).to_be_visible()
    page.get_by_label(f"Quantity of {sku.code}").fill("2")
    page.get_by_label(f"Condition of {sku.code}").select_option("resellable")
    page.get_by_label(f"Reason for {sku.code}").select_option("too_small")
    document(page, "store-returns-desk.png")
    page.get_by_role("button", name="Receive return").click()

    ret = Return.objects.get(order=order)
    expect(page.get_by_role("status")).to_contain_text(f"Return {ret.reference} received")
    page.get_by_label("Refund to").select_option("original_tenders")
    page.get_by_role("button", name="Refund", exact=True).click()

    expect(page.get_by_role("heading", name="Refund 20.00 GBP: 20.00 to card")).to_be_visible()
    assert not Return.objects.filter(pk=ret.pk, status=Return.Status.REFUNDED).exists()  # shown, not yet paid
    document(page, "store-refund-confirm.png")
    page.get_by_role("button", name="Confirm refund").click()

    expect(page.get_by_role("heading", name="Return receipt")).to_be_visible()
    expect(page.get_by_role("heading", name="Refunded 20.00 GBP")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(ret.reference)
    document(page, "store-return-receipt.png")
    ret.refresh_from_db()
    assert (ret.status, ret.received_location) == (Return.Status.REFUNDED, network.soho)
    assert network.level(network.soho, sku).on_hand == 2
    assert stock_available(sku=sku, location=network.soho) == 2

    page.get_by_role("link", name="Stock").click()
    scan(page, "Scan or search a product", sku.code)
    expect(page.get_by_test_id("on-hand-here")).to_have_text("2")
    expect(page.get_by_test_id("atp-here")).to_have_text("2")


def test_scanning_a_barcode_shows_here_the_nearest_stores_and_the_warehouse(network, soho_staff, page):
    sku = network.skus[1]
    barcode = Barcode.objects.create(code=gtin13(4242), sku=sku)
    network.stock(network.soho, sku, 4)
    network.stock(network.camden, sku, 3)
    network.stock(network.warehouse, sku, 40)

    page.goto(f"/store/{network.soho.code}/stock/")
    scan(page, "Scan or search a product", barcode.code)

    expect(page.get_by_role("heading", name=sku.name)).to_be_visible()
    expect(page.get_by_test_id("atp-here")).to_have_text("4")
    nearest = page.get_by_role("table", name="Nearest stores")
    expect(nearest.get_by_role("row")).to_have_count(2)  # header and Camden: Leeds has none
    expect(nearest.get_by_role("row", name=re.compile(rf"^{network.camden.name} 2\.\d km 3$"))).to_be_visible()
    warehouses = page.get_by_role("table", name="Warehouses")
    expect(warehouses.get_by_role("row", name=re.compile(rf"^{network.warehouse.name} \d+ km 40$"))).to_be_visible()
    document(page, "store-stock.png")


def test_a_count_with_a_reason_sets_on_hand_and_writes_the_ledger(network, soho_staff, page):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)

    page.goto(f"/store/{network.soho.code}/stock/?sku={sku.code}")
    page.get_by_label("Counted on the shelf").fill("7")
    page.get_by_label("Reason for any difference").select_option(label="Found")
    page.get_by_role("button", name="Save count").click()

    expect(page.get_by_role("status")).to_contain_text(f"{sku.code}: 7 on hand")
    expect(page.get_by_test_id("on-hand-here")).to_have_text("7")
    assert network.level(network.soho, sku).on_hand == 7
    movement = StockMovement.objects.filter(stock_level__sku=sku, stock_level__location=network.soho).first()
    assert (movement.kind, movement.on_hand_delta, movement.reason) == ("count", 2, "found")
    assert movement.actor.username == "sam"


def test_a_wrong_barcode_says_so_and_shows_no_stock(network, soho_staff, page):
    page.goto(f"/store/{network.soho.code}/stock/")
    scan(page, "Scan or search a product", "4006381333931")
    expect(page.get_by_role("alert")).to_have_text(re.compile(r"^No product has the barcode 4006381333931\."))
    expect(page.get_by_label("Scan or search a product")).to_be_focused()
    expect(page.get_by_test_id("atp-here")).to_have_count(0)


def test_endless_aisle_order_for_home_delivery_from_the_warehouse(network, soho_staff, page):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    sku = network.skus[2]
    network.stock(network.warehouse, sku, 5)

    page.goto(f"/store/{network.soho.code}/order/")
    scan(page, "Scan or search a product", sku.code)
    expect(page.get_by_test_id("atp-here")).to_have_text("0")
    page.get_by_label("Quantity").fill("2")
    page.get_by_label("Unit price (GBP)").fill("25.00")
    page.get_by_role("button", name="Add to order").click()
    page.get_by_label("Customer name").fill("Pat Walker")
    page.get_by_label("E-mail").fill("pat@example.com")
    page.get_by_label("Delivered home").check()
    page.get_by_label("Address").fill("1 Strand")
    page.get_by_label("Town or city").fill("London")
    page.get_by_label("Postcode").fill("WC2N 5DU")
    document(page, "store-endless-aisle.png")
    page.get_by_role("button", name="Place order").click()

    placed = Order.objects.get()
    expect(page.get_by_role("heading", name=f"Order {placed.number} placed")).to_be_visible()
    assert (placed.channel.kind, placed.method, placed.placed_by.username) == ("store", "delivery", "sam")
    assert placed.customer.email == "pat@example.com"
    shipment = placed.fulfilments.get()
    assert (shipment.location, shipment.method) == (network.warehouse, "ship_from_warehouse")
    assert network.level(network.warehouse, sku).reserved == 2
