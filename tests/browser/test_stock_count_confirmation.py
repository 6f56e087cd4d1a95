"""A barcode scanned into the count field, and a count far from on-hand, on the real stock page."""

from __future__ import annotations

from playwright.sync_api import expect

from inventory.models import StockMovement


def test_a_scanned_barcode_is_refused_and_a_far_count_is_applied_once_confirmed(network, soho_staff, page):
    sku = network.skus[0]
    network.stock(network.soho, sku, 12)
    page.goto(f"/store/{network.soho.code}/stock/?sku={sku.code}")

    # A scanner types the barcode into the focused field and presses Enter.
    page.get_by_label("Counted on the shelf").fill("5060000001327")
    page.get_by_label("Counted on the shelf").press("Enter")
    expect(page.get_by_text("5,060,000,001,327 is more than the 1,000,000 units a location may hold.")).to_be_visible()
    assert network.level(network.soho, sku).on_hand == 12

    page.get_by_label("Counted on the shelf").fill("5000")
    page.get_by_role("button", name="Save count").click()
    expect(page.get_by_role("alert")).to_have_text("This count changes on hand from 12 to 5,000 — confirm?")
    assert network.level(network.soho, sku).on_hand == 12

    page.get_by_role("button", name="Confirm count").click()
    expect(page.get_by_role("status")).to_contain_text(f"{sku.code}: 5000 on hand")
    assert network.level(network.soho, sku).on_hand == 5000
    assert StockMovement.objects.filter(kind="count").get().on_hand_delta == 4988
