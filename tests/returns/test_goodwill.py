"""Goodwill refunds without a return: reason codes, the same limit, room and approval as a return's refund."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from core.errors import InvalidInput
from omnichannel.backoffice.worklists import worklist_counts
from oms.models import Activity, OutboxEvent, StaffProfile
from oms.services import staff_create
from returns.approvals import refund_request_approve, refund_request_reject
from returns.exceptions import RefundNeedsApproval, RefundNotAllowed
from returns.goodwill import goodwill_request_create, order_goodwill_refund
from returns.models import Refund, RefundRequest
from returns.refunds import refund_quote
from tests.returns.support import received_return

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("limit_100")]
Role = StaffProfile.Role


@pytest.fixture
def limit_100():
    with override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00")):
        yield


def person(username, role):
    return staff_create(username=username, password="a-long-test-pass-42", role=role).user


def test_an_agent_pays_goodwill_within_the_limit_to_the_original_card(network):
    ret = received_return(network)  # 214.00 GBP: 200.00 card, 14.00 gift card
    agent = person("ann", Role.AGENT)
    refund = order_goodwill_refund(
        order=ret.order, amount="20", reason="late_delivery", actor=agent, note="3 days late"
    )
    assert (refund.ret, refund.order, refund.amount, refund.goodwill_reason) == (
        None,
        ret.order,
        Decimal("20.00"),
        "late_delivery",
    )
    assert refund.allocations == [{"type": "card", "reference": "PAY-7", "amount": "20.00"}]
    said = Activity.objects.get(action="goodwill_refund")
    assert said.reason == "20.00 GBP, late delivery (3 days late)"
    assert OutboxEvent.objects.get(type="refund.requested").data["goodwill_reason"] == "late_delivery"


def test_above_the_limit_it_waits_for_a_supervisor_then_is_paid_once(network):
    ret = received_return(network)
    agent, boss = person("ann", Role.AGENT), person("boss", Role.SUPERVISOR)
    with pytest.raises(RefundNeedsApproval):
        order_goodwill_refund(order=ret.order, amount="150.00", reason="damaged_kept", actor=agent)
    asked = goodwill_request_create(order=ret.order, amount="150.00", reason="damaged_kept", actor=agent, note="dent")
    assert not Refund.objects.exists()
    assert worklist_counts(now=asked.requested_at)["approvals"] == 1
    # The pending goodwill holds its money: the return's 214.00 no longer fits in what was paid.
    assert "more than the 64.00 GBP paid" in refund_quote(ret=ret, actor=boss).refusal

    decided = refund_request_approve(request=asked, actor=boss, note="ok")
    assert decided.status == RefundRequest.Status.APPROVED
    assert (decided.refund.amount, decided.refund.ret, decided.refund.goodwill_reason) == (
        Decimal("150.00"),
        None,
        "damaged_kept",
    )
    assert worklist_counts(now=asked.requested_at)["approvals"] == 0
    assert [a.action for a in Activity.objects.filter(subject="order", action__contains="goodwill")] == [
        "goodwill_request",
        "goodwill_refund",
    ]
    assert Activity.objects.filter(subject="order", action="refund_approve").count() == 1


def test_a_rejected_goodwill_request_pays_nothing(network):
    ret = received_return(network)
    agent, boss = person("ann", Role.AGENT), person("boss", Role.SUPERVISOR)
    asked = goodwill_request_create(order=ret.order, amount="150.00", reason="service", actor=agent)
    refund_request_reject(request=asked, actor=boss, note="not our fault")
    assert not Refund.objects.exists()


def test_bad_input_and_more_than_was_paid_are_refused_and_change_nothing(network):
    ret = received_return(network)
    boss = person("boss", Role.SUPERVISOR)
    with pytest.raises(InvalidInput) as bad:
        order_goodwill_refund(order=ret.order, amount="-5", reason="whim", actor=boss)
    assert set(bad.value.errors) == {"amount", "reason"}
    with pytest.raises(InvalidInput):
        order_goodwill_refund(order=ret.order, amount="NaN", reason="other", actor=boss)
    with pytest.raises(RefundNotAllowed, match="more than the 214.00 GBP paid"):
        order_goodwill_refund(order=ret.order, amount="214.01", reason="other", actor=boss)
    order_goodwill_refund(order=ret.order, amount="200", reason="other", actor=boss)
    with pytest.raises(RefundNotAllowed, match="more than the 14.00 GBP paid"):
        order_goodwill_refund(order=ret.order, amount="15", reason="other", actor=boss)
    assert Refund.objects.count() == 1


def test_the_order_page_pays_or_asks_and_the_timeline_says_why(client, network):
    ret = received_return(network)
    client.force_login(person("ann", Role.AGENT))
    url = reverse("backoffice:order_action", args=[ret.order_id, "goodwill"])
    paid = client.post(url, {"amount": "20.00", "reason": "late_delivery", "method": "store_credit"}, follow=True)
    assert [str(m) for m in paid.context["messages"]] == ["Goodwill refund of 20.00 GBP paid."]
    asked = client.post(url, {"amount": "120.00", "reason": "missing_item", "method": "original_tenders"}, follow=True)
    assert [str(m) for m in asked.context["messages"]] == [
        "Approval requested for a goodwill refund of 120.00 GBP: a supervisor must approve it."
    ]
    page = asked.content.decode()
    assert "Goodwill refund paid by agent ann: 20.00 GBP, late delivery." in page
    assert "Goodwill refund requested by agent ann: 120.00 GBP, item missing from the parcel; waiting" in page
    bad = client.post(url, {"amount": "0", "reason": "late_delivery", "method": "store_credit"}, follow=True)
    assert str(list(bad.context["messages"])[0]).startswith("Nothing was changed. Amount:")
    approvals = client.get(reverse("backoffice:worklist", args=["approvals"])).content.decode()
    assert "goodwill (item missing from the parcel)" in approvals
