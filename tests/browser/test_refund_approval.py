"""A refund above the limit asked at the store desk and approved by a supervisor in the back office.

With DOCS_SCREENSHOTS=1 the test also refreshes the screenshots in docs/screenshots/.
"""

from __future__ import annotations

from decimal import Decimal

from django.test import override_settings
from playwright.sync_api import expect

from oms.models import StaffProfile
from returns.models import Refund, RefundRequest, Return
from tests.browser.support import document
from tests.returns.support import received_return

Role = StaffProfile.Role


@override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00"))
def test_store_refund_above_the_limit_waits_for_a_supervisor_then_is_refunded(page, sign_in, staff_user, network):
    ret = received_return(network)  # 214.00 GBP: 200.00 by card, 14.00 by gift card
    staff_user("sam", Role.STORE_STAFF, stores=[network.soho])
    staff_user("boss", Role.SUPERVISOR)

    sign_in("sam")
    page.goto(f"/store/{network.soho.code}/returns/{ret.reference}/")
    page.get_by_label("Refund to").select_option("original_tenders")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_role("heading", name="Refund 214.00 GBP: 200.00 to card, 14.00 to gift card")).to_be_visible()
    expect(page.get_by_text("A supervisor must approve refunds above 100.00 GBP")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm refund")).to_have_count(0)
    page.get_by_label("Why the refund is due (for the supervisor)").fill("zip broken on arrival")
    document(page, "store-refund-approval-request.png")
    page.get_by_role("button", name="Request approval").click()
    expect(page.get_by_text("Approval requested: a supervisor must approve the refund of 214.00 GBP")).to_be_visible()
    expect(page.get_by_role("heading", name="Refund waiting for approval")).to_be_visible()
    assert not Refund.objects.exists()

    sign_in("boss")
    page.goto("/backoffice/")
    page.get_by_role("link", name="Refund approvals").click()
    waiting = page.get_by_role("region", name="Waiting 1")
    expect(waiting.get_by_role("row", name=ret.reference)).to_contain_text("zip broken on arrival")
    expect(waiting).to_contain_text("200.00 to card, 14.00 to gift card")
    document(page, "backoffice-refund-approvals.png")
    page.get_by_label("Approval note").fill("photos checked")
    page.get_by_role("button", name="Approve and refund 214.00 GBP").click()
    expect(page.get_by_role("status")).to_have_text(f"Refund of 214.00 GBP for {ret.reference} approved and refunded.")
    expect(page.get_by_text("No refund is waiting for approval.")).to_be_visible()

    request = RefundRequest.objects.get()
    assert (request.status, request.decided_by.username, request.requested_by.username) == ("approved", "boss", "sam")
    ret.refresh_from_db()
    assert ret.status == Return.Status.REFUNDED
    assert Refund.objects.get().amount == Decimal("214.00")

    page.get_by_role("link", name=ret.order.number).click()
    expect(page.get_by_role("region", name="Timeline")).to_contain_text(
        f"Return {ret.reference}: refund approved by supervisor boss: 214.00 GBP refunded"
    )
    sign_in("sam")
    page.goto(f"/store/{network.soho.code}/returns/{ret.reference}/")
    expect(page.get_by_role("heading", name="Refunded 214.00 GBP")).to_be_visible()
