"""Holds from the order page: a reason code, an optional time-out the release job honours, told on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from omnichannel.backoffice.worklists import worklist_counts
from oms.models import Order
from oms.services import orders_release_due_holds

from .conftest import Role
from .worklist_support import bare_order

pytestmark = pytest.mark.django_db


def timeline(client, order) -> str:
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    return page.split('id="timeline-h"', 1)[1].split("</section>", 1)[0]


def hold(client, order, **data):
    return client.post(reverse("backoffice:order_action", args=[order.pk, "hold"]), data, follow=True)


def test_a_timed_hold_shows_on_the_worklist_and_is_released_by_the_release_job(client, login, network):
    login(Role.AGENT, "ann")
    network.stock(network.soho, network.skus[2], 1)
    order = bare_order(network, "WEB-HOLD")
    until = timezone.localtime() + timedelta(hours=2)
    response = hold(client, order, reason="customer", note="wants another size", until=until.strftime("%Y-%m-%dT%H:%M"))
    said = f"The order is on hold until {until:%d %b %H:%M}, then released."
    assert [str(m) for m in response.context["messages"]] == [said]
    order.refresh_from_db()
    assert (order.status, order.hold_reason) == (Order.Status.ON_HOLD, "customer")
    assert worklist_counts(now=timezone.now())["holds"] == 1
    story = timeline(client, order)
    said = "Put on hold by agent ann: customer request (wants another size); released automatically at"
    assert f"{said} {until:%d %b %H:%M}" in story

    assert orders_release_due_holds() == 0
    assert orders_release_due_holds(now=timezone.now() + timedelta(hours=3)) == 1
    order.refresh_from_db()
    assert order.status == Order.Status.ALLOCATED and order.hold_until is None
    assert worklist_counts(now=timezone.now())["holds"] == 0
    assert "Hold released: its time-out passed" in timeline(client, order)


def test_a_time_out_in_the_past_changes_nothing_and_says_why(client, login, network):
    login(Role.AGENT, "ann")
    order = bare_order(network, "WEB-HOLD")
    past = (timezone.localtime() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    response = hold(client, order, reason="fraud", until=past)
    assert [str(m) for m in response.context["messages"]] == [
        "Nothing was changed. The time-out must be in the future. Until: Must be later than now."
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    response = hold(client, order, reason="whim")
    assert "Nothing was changed. Hold reason:" in str(list(response.context["messages"])[0])
