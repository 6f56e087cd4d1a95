"""Store staff work their queue in a real browser: accept, pick by scanning, pack and ship;
decline; hand a click-and-collect parcel over against its code; and never reach another
store's work. Each step leaves a screenshot in artifacts/screenshots/; with DOCS_SCREENSHOTS=1
the main pages are also saved to docs/screenshots/store-*.png for the documentation.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_expire, fulfilment_ready
from inventory.models import Barcode
from oms.models import StaffProfile
from oms.services import api_token_issue
from tests.browser.conftest import SCREENSHOTS
from tests.factories import SkuFactory, gtin13
from tests.orders_support import place

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
S = Fulfilment.Status
CUSTOMERS = [
    {"name": "Priya Shah", "email": "priya@example.com", "phone": "+44 7700 900101"},
    {"name": "Tom Murphy", "email": "tom@example.com", "phone": "+44 7700 900202"},
    {"name": "Ana Costa", "email": "ana@example.com", "phone": "+44 7700 900303"},
    {"name": "Liam Walsh", "email": "liam@example.com", "phone": "+44 7700 900404"},
    {"name": "Mei Chen", "email": "mei@example.com", "phone": "+44 7700 900505"},
]
PRODUCTS = [  # code, name, category, attributes
    ("KN-CREW-NVY-M", "Merino crew jumper", "knitwear", {"range": "Core", "colour": "navy", "size": "M"}),
    ("SH-OXF-WHT-L", "Oxford shirt", "shirts", {"range": "Core", "colour": "white", "size": "L"}),
    ("AC-BELT-BRN-90", "Leather belt", "accessories", {"colour": "brown", "size": "90"}),
    ("TR-CHINO-STN-32", "Slim chinos", "trousers", {"range": "Weekend", "colour": "stone", "size": "32"}),
]


@pytest.fixture
def shop(network):
    """Soho and Camden stock a small range with barcodes; every order below is placed by the real service."""
    for store, name in ((network.soho, "Soho"), (network.camden, "Camden Town"), (network.leeds, "Leeds")):
        store.name = name
        store.save(update_fields=["name"])
    network.skus = []
    for n, (code, name, category, attributes) in enumerate(PRODUCTS):
        sku = SkuFactory(code=code, name=name, category=category, attributes=attributes)
        Barcode.objects.create(code=gtin13(7000 + n), sku=sku)
        network.stock(network.soho, sku, 50)
        network.stock(network.camden, sku, 50)
        network.skus.append(sku)
    network.orders = 0
    return network


def order(network, lines, *, customer=0, **kwargs):
    network.orders += 1
    placed = place(network, lines, external_id=f"WEB-{20000 + network.orders}", customer=CUSTOMERS[customer], **kwargs)
    return placed.fulfilments.get()


def barcode(sku) -> str:
    return sku.barcodes.get().code


def shot(page, request, step: str, *, docs: str = "") -> None:
    """Keep a screenshot of this step; with DOCS_SCREENSHOTS=1 also as docs/screenshots/<docs>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{request.node.name}-{step}.png", full_page=True)
    if docs and os.environ.get("DOCS_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=DOCS_SCREENSHOTS / f"{docs}.png", full_page=True)


def scan(page, code: str) -> None:
    """Type into whatever has focus and press Enter, as a barcode scanner does."""
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def busy_day(network) -> None:
    """Other work in the queue and on the shelf, so the pages look like a store's day."""
    a, b, c, d = network.skus
    late = order(network, [(c, 1)], customer=1)
    Fulfilment.objects.filter(pk=late.pk).update(created_at=timezone.now() - timedelta(hours=5))
    fulfilment_accept(fulfilment=order(network, [(d, 1), (b, 1)], customer=2))
    collect = order(network, [(a, 1)], customer=3, method="pickup", store=network.soho)
    fulfilment_accept(fulfilment=collect)
    order(network, [(b, 2)], customer=4, method="pickup", store=network.soho)
    for n, hours in ((1, 30), (4, 3)):
        waiting = order(network, [(d, 1)], customer=n, method="pickup", store=network.soho)
        fulfilment_accept(fulfilment=waiting)
        fulfilment_pick(fulfilment=waiting, picked={d.code: 1})
        fulfilment_ready(fulfilment=waiting)
        Fulfilment.objects.filter(pk=waiting.pk).update(ready_at=timezone.now() - timedelta(hours=hours))
    gone = order(network, [(c, 1)], customer=2, method="pickup", store=network.soho)
    fulfilment_accept(fulfilment=gone)
    fulfilment_pick(fulfilment=gone, picked={c.code: 1})
    fulfilment_expire(fulfilment=fulfilment_ready(fulfilment=gone))


@pytest.fixture
def soho_staff(staff_user, shop):
    return staff_user("sam", StaffProfile.Role.STORE_STAFF, stores=[shop.soho])


def test_accept_pick_by_scanning_pack_and_ship_then_the_api_says_shipped(
    page, request, sign_in, soho_staff, shop, live_server
):
    jumper, shirt, belt, _ = shop.skus
    f = order(shop, [(jumper, 2), (shirt, 1)])
    busy_day(shop)
    sign_in("sam")
    expect(page.get_by_role("heading", name="Work queue")).to_be_visible()
    expect(page.locator("tr.overdue")).to_have_count(1)
    shot(page, request, "1-queue", docs="store-queue")

    page.get_by_role("link", name=f.order.number).click()
    expect(page.get_by_role("heading", name=f"Order {f.order.number}")).to_be_visible()
    shot(page, request, "2-fulfilment", docs="store-fulfilment")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name=f"Pick order {f.order.number}")).to_be_visible()
    expect(page.get_by_label("Scan a barcode")).to_be_focused()

    scan(page, barcode(jumper))
    expect(page.locator("#scan-result")).to_contain_text("1 of 2")
    scan(page, barcode(shirt))  # the scan field has the focus again after every count
    expect(page.locator("#scan-result")).to_contain_text("1 of 1")
    scan(page, barcode(belt))
    expect(page.get_by_role("alert")).to_contain_text("not on this order. Nothing counted.")
    expect(page.get_by_text("2 of 3")).to_be_visible()
    shot(page, request, "3-wrong-barcode", docs="store-pick-list")
    scan(page, "5012345678900")
    expect(page.get_by_role("alert")).to_contain_text("Unknown barcode 5012345678900: nothing counted.")
    scan(page, barcode(jumper))
    expect(page.get_by_text("3 of 3")).to_be_visible()
    page.get_by_role("button", name="Confirm pick").click()

    expect(page.get_by_role("status")).to_contain_text(f"All 3 unit(s) of {f.order.number} picked.")
    page.get_by_label("Parcels").fill("1")
    page.get_by_label("Total weight (kg)").fill("1.35")
    page.get_by_role("button", name="Packed").click()
    expect(page.get_by_role("status")).to_contain_text("Packed in 1 parcel(s)")
    page.get_by_role("link", name="Packing slip").click()
    expect(page.get_by_role("heading", name="Packing slip")).to_be_visible()
    expect(page.get_by_text("1 parcel · 1.350 kg")).to_be_visible()
    shot(page, request, "4-packing-slip")
    page.go_back()
    page.get_by_label("Carrier").fill("DPD")
    page.get_by_label("Tracking number").fill("DPD0001234567")
    page.get_by_label("Tracking number").press("Enter")
    expect(page.get_by_role("status")).to_contain_text(f"Order {f.order.number} shipped with DPD.")
    shot(page, request, "5-shipped")

    token = api_token_issue(channel=shop.web)
    answer = page.request.get(f"/api/v1/orders/{f.order.pk}", headers={"Authorization": f"Token {token}"})
    assert answer.status == 200
    body = answer.json()
    assert body["status"] == "shipped"
    assert [(x["status"], x["location"]) for x in body["fulfilments"]] == [("shipped", "ST-SOHO")]
    assert Fulfilment.objects.get(pk=f.pk).tracking == "DPD0001234567"


def test_decline_reroutes_the_order_to_another_store(page, request, sign_in, soho_staff, shop):
    f = order(shop, [(shop.skus[1], 1)])
    sign_in("sam")
    page.goto(f"/store/ST-SOHO/work/{f.pk}/")
    page.get_by_text("Cannot fulfil it? Decline…").click()
    page.get_by_label("Reason").select_option(label="Damaged")
    page.get_by_role("button", name="Decline").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Order {f.order.number} declined (damaged); re-routed to ST-CAMDEN."
    )
    shot(page, request, "declined")
    assert Fulfilment.objects.get(pk=f.pk).status == S.DECLINED
    live = Fulfilment.objects.filter(order=f.order).exclude(status__in=Fulfilment.INACTIVE)
    assert [(x.location.code, x.status) for x in live] == [("ST-CAMDEN", S.PENDING)]


def test_pickup_handed_over_with_its_code_and_a_wrong_code_refused(page, request, sign_in, soho_staff, shop):
    shirt = shop.skus[1]
    f = order(shop, [(shirt, 1)], method="pickup", store=shop.soho)
    busy_day(shop)
    sign_in("sam")
    page.goto(f"/store/ST-SOHO/work/{f.pk}/")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_label("Scan a barcode")).to_be_focused()
    scan(page, barcode(shirt))
    expect(page.locator("#scan-result")).to_contain_text("1 of 1")
    page.get_by_role("button", name="Confirm pick").click()
    page.get_by_role("button", name="On the shelf: notify the customer").click()
    expect(page.get_by_role("status")).to_contain_text("the customer has been sent their code")
    expect(page.get_by_role("heading", name="Pickup shelf")).to_be_visible()
    expect(page.get_by_role("row", name=re.compile(f.order.number))).to_be_visible()
    shot(page, request, "1-shelf", docs="store-pickup-shelf")

    f.refresh_from_db()
    wrong = "000000" if f.pickup_code != "000000" else "111111"
    page.get_by_role("link", name=f"Hand over {f.order.number}").click()
    page.get_by_label("Pickup code").fill(wrong)
    page.get_by_role("button", name="Check code and hand over").click()
    expect(page.get_by_role("status")).to_contain_text("That pickup code is not right. 4 tries left.")
    assert Fulfilment.objects.get(pk=f.pk).status == S.READY_FOR_PICKUP
    shot(page, request, "2-wrong-code")

    page.get_by_label("Find the parcel").fill("")
    page.get_by_label("Find the parcel").focus()
    scan(page, f.pickup_code)  # the customer's code, scanned from their phone
    expect(page.get_by_label("Pickup code")).to_have_value(f.pickup_code)
    shot(page, request, "3-found-by-code", docs="store-handover")
    page.get_by_role("button", name="Check code and hand over").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order {f.order.number} handed over to Priya Shah: collected.")
    assert Fulfilment.objects.get(pk=f.pk).status == S.COLLECTED


def test_staff_of_one_store_cannot_see_or_act_on_another_stores_work(page, request, sign_in, soho_staff, shop):
    jumper = shop.skus[0]
    shop.stock(shop.leeds, jumper, 5)
    leeds = order(shop, [(jumper, 1)], lat=53.80, lon=-1.55)
    own = order(shop, [(jumper, 1)])
    assert leeds.location == shop.leeds and own.location == shop.soho
    reserved = shop.level(shop.leeds, jumper).reserved
    sign_in("sam")
    expect(page.get_by_role("link", name=own.order.number)).to_be_visible()
    expect(page.get_by_role("link", name=leeds.order.number)).to_have_count(0)

    for path in (f"/store/ST-SOHO/work/{leeds.pk}/", f"/store/ST-LEEDS/work/{leeds.pk}/", "/store/ST-LEEDS/"):
        assert page.goto(path).status == 404, path
    shot(page, request, "not-found")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf, "Referer": page.url}
    for path in (f"/store/ST-SOHO/work/{leeds.pk}/accept/", f"/store/ST-LEEDS/work/{leeds.pk}/accept/"):
        assert page.request.post(path, headers=headers, max_redirects=0).status == 404, path
    assert Fulfilment.objects.get(pk=leeds.pk).status == S.PENDING
    assert shop.level(shop.leeds, jumper).reserved == reserved
    # The same request on the store's own work goes through: the 404s above were the scope.
    assert page.request.post(f"/store/ST-SOHO/work/{own.pk}/accept/", headers=headers, max_redirects=0).status == 302
    assert Fulfilment.objects.get(pk=own.pk).status == S.ACCEPTED


def test_queue_refreshes_itself_and_fits_a_tablet(page, request, sign_in, soho_staff, shop, settings):
    settings.OMS_STORE_QUEUE_POLL_SECONDS = 1
    first = order(shop, [(shop.skus[0], 1)])
    page.set_viewport_size({"width": 768, "height": 1024})
    sign_in("sam")
    expect(page.get_by_role("link", name=first.order.number)).to_be_visible()
    later = order(shop, [(shop.skus[1], 1)], customer=1)
    expect(page.get_by_role("link", name=later.order.number)).to_be_visible(timeout=5_000)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_label("Method").select_option(label="Click & collect")
    expect(page.get_by_role("link", name=first.order.number)).to_have_count(0)
    assert "method=click_and_collect" in page.url
    shot(page, request, "tablet")


def test_a_second_tablet_shelving_the_same_parcel_is_told_it_is_done(
    page, browser, live_server, sign_in, soho_staff, shop
):
    """Two tablets show the picked parcel; the second press finds it on the shelf already, in plain words."""
    from tests.browser.conftest import PASSWORD

    f = order(shop, [(shop.skus[0], 1)], method="pickup", store=shop.soho)
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={shop.skus[0].code: 1})
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    tablet = other.new_page()
    try:
        tablet.goto("/accounts/login/")
        tablet.get_by_label("Username").fill("sam")
        tablet.get_by_label("Password").fill(PASSWORD)
        tablet.get_by_role("button", name="Sign in").click()
        sign_in("sam")
        for p in (page, tablet):
            p.goto(f"/store/ST-SOHO/work/{f.pk}/")
        page.get_by_role("button", name="On the shelf: notify the customer").click()
        expect(page.get_by_role("status")).to_contain_text("the customer has been sent their code")

        tablet.get_by_role("button", name="On the shelf: notify the customer").click()
        expect(tablet.get_by_role("status")).to_have_text(
            "That was already done: it is on the pickup shelf now, perhaps from another tablet. "
            "Nothing more was changed."
        )
        assert Fulfilment.objects.get(pk=f.pk).status == S.READY_FOR_PICKUP
    finally:
        other.close()
