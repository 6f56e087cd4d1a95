"""The order page's timeline reads as a story: sentences in the retailer's words, never raw rows."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_decline
from oms.services import note_add, order_cancel
from tests.orders_support import place

from .conftest import Role

pytestmark = pytest.mark.django_db


def timeline(client, order) -> list[str]:
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    section = page.split('id="timeline-h"')[1].split("</section>")[0]
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip() for item in section.split("<li")[1:]]


@pytest.fixture
def declined(network):
    """Soho accepted, found the units damaged and declined; Leeds holds the same stock."""
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.leeds, sku, 5)
    order = place(network, [(sku, 2)])
    soho = order.fulfilments.get()
    fulfilment_accept(fulfilment=soho)
    fulfilment_decline(fulfilment=soho, reason_code="damaged")
    return order


def test_a_decline_and_where_the_work_went_read_as_one_sentence(client, login, network, declined):
    login(Role.AGENT)
    lines = timeline(client, declined)
    soho, leeds = network.soho.name, network.leeds.name
    said = [line for line in lines if f"{soho} declined" in line]
    assert len(said) == 1
    assert re.search(rf"{soho} declined: damaged\. Sent to {leeds} instead \(\d+\.\d km\)\.", said[0]), said
    assert any(f"{soho} accepted the work." in line for line in lines)
    assert any("Order allocated: Single shipment from ST-SOHO" in line for line in lines)


def test_no_raw_rows_on_the_page(client, login, network, declined):
    login(Role.AGENT)
    order_cancel(order=declined, reason="customer asked")
    text = " ".join(timeline(client, declined))
    assert "fulfilment:" not in text and "→" not in text and "status_changed" not in text
    assert f"Work at {network.leeds.name} cancelled: customer asked." in text
    assert "Order cancelled: customer asked." in text


def test_agent_actions_say_who_did_them(client, login, network, declined):
    ann = login(Role.AGENT, username="ann")
    note_add(order=declined, text="Customer rang about the delay", author=ann)
    line = declined.lines.get()
    order_cancel(order=declined, reason="customer changed mind", lines={line.pk: 1}, actor=ann)
    lines = timeline(client, declined)
    assert any("Note by agent ann: Customer rang about the delay." in line_ for line_ in lines)
    assert any(f"1 × {line.sku.name} cancelled by agent ann: customer changed mind." in line_ for line_ in lines)


def test_a_decline_nowhere_else_can_take_says_so(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    order = place(network, [(sku, 2)])
    fulfilment_decline(fulfilment=order.fulfilments.get(), reason_code="not_in_stock", note="shelf empty")
    login(Role.AGENT)
    lines = timeline(client, order)
    soho = network.soho.name
    assert any(f"{soho} declined: not in stock (shelf empty). No other location has it now." in line for line in lines)
    assert any("Backordered: no location has the stock now; the order waits for stock." in line for line in lines)


def test_a_short_pick_says_where_the_missing_units_went(client, login, network):
    from fulfilment.actions import fulfilment_pick

    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.leeds, sku, 5)
    order = place(network, [(sku, 2)])
    soho = order.fulfilments.get()
    fulfilment_accept(fulfilment=soho)
    fulfilment_pick(fulfilment=soho, picked={sku.code: 1}, short_reason="damaged")
    login(Role.AGENT)
    lines = timeline(client, order)
    pattern = rf"{network.soho.name} picked short\. Sent to {network.leeds.name} instead \(\d+\.\d km\)\."
    assert any(re.search(pattern, line) for line in lines), lines


def test_times_in_a_sentence_read_as_the_pages_dates_not_machine_timestamps(client, login, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    ready_by = timezone.localtime(order.fulfilments.get().ready_by)
    login(Role.AGENT)
    text = " ".join(timeline(client, order))
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", text), text
    assert f"ready by {ready_by:%-d %b %H:%M}" in text, text
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d\+", page.split('id="timeline-h"')[0])
