"""The back office as an agent and a supervisor use it: search, the order page, refunds by role.

With DOCS_SCREENSHOTS=1 the tests also refresh the screenshots in docs/screenshots/.
"""

from datetime import timedelta
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone

from inventory.inbound import inbound_create, inbound_receive
from oms.models import StaffProfile
from returns.models import Refund
from tests.backoffice.support import LEEDS_ADDRESS, received_return
from tests.browser.support import document
from tests.factories import ChannelFactory
from tests.orders_support import place

Role = StaffProfile.Role


def search(page, text: str) -> None:
    box = page.get_by_role("searchbox", name="Search orders and customers")
    box.fill(text)
    box.press("Enter")
    page.wait_for_load_state()


def test_a_phone_typed_another_way_finds_one_customers_orders_from_two_channels(page, sign_in, staff_user, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    web = place(network, [(sku, 1)], external_id="WEB-1", customer={"phone": "+447700900123", "name": "Ann Lee"})
    network.web = ChannelFactory(code="app", name="Mobile app")
    app = place(network, [(sku, 2)], external_id="APP-1", customer={"phone": "+44 7700 900123"})
    staff_user("agent", Role.AGENT)
    sign_in("agent")
    search(page, "07700 900123")
    customers = page.get_by_role("region", name="Customers")
    assert customers.get_by_role("link", name="Ann Lee").is_visible()
    orders = page.get_by_role("region", name="Orders")
    assert orders.get_by_role("link", name=web.number).is_visible()
    assert orders.get_by_role("link", name=app.number).is_visible()
    assert orders.get_by_text("Mobile app").is_visible()
    document(page, "backoffice-search.png")
    customers.get_by_role("link", name="Ann Lee").click()
    assert page.get_by_role("heading", name="Ann Lee").is_visible()
    assert page.get_by_role("region", name="Orders").get_by_role("link", name=app.number).is_visible()
    document(page, "backoffice-customer.png")


def test_an_address_change_on_the_order_page_reroutes_and_the_timeline_says_why(page, sign_in, staff_user, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    network.stock(network.leeds, sku, 3)
    order = place(network, [(sku, 1)], customer={"email": "ann@example.com", "name": "Ann Lee"})
    staff_user("agent", Role.AGENT)
    sign_in("agent")
    page.goto(f"/backoffice/orders/{order.pk}/")
    page.get_by_text("Change delivery address").click()
    for label, key in (("Address line 1", "line1"), ("Town or city", "city"), ("Postcode", "postcode")):
        page.get_by_label(label).fill(LEEDS_ADDRESS[key])
    page.get_by_role("button", name="Change address").click()
    page.wait_for_load_state()
    assert "Routing: Single shipment from ST-LEEDS" in page.get_by_role("status").inner_text()
    fulfilments = page.get_by_role("region", name="Fulfilments")
    assert fulfilments.get_by_role("row", name="ST-LEEDS").get_by_text("Pending").is_visible()
    timeline = page.get_by_role("region", name="Timeline").inner_text()
    assert "Delivery address changed by agent agent: now postcode LS1 6HD." in timeline
    assert f"Work at {network.soho.name} cancelled: delivery address changed." in timeline
    assert "Re-routed by agent agent: Single shipment from ST-LEEDS" in timeline
    document(page, "backoffice-order.png")


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_an_agent_cannot_refund_above_the_limit_and_a_supervisor_can(page, sign_in, staff_user, network):
    ret = received_return(network, units=12)  # 120.00 due
    staff_user("agent", Role.AGENT)
    staff_user("boss", Role.SUPERVISOR)
    sign_in("agent")
    page.goto(f"/backoffice/orders/{ret.order_id}/")
    assert page.get_by_role("button", name="Request approval for 120.00 GBP").is_visible()
    assert page.get_by_text("Refunds above 100.00 need a supervisor: this one is 120.00.").is_visible()
    assert not Refund.objects.exists()
    sign_in("boss")
    page.goto(f"/backoffice/orders/{ret.order_id}/")
    page.get_by_role("button", name="Refund 120.00 GBP").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Refund 120.00 GBP").is_visible()
    assert not Refund.objects.exists()  # shown, not yet paid
    page.get_by_role("button", name="Confirm refund").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text() == f"Refunded 120.00 GBP for {ret.reference}."
    assert Refund.objects.get(ret=ret).created_by.username == "boss"


def test_an_agent_sees_when_backordered_units_are_expected_and_that_they_were_filled(
    page, sign_in, staff_user, network
):
    sku = network.skus[0]
    due = timezone.localdate() + timedelta(days=9)
    supply = inbound_create(reference="PO-7", location=network.warehouse.code, expected_on=due, lines=[(sku.code, 3)])
    order = place(network, [(sku, 2)], when_short="backorder")
    staff_user("agent", Role.AGENT)
    sign_in("agent")
    page.set_viewport_size({"width": 390, "height": 844})  # the agent's phone
    page.goto(f"/backoffice/orders/{order.pk}/")
    lines = page.get_by_role("region", name="Lines")
    assert f"by {due:%-d %b %Y}" in lines.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # A word and a huge number in the cancel form are refused in plain words, nothing cancelled.
    form = page.locator("form[action$='/cancel-lines/']")
    for wrong in ("two", "1000000000000000"):
        if not form.is_visible():
            page.locator("summary", has_text="Cancel lines").click()
        form.locator("input[name^=line_]").first.evaluate("(el, v) => { el.type = 'text'; el.value = v; }", wrong)
        form.locator("input[name=reason]").fill("checking")
        form.get_by_role("button", name="Cancel these units").click()
        page.wait_for_load_state()
        assert page.get_by_role("main").inner_text().startswith("Nothing was changed. Cancel units of")
    assert order.lines.get().backordered == 2

    inbound_receive(supply=supply, lines=[(sku.code, 3)])
    page.goto(f"/backoffice/orders/{order.pk}/")
    assert f"by {due:%-d %b %Y}" not in page.get_by_role("region", name="Lines").inner_text()
    timeline = page.get_by_role("region", name="Timeline").inner_text()
    assert f"Order allocated: stock arrived at {network.warehouse.code}" in timeline
