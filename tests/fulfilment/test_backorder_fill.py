"""Fill on arrival: stock that rises anywhere goes to the orders waiting for it, first placed first served."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_decline
from fulfilment.models import Fulfilment
from fulfilment.routing.backorder_fill import backorders_sweep
from inventory.inbound import inbound_create, inbound_receive
from inventory.models import Transfer
from inventory.services import stock_count
from oms.models import Order, OutboxEvent
from oms.services import order_cancel
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def waiting(order: Order) -> tuple[int, int]:
    """(allocated, backordered) of the order's single line."""
    line = order.lines.get()
    live = Fulfilment.objects.filter(order=order).exclude(status__in=Fulfilment.INACTIVE)
    allocated = sum(fl.quantity for f in live for fl in f.lines.all())
    return allocated, line.backordered


def promised(order: Order):
    return order.lines.get().promised_on


def backorder(network, sku, quantity, n, **kwargs):
    return place(network, [(sku, quantity)], external_id=f"WEB-B{n}", when_short="backorder", **kwargs)


def test_receiving_inbound_supply_fills_the_backorders_in_placement_order(network):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 3)
    supply = inbound_create(
        reference="PO-1", location=network.warehouse.code, expected_on=timezone.localdate() + timedelta(days=5),
        lines=[(sku.code, 10)],
    )  # fmt: skip
    first, second, third = (backorder(network, sku, q, n) for n, q in enumerate((5, 4, 5)))
    assert [waiting(o) for o in (first, second, third)] == [(3, 2), (0, 4), (0, 5)]
    assert [promised(o) for o in (first, second, third)] == [supply.expected_on, supply.expected_on, None]

    inbound_receive(supply=supply, lines=[(sku.code, 10)])

    assert [waiting(o) for o in (first, second, third)] == [(5, 0), (4, 0), (4, 1)]
    assert [promised(o) for o in (first, second, third)] == [None, None, None]  # nothing more is coming
    statuses = list(Order.objects.filter(pk__in=[second.pk, third.pk]).values_list("status", flat=True))
    assert statuses == [Order.Status.ALLOCATED] * 2
    events = OutboxEvent.objects.filter(type="order.backorder_allocated").order_by("order_id")
    assert [(e.order_id, e.data["lines"][0]["allocated"], e.data["lines"][0]["backordered"]) for e in events] == [
        (first.pk, 2, 0),
        (second.pk, 4, 0),
        (third.pk, 4, 1),
    ]
    assert network.level(network.warehouse, sku).reserved == 13
    call_command("check_inventory", stdout=io.StringIO())  # raises on any counter the ledger does not explain


def test_a_fill_never_takes_what_the_channel_may_not_sell(network):
    sku = network.skus[0]
    network.warehouse.safety_stock = 2
    network.warehouse.save(update_fields=["safety_stock"])
    order = backorder(network, sku, 5, 1)
    assert waiting(order) == (0, 5)

    network.stock(network.warehouse, sku, 4)

    assert waiting(order) == (2, 3)  # two of the four are the warehouse's safety stock


def test_stock_at_a_location_the_channel_does_not_sell_from_fills_nothing(network):
    a, b = network.skus[:2]
    network.web.sells_from.add(network.soho)  # the channel now sells from Soho only
    order = backorder(network, a, 1, 1)

    network.stock(network.camden, a, 5)

    assert waiting(order) == (0, 1)
    network.stock(network.soho, a, 1)
    assert waiting(order) == (1, 0)


def test_released_stock_goes_to_the_oldest_backorder(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    holder = place(network, [(sku, 1)], external_id="WEB-HOLDER")
    order = backorder(network, sku, 1, 1)
    assert waiting(order) == (0, 1)

    order_cancel(order=holder, reason="customer asked")

    assert waiting(order) == (1, 0)
    assert Order.objects.get(pk=order.pk).status == Order.Status.ALLOCATED


def test_a_count_that_finds_units_fills_the_backorder(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = backorder(network, sku, 2, 1)
    assert waiting(order) == (1, 1)

    stock_count(sku=sku, location=network.soho, counted=2, confirmed=True)

    assert waiting(order) == (2, 0)


def test_the_store_that_declined_an_order_does_not_get_it_back_when_its_stock_rises(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = backorder(network, sku, 1, 1)
    fulfilment_decline(fulfilment=order.fulfilments.get(), reason_code="not_in_stock")
    assert waiting(order) == (0, 1)

    network.stock(network.soho, sku, 3)
    assert waiting(order) == (0, 1)

    network.stock(network.camden, sku, 1)
    assert waiting(order) == (1, 0)


def test_a_decline_writes_its_units_off_before_anyone_else_could_take_them(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    first = place(network, [(sku, 1)], external_id="WEB-FIRST")
    later = backorder(network, sku, 1, 1)
    fulfilment_accept(fulfilment=first.fulfilments.get())

    fulfilment_decline(fulfilment=first.fulfilments.get(), reason_code="damaged")

    assert network.level(network.soho, sku).on_hand == 0
    assert waiting(later) == (0, 1)
    call_command("check_inventory", stdout=io.StringIO())


def test_a_collection_backorder_filled_at_the_warehouse_comes_by_transfer(network):
    sku = network.skus[0]
    order = backorder(network, sku, 2, 1, method="pickup", store=network.camden)
    assert waiting(order) == (0, 2)

    network.stock(network.warehouse, sku, 2)

    assert waiting(order) == (2, 0)
    parcel = order.fulfilments.exclude(status__in=Fulfilment.INACTIVE).get()
    assert (parcel.location_id, parcel.source_location_id) == (network.camden.pk, network.warehouse.pk)
    transfer = Transfer.objects.get(supplies_ref=parcel.subject)
    assert (transfer.source_id, transfer.destination_id, transfer.status) == (
        network.warehouse.pk,
        network.camden.pk,
        Transfer.Status.REQUESTED,
    )


def test_the_sweep_fills_what_a_rise_could_not_reach(network):
    sku = network.skus[0]
    order = backorder(network, sku, 1, 1)
    network.soho.daily_capacity = 0  # no new work at Soho today
    network.soho.save(update_fields=["daily_capacity"])
    network.stock(network.soho, sku, 1)
    assert waiting(order) == (0, 1)

    network.soho.daily_capacity = None
    network.soho.save(update_fields=["daily_capacity"])
    assert backorders_sweep() == 1

    assert waiting(order) == (1, 0)
    assert backorders_sweep() == 0


def test_a_short_line_takes_what_every_usable_location_holds_before_it_waits(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    network.stock(network.warehouse, sku, 2)

    order = backorder(network, sku, 6, 1)

    assert waiting(order) == (5, 1)  # Soho's 3 and the warehouse's 2 go now; one unit waits
    sources = sorted(order.fulfilments.values_list("source_location__code", "lines__quantity"))
    assert sources == [("ST-SOHO", 3), ("WH-MID", 2)]
    assert network.level(network.warehouse, sku).reserved == 2
    call_command("check_inventory", stdout=io.StringIO())


def test_a_declined_short_line_takes_the_rest_of_the_network_before_it_waits(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    network.stock(network.camden, sku, 1)
    network.stock(network.leeds, sku, 1)
    order = backorder(network, sku, 2, 1)
    assert waiting(order) == (2, 0)

    fulfilment_decline(fulfilment=order.fulfilments.get(), reason_code="damaged")

    assert waiting(order) == (2, 0)  # one from Camden, one from Leeds
    assert sorted(
        order.fulfilments.exclude(status__in=Fulfilment.INACTIVE).values_list("source_location__code", flat=True)
    ) == ["ST-CAMDEN", "ST-LEEDS"]
