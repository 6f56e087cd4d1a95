"""Back-office refunds: shown before they are paid, above the limit requested, approved once by a supervisor."""

from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import reverse

from returns.approvals import refund_request_approve, refund_request_create
from returns.models import Refund, RefundRequest, Return
from tests.returns.support import received_return

from .conftest import Role

pytestmark = pytest.mark.usefixtures("limit_100")


@pytest.fixture
def limit_100():
    with override_settings(OMS_REFUND_APPROVAL_LIMIT=Decimal("100.00")):
        yield


def preview(client, ret, method="original_tenders"):
    url = reverse("backoffice:refund_preview", args=[ret.order_id, ret.reference])
    return client.get(url, {"method": method})


def act(client, ret, action, **data):
    url = reverse("backoffice:order_action", args=[ret.order_id, action])
    return client.post(url, {"ret": ret.reference, "method": "original_tenders", **data}, follow=True)


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_an_agent_sees_the_refund_and_confirms_it(client, login, network):
    ret = received_return(
        network,
        unit_price="40.00",
        units=2,
        tenders=[
            {"type": "card", "amount": "70.00", "reference": "PAY-1"},
            {"type": "gift_card", "amount": "10.00", "reference": "GC-1"},
        ],
    )
    login(Role.AGENT)
    order_page = client.get(reverse("backoffice:order", args=[ret.order_id])).content.decode()
    assert "Refund 80.00 GBP" in order_page
    page = preview(client, ret).content.decode()
    assert "Refund 80.00 GBP: 70.00 to card, 10.00 to gift card" in page
    assert "Confirm refund" in page and "Request approval" not in page
    assert not Refund.objects.exists()
    response = act(client, ret, "refund", amount="80.00")
    assert page_messages(response) == [f"Refunded 80.00 GBP for {ret.reference}."]


def test_a_confirmation_that_no_longer_matches_refunds_nothing(client, login, network):
    ret = received_return(network, unit_price="40.00", units=2, tenders=[{"type": "card", "amount": "80.00"}])
    login(Role.AGENT)
    response = act(client, ret, "refund", amount="60.00")
    assert page_messages(response) == [
        "Nothing was changed. The refund due is now 80.00 GBP, not 60.00; check it and confirm again."
    ]
    assert not Refund.objects.exists()


def test_more_than_was_paid_less_refunds_is_refused_in_the_back_office(client, login, network):
    ret = received_return(network, tenders=[{"type": "card", "amount": "150.00", "reference": "PAY-1"}])
    login(Role.SUPERVISOR)
    assert "more than the 150.00 GBP paid and not yet refunded" in preview(client, ret).content.decode()
    response = act(client, ret, "refund")
    assert "more than the 150.00 GBP paid and not yet refunded" in page_messages(response)[0]
    ret.refresh_from_db()
    assert ret.status == Return.Status.RECEIVED and not Refund.objects.exists()


def test_agent_requests_approval_and_a_supervisor_approves_from_the_list(client, login, network):
    ret = received_return(network)  # 214.00 GBP
    login(Role.AGENT)
    order_url = reverse("backoffice:order", args=[ret.order_id])
    order_page = client.get(order_url).content.decode()
    assert "Request approval for 214.00 GBP" in order_page
    page = preview(client, ret).content.decode()
    assert "Refund 214.00 GBP: 200.00 to card, 14.00 to gift card" in page
    assert "A supervisor must approve refunds above 100.00 GBP" in page
    assert "Request approval" in page and "Confirm refund" not in page

    response = act(client, ret, "refund-request", reason="arrived broken")
    assert page_messages(response) == [
        f"Approval requested for the refund of 214.00 GBP on {ret.reference}: "
        "a supervisor must approve it before anything is paid."
    ]
    request = RefundRequest.objects.get()
    assert not Refund.objects.exists()
    assert "waiting for a supervisor's approval: requested by agent" in client.get(order_url).content.decode()
    decide = reverse("backoffice:approval_decide", args=[request.pk, "approve"])
    assert client.post(decide).status_code == 403  # an agent cannot approve
    assert "Refund approvals" in client.get(reverse("backoffice:home")).content.decode()

    login(Role.SUPERVISOR)
    listing = client.get(reverse("backoffice:approvals")).content.decode()
    assert ret.reference in listing and "arrived broken" in listing
    assert "Approve and refund 214.00 GBP" in listing
    response = client.post(decide, {"note": "photo checked"}, follow=True)
    assert page_messages(response) == [f"Refund of 214.00 GBP for {ret.reference} approved and refunded."]
    response = client.post(decide, follow=True)  # a double click
    assert page_messages(response) == [
        "Nothing was changed. This refund request was already approved by supervisor; nothing was changed."
    ]
    assert Refund.objects.get(ret=ret).amount == Decimal("214.00")
    assert Refund.objects.count() == 1

    login(Role.AGENT, "agent2")
    page = client.get(order_url).content.decode()
    assert "Refunded 214.00 GBP" in page
    approved = f"Return {ret.reference}: refund approved by supervisor supervisor: 214.00 GBP refunded. photo checked."
    assert approved in page


def test_a_supervisor_rejects_on_the_order_page(client, login, network):
    ret = received_return(network)
    login(Role.AGENT)
    act(client, ret, "refund-request")
    request = RefundRequest.objects.get()
    login(Role.SUPERVISOR)
    order_url = reverse("backoffice:order", args=[ret.order_id])
    assert "Approve and refund 214.00 GBP" in client.get(order_url).content.decode()
    decide = reverse("backoffice:approval_decide", args=[request.pk, "reject"])
    response = client.post(decide, {"note": "", "next": order_url}, follow=True)
    assert page_messages(response) == ["Nothing was changed. Say why the refund is rejected."]
    response = client.post(decide, {"note": "worn", "next": order_url}, follow=True)
    assert response.redirect_chain[-1][0] == order_url
    assert page_messages(response) == [f"Refund of 214.00 GBP for {ret.reference} rejected."]
    page = response.content.decode()
    assert "The last refund request was rejected by supervisor: worn." in page
    assert f"Return {ret.reference}: refund rejected by supervisor supervisor: worn." in page
    assert not Refund.objects.exists()
    response = client.post(decide, {"next": "https://evil.example/"})
    assert response.url == reverse("backoffice:approvals")


def test_the_approval_list_uses_a_fixed_number_of_queries(client, login, network, django_assert_max_num_queries):
    agent = login(Role.AGENT)
    boss = login(Role.SUPERVISOR)
    for i in range(4):
        ret = received_return(network, external_id=f"WEB-{i}")
        asked = refund_request_create(ret=ret, actor=agent)
        if i % 2:
            refund_request_approve(request=asked, actor=boss)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("backoffice:approvals")).content.decode()
    assert page.count("Approve and refund 214.00 GBP") == 2


def test_no_exchange_while_a_refund_waits_for_approval(client, login, network):
    ret = received_return(network)
    login(Role.AGENT)
    act(client, ret, "refund-request")
    network.stock(network.soho, network.skus[1], 2)
    response = act(client, ret, "exchange", sku=network.skus[1].code, quantity=1)
    assert page_messages(response) == [
        f"Nothing was changed. A refund of return {ret.reference} is waiting for a supervisor's approval."
    ]
    ret.refresh_from_db()
    assert ret.status == Return.Status.RECEIVED


def test_a_rejection_without_a_reason_is_one_sentence_without_field_words(client, login, network):
    ret = received_return(network)
    login(Role.AGENT)
    act(client, ret, "refund-request")
    request = RefundRequest.objects.get()
    login(Role.SUPERVISOR)
    decide = reverse("backoffice:approval_decide", args=[request.pk, "reject"])
    response = client.post(decide, {"note": "  "}, follow=True)
    assert page_messages(response) == ["Nothing was changed. Say why the refund is rejected."]
    request.refresh_from_db()
    assert request.status == RefundRequest.Status.PENDING


@pytest.mark.parametrize("target", ["abc", "0", "NaN", "' OR 1=1 --", "https://evil.example/", "//evil.example/"])
def test_a_decision_with_a_strange_next_page_returns_to_the_list(client, login, network, target):
    ret = received_return(network)
    login(Role.AGENT)
    act(client, ret, "refund-request")
    request = RefundRequest.objects.get()
    login(Role.SUPERVISOR)
    decide = reverse("backoffice:approval_decide", args=[request.pk, "reject"])
    response = client.post(decide, {"note": "", "next": target})
    assert response.status_code == 302 and response.url == reverse("backoffice:approvals"), target
