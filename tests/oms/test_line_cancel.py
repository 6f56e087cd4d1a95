"""Cancelling some units of an order: audited (who, which line, how many, why), the order total
and the refund due follow the cancelled quantity, through the service, the back office and the API."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from oms.amounts import order_amounts
from oms.models import Activity, Order, StaffProfile
from oms.services import api_token_issue, order_cancel, staff_create
from tests.orders_support import place

pytestmark = pytest.mark.django_db

PAID = {"payment_status": "paid", "tenders": [{"type": "card", "amount": "50.00", "reference": "PAY-1"}]}


@pytest.fixture
def ann(db):
    return staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user


def _order(network, **kwargs) -> Order:
    """3 × A and 2 × B at 10.00 each, shipped from Soho: 50.00."""
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    network.stock(network.soho, b, 5)
    return place(network, [(a, 3), (b, 2)], **kwargs)


def test_a_line_cancel_is_audited_and_the_total_follows(network, ann):
    order = _order(network, **PAID)
    line = order.lines.get(sku=network.skus[0])

    order_cancel(order=order, reason="customer changed mind", lines={line.pk: 2}, actor=ann)

    order.refresh_from_db()
    audit = Activity.objects.get(order=order, action="cancel_line")
    assert (audit.subject, audit.from_state, audit.to_state) == (f"line:{line.pk}", "3", "1")
    assert (audit.reason, audit.actor) == ("customer changed mind", ann)
    assert order.total == Decimal("30.00")
    amounts = order_amounts(order=order)
    assert (amounts.placed, amounts.cancelled, amounts.total) == (Decimal("50.00"), Decimal("20.00"), Decimal("30.00"))
    assert (amounts.paid, amounts.refund_due) == (Decimal("50.00"), Decimal("20.00"))
    assert order.fulfilments.get().lines.get(order_line=line).quantity == 1


def test_nothing_is_due_back_on_an_authorised_payment(network, ann):
    order = _order(network)  # authorised: nothing was taken yet
    line = order.lines.get(sku=network.skus[1])
    order_cancel(order=order, reason="asked", lines={line.pk: 2}, actor=ann)
    order.refresh_from_db()
    amounts = order_amounts(order=order)
    assert (amounts.total, amounts.paid, amounts.refund_due) == (Decimal("30.00"), Decimal("0"), Decimal("0"))


def test_refund_due_never_exceeds_what_was_paid(network, ann):
    order = _order(network, **PAID)
    # An order taken before tenders had to add up to the total: only 15.00 was ever paid.
    Order.objects.filter(pk=order.pk).update(tenders=[{"type": "voucher", "amount": "15.00"}])
    order.refresh_from_db()
    line = order.lines.get(sku=network.skus[0])
    order_cancel(order=order, reason="asked", lines={line.pk: 3}, actor=ann)
    order.refresh_from_db()
    assert order_amounts(order=order).refund_due == Decimal("15.00")


def test_cancelling_everything_line_by_line_cancels_the_order_at_zero(network, ann):
    order = _order(network, **PAID)
    lines = {line.pk: line.quantity for line in order.lines.all()}
    order_cancel(order=order, reason="out of stock", lines=lines, actor=ann)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert order.total == Decimal("0.00")
    assert Activity.objects.filter(order=order, action="cancel_line").count() == 2
    assert order_amounts(order=order).refund_due == Decimal("50.00")


def test_a_refused_line_cancel_changes_nothing(network, ann):
    order = _order(network, **PAID)
    line = order.lines.get(sku=network.skus[0])
    with pytest.raises(Exception, match="Cannot cancel that quantity"):
        order_cancel(order=order, reason="asked", lines={line.pk: 9}, actor=ann)
    order.refresh_from_db()
    assert order.total == Decimal("50.00")
    assert not Activity.objects.filter(order=order, action="cancel_line").exists()
    assert order.fulfilments.get().lines.get(order_line=line).quantity == 3


def test_back_office_line_cancel_shows_the_new_total_refund_and_timeline(client, network, ann):
    order = _order(network, **PAID)
    line = order.lines.get(sku=network.skus[0])
    client.force_login(ann)

    response = client.post(
        reverse("backoffice:order_action", args=[order.pk, "cancel-lines"]),
        {"reason": "customer changed mind", f"line_{line.pk}": 2},
        follow=True,
    )

    said = [str(m) for m in response.context["messages"]]
    assert said == ["2 unit(s) cancelled and their stock released. Order total now 30.00 GBP; refund due 20.00 GBP."]
    page = response.content.decode()
    header = page.split('class="bo-head"')[1].split("</header>")[0]
    assert "30.00 GBP (placed 50.00, 20.00 cancelled)" in header
    assert "Refund due for cancelled units: 20.00 GBP" in page
    assert f"2 × {line.sku.name} cancelled by agent ann: customer changed mind" in page


def test_api_line_cancel_lowers_the_total_and_is_on_the_timeline(network):
    order = _order(network, **PAID)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=network.web)}")
    sku = network.skus[1]

    response = api.post(
        f"/api/v1/orders/{order.pk}/cancel",
        {"reason": "customer changed mind", "lines": [{"sku": sku.code, "quantity": 1}]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == "40.00"
    [entry] = [e for e in body["timeline"] if e["subject"].startswith("line:")]
    assert (entry["from_state"], entry["to_state"]) == ("2", "1")
    assert entry["text"] == "cancel_line: customer changed mind"


def test_cancelling_the_part_still_in_work_lets_the_order_follow_what_is_left(network, ann):
    """A collection order: A waits on Soho's shelf, B (from Camden) is still in work; B is cancelled."""
    from fulfilment.actions import fulfilment_accept, fulfilment_pick
    from fulfilment.pickups import fulfilment_ready

    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.camden, b, 1)
    order = place(network, [(a, 1), (b, 1)], method="pickup", store=network.soho)
    shelf = order.fulfilments.get(source_location=network.soho)
    fulfilment_accept(fulfilment=shelf)
    fulfilment_pick(fulfilment=shelf, picked={a.code: 1})
    fulfilment_ready(fulfilment=shelf)  # B waits for its transfer from Camden: no store step until it arrives
    order.refresh_from_db()
    assert order.status == Order.Status.IN_FULFILMENT

    order_cancel(order=order, reason="customer changed mind", lines={order.lines.get(sku=b).pk: 1}, actor=ann)

    order.refresh_from_db()
    assert order.status == Order.Status.READY_FOR_PICKUP
    assert order.total == Decimal("10.00")
