"""One refund rule on every path: the approval limit per role, and never more than was paid less refunds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import override_settings

from oms.models import StaffProfile
from oms.services import staff_create
from returns.exceptions import RefundNeedsApproval, RefundNotAllowed
from returns.models import Refund, Return
from returns.refunds import refund_quote, return_refund
from tests.conftest import store_staff_client

from .support import received_return

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("limit_100")]

Role = StaffProfile.Role


@pytest.fixture
def limit_100():
    with override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00")):
        yield


def person(role: str, username: str | None = None, stores=()):
    return staff_create(
        username=username or role, password="pw-123456789", role=role, store_codes=[s.code for s in stores]
    ).user


def desk(network, ret, path=""):
    return f"/store/{network.soho.code}/returns/{ret.reference}/{path}"


def assert_not_refunded(ret):
    ret.refresh_from_db()
    assert ret.status == Return.Status.RECEIVED
    assert not Refund.objects.filter(ret=ret).exists()


def test_store_desk_refund_above_the_limit_is_refused_and_changes_nothing(network):
    ret = received_return(network, unit_price="75.00", units=2, tenders=[{"type": "card", "amount": "150.00"}])
    soho = store_staff_client(network.soho)
    response = soho.post(desk(network, ret, "settle/"), {"action": "refund", "method": "original_tenders"}, follow=True)
    assert "Refunds above 100.00 need a supervisor: this one is 150.00." in response.content.decode()
    assert_not_refunded(ret)


def test_store_desk_shows_the_amount_and_tenders_and_asks_to_confirm(network):
    ret = received_return(
        network,
        unit_price="20.00",
        units=2,
        tenders=[
            {"type": "card", "amount": "30.00", "reference": "PAY-1"},
            {"type": "gift_card", "amount": "10.00", "reference": "GC-1"},
        ],
    )
    soho = store_staff_client(network.soho)
    page = soho.get(desk(network, ret, "refund/"), {"method": "original_tenders"}).content.decode()
    assert "Refund 40.00 GBP: 30.00 to card, 10.00 to gift card" in page
    assert "Confirm refund" in page
    assert_not_refunded(ret)  # looking is not refunding


def test_store_desk_preview_above_the_limit_offers_an_approval_request(network):
    ret = received_return(network)  # 214.00 GBP
    soho = store_staff_client(network.soho)
    page = soho.get(desk(network, ret, "refund/"), {"method": "original_tenders"}).content.decode()
    assert "Refund 214.00 GBP: 200.00 to card, 14.00 to gift card" in page
    assert "Request approval" in page
    assert "A supervisor must approve refunds above 100.00 GBP" in page
    assert "Confirm refund" not in page


@pytest.mark.parametrize("role", [Role.STORE_STAFF, Role.AGENT])
def test_the_service_caps_store_staff_and_agents_at_the_limit(network, role):
    ret = received_return(network)
    with pytest.raises(RefundNeedsApproval) as exc:
        return_refund(ret=ret, actor=person(role, stores=[network.soho] if role == Role.STORE_STAFF else ()))
    assert exc.value.message == "Refunds above 100.00 need a supervisor: this one is 214.00."
    assert_not_refunded(ret)


@pytest.mark.parametrize("role", [Role.SUPERVISOR, Role.ADMIN])
def test_supervisors_and_admins_refund_above_the_limit(network, role):
    ret = received_return(network)
    refund = return_refund(ret=ret, actor=person(role))
    assert refund.amount == Decimal("214.00")
    assert [(a["type"], a["amount"]) for a in refund.allocations] == [("card", "200.00"), ("gift_card", "14.00")]


def test_a_refund_without_a_person_is_capped_like_an_agent(network):
    ret = received_return(network)
    with pytest.raises(RefundNeedsApproval):
        return_refund(ret=ret)
    assert_not_refunded(ret)


def test_no_refund_exceeds_what_was_paid_less_what_was_refunded(network):
    # 214.00 of goods came back but only 150.00 was ever paid.
    ret = received_return(network, tenders=[{"type": "card", "amount": "150.00", "reference": "PAY-1"}])
    boss = person(Role.SUPERVISOR)
    with pytest.raises(RefundNotAllowed) as exc:
        return_refund(ret=ret, actor=boss)
    assert exc.value.message == "A refund of 214.00 GBP is more than the 150.00 GBP paid and not yet refunded."
    assert_not_refunded(ret)
    with pytest.raises(RefundNotAllowed):
        return_refund(ret=ret, actor=boss, method=Return.RefundMethod.STORE_CREDIT)
    assert_not_refunded(ret)


def test_shipping_on_top_cannot_take_a_refund_past_what_was_paid(network):
    ret = received_return(network)  # 214.00 paid, 214.00 returned
    with pytest.raises(RefundNotAllowed):
        return_refund(ret=ret, actor=person(Role.SUPERVISOR), shipping=Decimal("4.99"))
    assert_not_refunded(ret)


def test_the_quote_names_amount_tenders_and_whether_approval_is_needed(network):
    ret = received_return(network)
    quote = refund_quote(ret=ret, actor=person(Role.STORE_STAFF, stores=[network.soho]))
    assert quote.summary == "Refund 214.00 GBP: 200.00 to card, 14.00 to gift card"
    assert (quote.amount, quote.needs_approval, quote.refusal) == (Decimal("214.00"), True, None)
    assert refund_quote(ret=ret, actor=person(Role.SUPERVISOR)).needs_approval is False


def test_a_hand_made_confirmation_with_a_bad_amount_or_method_refunds_nothing(network):
    ret = received_return(network, unit_price="20.00", units=2, tenders=[{"type": "card", "amount": "40.00"}])
    soho = store_staff_client(network.soho)
    for data, message in [
        ({"amount": "abc"}, "The confirmed amount is not a number."),
        ({"amount": "30.00"}, "The refund due is now 40.00 GBP, not 30.00; check it and confirm again."),
        ({"method": "cash"}, "Unknown refund method."),
    ]:
        post = {"action": "refund", "method": "original_tenders", **data}
        response = soho.post(desk(network, ret, "settle/"), post, follow=True)
        assert message in response.content.decode()
        assert_not_refunded(ret)
    response = soho.post(desk(network, ret, "settle/"), {"action": "request"}, follow=True)
    assert "40.00 GBP is within your limit: refund it yourself." in response.content.decode()
    response = soho.post(desk(network, ret, "settle/"), {"action": "refund", "amount": "40.00"}, follow=True)
    assert "Refunded 40.00 GBP" in response.content.decode()
