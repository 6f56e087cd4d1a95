"""Refund requests: above the limit nothing is paid until a supervisor approves, and it is paid once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from oms.models import Activity, OutboxEvent, StaffProfile
from oms.selectors import order_timeline
from oms.services import staff_create
from returns.approvals import (
    RefundDecisionNotAllowed,
    refund_request_approve,
    refund_request_create,
    refund_request_reject,
)
from returns.exceptions import RefundNotAllowed
from returns.models import Refund, RefundRequest, Return
from returns.refunds import return_refund
from tests.conftest import store_staff_client

from .support import received_return

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("limit_100")]

Role = StaffProfile.Role


@pytest.fixture
def limit_100():
    with override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00")):
        yield


@pytest.fixture
def people(network):
    def make(username, role, stores=()):
        return staff_create(
            username=username, password="pw-123456789", role=role, store_codes=[s.code for s in stores]
        ).user

    return {
        "sam": make("sam", Role.STORE_STAFF, [network.soho]),
        "ann": make("ann", Role.AGENT),
        "boss": make("boss", Role.SUPERVISOR),
        "chief": make("chief", Role.SUPERVISOR),
    }


def test_a_request_pays_nothing_until_a_supervisor_approves(network, people):
    ret = received_return(network)
    request = refund_request_create(ret=ret, actor=people["sam"], reason="wrong size twice")
    assert (request.amount, request.currency, request.status) == (Decimal("214.00"), "GBP", "pending")
    assert [(a["type"], a["amount"]) for a in request.allocations] == [("card", "200.00"), ("gift_card", "14.00")]
    assert not Refund.objects.exists()
    assert not OutboxEvent.objects.filter(type="refund.requested").exists()

    refund_request_approve(request=request, actor=people["boss"], note="checked the parcel")

    request.refresh_from_db()
    ret.refresh_from_db()
    assert (request.status, request.decided_by, request.refund.amount) == (
        "approved",
        people["boss"],
        Decimal("214.00"),
    )
    assert ret.status == Return.Status.REFUNDED
    assert OutboxEvent.objects.filter(type="refund.requested", data__return=ret.reference).count() == 1
    timeline = [e.text for e in order_timeline(order=ret.order)]
    assert any(t.startswith("refund_request: Refund 214.00 GBP: 200.00 to card, 14.00 to gift card") for t in timeline)
    assert "refund_approve: 214.00 GBP refunded. checked the parcel" in timeline


def test_a_second_approval_refunds_nothing_more(network, people):
    ret = received_return(network)
    request = refund_request_create(ret=ret, actor=people["ann"])
    refund_request_approve(request=request, actor=people["boss"])
    with pytest.raises(RefundDecisionNotAllowed) as exc:
        refund_request_approve(request=request, actor=people["chief"])
    assert exc.value.message == "This refund request was already approved by boss; nothing was changed."
    assert Refund.objects.count() == 1
    assert OutboxEvent.objects.filter(type="refund.requested").count() == 1


def test_only_a_supervisor_decides(network, people):
    ret = received_return(network)
    request = refund_request_create(ret=ret, actor=people["sam"])
    for who in ("sam", "ann"):
        with pytest.raises(RefundDecisionNotAllowed):
            refund_request_approve(request=request, actor=people[who])
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Refund.objects.exists()


def test_rejection_pays_nothing_and_says_why(network, people):
    ret = received_return(network)
    request = refund_request_create(ret=ret, actor=people["sam"])
    with pytest.raises(Exception, match="Say why"):
        refund_request_reject(request=request, actor=people["boss"], note=" ")
    refund_request_reject(request=request, actor=people["boss"], note="goods worn")
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("rejected", "goods worn")
    assert not Refund.objects.exists()
    assert Activity.objects.filter(action="refund_reject", reason="goods worn").exists()
    with pytest.raises(RefundDecisionNotAllowed):
        refund_request_approve(request=request, actor=people["chief"])
    assert not Refund.objects.exists()


def test_one_pending_request_per_return_and_no_direct_refund_meanwhile(network, people):
    ret = received_return(network)
    refund_request_create(ret=ret, actor=people["sam"])
    with pytest.raises(RefundNotAllowed, match="waiting for a supervisor"):
        refund_request_create(ret=ret, actor=people["ann"])
    with pytest.raises(RefundNotAllowed, match="waiting for a supervisor"):
        return_refund(ret=ret, actor=people["boss"])
    assert RefundRequest.objects.count() == 1
    assert not Refund.objects.exists()


def test_within_the_limit_there_is_nothing_to_request(network, people):
    ret = received_return(network, unit_price="20.00", units=2, tenders=[{"type": "card", "amount": "40.00"}])
    with pytest.raises(RefundNotAllowed, match="within your limit"):
        refund_request_create(ret=ret, actor=people["sam"])
    assert not RefundRequest.objects.exists()


def test_approval_checks_again_that_the_refund_is_still_due(network, people):
    # 214.00 paid; while the request waits, 100.00 goes back on the same order some other way.
    ret = received_return(network, tenders=[{"type": "card", "amount": "214.00", "reference": "PAY-1"}])
    request = refund_request_create(ret=ret, actor=people["sam"])
    Refund.objects.create(ret=Return.objects.create(order=ret.order), amount=Decimal("100.00"), currency="GBP")
    with pytest.raises(RefundNotAllowed, match="more than the 114.00 GBP paid and not yet refunded"):
        refund_request_approve(request=request, actor=people["boss"])
    request.refresh_from_db()
    ret.refresh_from_db()
    assert (request.status, ret.status) == ("pending", Return.Status.RECEIVED)
    assert not Refund.objects.filter(ret=ret).exists()


def test_a_request_cannot_ask_for_more_than_was_paid_less_refunds(network, people):
    ret = received_return(network, tenders=[{"type": "card", "amount": "150.00", "reference": "PAY-1"}])
    with pytest.raises(RefundNotAllowed, match="more than the 150.00 GBP paid"):
        refund_request_create(ret=ret, actor=people["sam"])
    assert not RefundRequest.objects.exists()


def test_store_staff_ask_for_approval_at_the_desk_and_see_the_outcome(network, people):
    ret = received_return(network)
    soho = store_staff_client(network.soho, "sue")
    url = f"/store/{network.soho.code}/returns/{ret.reference}/"
    response = soho.post(url + "settle/", {"action": "request", "method": "original_tenders", "reason": "faulty"})
    assert response.url == url
    page = soho.get(url).content.decode()
    assert "Approval requested: a supervisor must approve the refund of 214.00 GBP" in page
    assert "214.00 GBP requested by sue" in page
    request = RefundRequest.objects.get()
    assert (request.requested_by.username, request.reason) == ("sue", "faulty")
    assert not Refund.objects.exists()
    refund_request_approve(request=request, actor=people["boss"])
    response = soho.get(url)
    assert response.url == url + "receipt/"
    receipt = soho.get(response.url).content.decode()
    assert "Refunded 214.00 GBP" in receipt
    assert "Approved by boss on" in receipt
