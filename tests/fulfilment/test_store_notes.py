"""Notes customer service writes for stores show wherever store staff work on the order;
notes for the back office only never reach a store or a channel."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from fulfilment.actions import fulfilment_accept
from oms.models import StaffProfile
from oms.selectors import order_timeline
from oms.services import staff_create
from tests.conftest import store_staff_client
from tests.orders_support import place

pytestmark = pytest.mark.django_db
SHARED, INTERNAL = "Customer asked for gift wrap.", "Chargeback history: check ID."


def _agent() -> Client:
    agent = (
        User.objects.filter(username="ann").first()
        or staff_create(username="ann", password="agent-pass-1234", role=StaffProfile.Role.AGENT).user
    )
    client = Client()
    client.force_login(agent)
    return client


def _order_with_notes(network, external_id="WEB-NOTE"):
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    order = place(network, [(sku, 1)], external_id=external_id)
    agent = _agent()
    note = reverse("backoffice:order_action", args=[order.pk, "note"])
    agent.post(note, {"text": SHARED})
    agent.post(note, {"text": INTERNAL, "internal": "on"})
    return order, order.fulfilments.get()


def test_a_note_for_stores_shows_on_every_store_page_of_the_order_and_an_internal_one_on_none(network):
    order, f = _order_with_notes(network)
    assert f.location == network.soho
    staff = store_staff_client(network.soho)
    pages = {"queue": reverse("store:queue", args=["ST-SOHO"])}
    for name in ("fulfilment", "pick_list"):
        pages[name] = reverse(f"store:{name}", args=["ST-SOHO", f.pk])
    fulfilment_accept(fulfilment=f)
    pages["pick"] = reverse("store:pick", args=["ST-SOHO", f.pk])
    for name, path in pages.items():
        page = staff.get(path).content.decode()
        assert SHARED in page, name
        assert INTERNAL not in page, name

    channel_view = [e.text for e in order_timeline(order=order)]
    assert SHARED in channel_view and INTERNAL not in channel_view
    assert INTERNAL in [e.text for e in order_timeline(order=order, deliveries=True)]  # the back office's own


def test_the_queue_reads_every_orders_notes_in_one_query(network):
    _order_with_notes(network, "WEB-N1")
    staff = store_staff_client(network.soho)
    path = reverse("store:queue", args=["ST-SOHO"])
    with CaptureQueriesContext(connection) as one:
        assert SHARED in staff.get(path).content.decode()
    for n in range(2, 7):
        _order_with_notes(network, f"WEB-N{n}")
    with CaptureQueriesContext(connection) as six:
        assert staff.get(path).content.decode().count(SHARED) == 6
    assert len(six) == len(one)
    assert sum("oms_note" in q["sql"] for q in six.captured_queries) == 1
