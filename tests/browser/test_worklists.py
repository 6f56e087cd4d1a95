"""The back office's worklists as agents and supervisors use them.

With DOCS_SCREENSHOTS=1 the tests also refresh the screenshots in docs/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.test import override_settings
from django.utils import timezone
from playwright.sync_api import expect

from oms.models import Order, StaffProfile
from oms.services import orders_release_due_holds
from returns.models import Refund, RefundRequest, Return
from tests.backoffice.test_worklists import counted_by_hand
from tests.backoffice.worklist_support import arrange_exceptions, bare_order
from tests.browser.support import document
from tests.returns.support import received_return

Role = StaffProfile.Role


def tile(page, slug: str):
    return page.get_by_test_id(f"tile-{slug}")


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_an_agents_refund_over_the_limit_is_approved_from_the_worklist_and_the_agent_sees_it_done(
    page, sign_in, staff_user, network
):
    ret = received_return(network)  # 214.00 GBP: 200.00 by card, 14.00 by gift card
    staff_user("ann", Role.AGENT)
    staff_user("boss", Role.SUPERVISOR)

    sign_in("ann")
    page.goto(f"/backoffice/orders/{ret.order_id}/")
    page.get_by_role("button", name="Request approval for 214.00 GBP").click()
    page.get_by_label("Why the refund is due (for the supervisor)").fill("parcel arrived crushed")
    page.get_by_role("button", name="Request approval").click()
    expect(page.get_by_role("status").first).to_contain_text("Approval requested for the refund of 214.00 GBP")
    assert not Refund.objects.exists()

    sign_in("boss")
    page.goto("/backoffice/")
    expect(tile(page, "approvals")).to_contain_text("1 Refunds waiting for approval")
    tile(page, "approvals").click()
    row = page.get_by_role("row", name=ret.reference)
    expect(row).to_contain_text("parcel arrived crushed")
    document(page, "backoffice-worklist-approvals.png")
    row.get_by_label("Approval note").fill("photos checked")
    row.get_by_role("button", name="Approve and refund 214.00 GBP").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"Refund of 214.00 GBP for {ret.reference} approved and refunded."
    )
    expect(page.get_by_text("Nothing here: no refunds waiting for approval.")).to_be_visible()
    expect(tile(page, "approvals")).to_contain_text("0 Refunds waiting for approval")
    assert RefundRequest.objects.get().status == RefundRequest.Status.APPROVED

    sign_in("ann")
    page.goto(f"/backoffice/orders/{ret.order_id}/")
    expect(page.get_by_role("region", name="Returns")).to_contain_text("Refunded")
    expect(page.get_by_role("region", name="Timeline")).to_contain_text("214.00 GBP")
    ret.refresh_from_db()
    assert ret.status == Return.Status.REFUNDED


def test_a_hold_with_a_time_out_is_listed_then_released_and_leaves_the_worklist(page, sign_in, staff_user, network):
    staff_user("ann", Role.AGENT)
    network.stock(network.soho, network.skus[2], 1)
    order = bare_order(network, "WEB-HOLD")
    until = timezone.localtime() + timedelta(hours=2)

    sign_in("ann")
    page.goto(f"/backoffice/orders/{order.pk}/")
    page.get_by_text("Put on hold").click()
    page.get_by_label("Hold reason").select_option(label="Customer request")
    page.get_by_label("Note", exact=True).fill("wants another size")
    page.get_by_label("Release automatically at (optional)").fill(until.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Hold", exact=True).click()
    expect(page.get_by_role("status").first).to_have_text(
        f"The order is on hold until {until:%d %b %H:%M}, then released."
    )
    expect(page.get_by_role("region", name="Timeline")).to_contain_text(
        "Put on hold by agent ann: customer request (wants another size); released automatically at"
    )

    page.goto("/backoffice/")
    expect(tile(page, "holds")).to_contain_text("1 Orders on hold")
    tile(page, "holds").click()
    expect(page.get_by_role("row", name=order.number)).to_contain_text("Customer request")
    document(page, "backoffice-worklist-holds.png")

    assert orders_release_due_holds(now=timezone.now() + timedelta(hours=3)) == 1
    page.reload()
    expect(page.get_by_role("row", name=order.number)).to_have_count(0)
    expect(tile(page, "holds")).to_contain_text("0 Orders on hold")
    assert Order.objects.get(pk=order.pk).status == Order.Status.ALLOCATED


def test_the_worklist_counts_equal_the_database(page, sign_in, staff_user, network):
    ann = staff_user("ann", Role.AGENT)
    arrange_exceptions(network, ann)
    expected = counted_by_hand(timezone.now())
    assert all(expected.values())  # every list has something to count

    sign_in("ann")
    page.goto("/backoffice/")
    for slug, n in expected.items():
        expect(tile(page, slug).locator("strong")).to_have_text(str(n))
    document(page, "backoffice-home-worklists.png")
    tile(page, "store-work").click()
    expect(page.get_by_role("heading", name="Store work late or declined")).to_contain_text(str(expected["store-work"]))
    expect(page.locator("tbody tr")).to_have_count(expected["store-work"])


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_a_goodwill_refund_within_the_limit_is_paid_and_above_it_waits_for_a_supervisor(
    page, sign_in, staff_user, network
):
    ret = received_return(network)
    staff_user("ann", Role.AGENT)
    sign_in("ann")
    page.goto(f"/backoffice/orders/{ret.order_id}/")
    expect(page.get_by_text("Candidates considered (1) and why the others lost")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Score components (lower wins)")).to_be_hidden()

    def goodwill(amount: str, reason: str) -> None:
        page.get_by_text("Goodwill refund", exact=True).click()
        page.get_by_label("Amount").fill(amount)
        page.get_by_label("Goodwill reason").select_option(label=reason)
        page.get_by_role("button", name="Refund goodwill").click()

    goodwill("15.00", "Late delivery")
    expect(page.get_by_role("status").first).to_have_text("Goodwill refund of 15.00 GBP paid.")
    goodwill("150.00", "Item missing from the parcel")
    expect(page.get_by_role("status").first).to_have_text(
        "Approval requested for a goodwill refund of 150.00 GBP: a supervisor must approve it."
    )
    timeline = page.get_by_role("region", name="Timeline")
    expect(timeline).to_contain_text("Goodwill refund paid by agent ann: 15.00 GBP, late delivery.")
    expect(timeline).to_contain_text("Goodwill refund requested by agent ann: 150.00 GBP, item missing")
    document(page, "backoffice-order-goodwill.png")
    assert list(Refund.objects.values_list("amount", "goodwill_reason")) == [(Decimal("15.00"), "late_delivery")]
    page.goto("/backoffice/worklists/approvals/")
    expect(page.get_by_role("row", name="goodwill (item missing from the parcel)")).to_contain_text("150.00 GBP")
