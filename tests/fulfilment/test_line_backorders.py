"""Units nowhere can take now wait on their lines as backordered: after a decline, a short pick or a policy fallback."""

import pytest

from fulfilment.actions import (
    fulfilment_accept,
    fulfilment_decline,
    fulfilment_deliver,
    fulfilment_pack,
    fulfilment_pick,
    fulfilment_ship,
)
from fulfilment.interventions import order_reroute_excluding
from fulfilment.models import Fulfilment, RoutingPolicyVersion
from oms.models import Order, OutboxEvent
from oms.services import order_cancel
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def backordered(order: Order) -> dict[str, int]:
    return {line.sku.code: line.backordered for line in order.lines.select_related("sku")}


def ship(f: Fulfilment) -> None:
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking=f"T-{f.pk}")


@pytest.fixture
def split(network):
    """An order of two SKUs, one from Soho and one from Camden; nowhere else has either."""
    a, b = network.skus[:2]
    network.stock(network.soho, a, 1)
    network.stock(network.camden, b, 1)
    order = place(network, [(a, 1), (b, 1)])
    assert order.fulfilments.count() == 2
    return order


def test_a_decline_nowhere_can_take_backorders_its_units_while_the_rest_goes_on(network, split):
    a, b = network.skus[:2]
    camden = split.fulfilments.get(location=network.camden)

    fulfilment_decline(fulfilment=camden, reason_code="damaged")

    split.refresh_from_db()
    assert backordered(split) == {a.code: 0, b.code: 1}
    assert split.status == Order.Status.ALLOCATED  # Soho's part is still to do
    [event] = OutboxEvent.objects.filter(type="order.backordered")
    assert event.data == {
        "order": split.pk,
        "order_number": split.number,
        "lines": [{"sku": b.code, "backordered": 1, "promised_on": None}],
    }


def test_an_order_with_backordered_units_is_never_shipped_or_completed(network, split):
    a, b = network.skus[:2]
    fulfilment_decline(fulfilment=split.fulfilments.get(location=network.camden), reason_code="not_in_stock")
    soho = split.fulfilments.get(location=network.soho)

    ship(soho)
    split.refresh_from_db()
    assert split.status == Order.Status.PARTIALLY_SHIPPED
    fulfilment_deliver(fulfilment=soho)
    split.refresh_from_db()
    assert split.status == Order.Status.PARTIALLY_SHIPPED

    # The customer gives up on the waiting unit: now everything is accounted for.
    order_cancel(order=split, reason="no longer wanted", lines={split.lines.get(sku=b).pk: 1})
    split.refresh_from_db()
    assert split.status == Order.Status.COMPLETED
    assert backordered(split) == {a.code: 0, b.code: 0}


def test_a_short_pick_nowhere_can_make_up_backorders_the_missing_units(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    order = place(network, [(sku, 3)])
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)

    fulfilment_pick(fulfilment=f, picked={sku.code: 2})

    order.refresh_from_db()
    assert backordered(order) == {sku.code: 1}
    assert order.status == Order.Status.IN_FULFILMENT
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED


def test_the_policy_backorder_fallback_backorders_only_what_is_short(network):
    a, b = network.skus[:2]
    RoutingPolicyVersion.objects.create(channel=network.web, version=1, data={"fallback": "backorder"})
    network.stock(network.soho, a, 2)
    network.stock(network.soho, b, 1)

    order = place(network, [(a, 2), (b, 3)])

    assert order.status == Order.Status.ALLOCATED
    assert backordered(order) == {a.code: 0, b.code: 2}
    [f] = order.fulfilments.all()
    assert sorted((fl.sku_id, fl.quantity) for fl in f.lines.all()) == sorted([(a.pk, 2), (b.pk, 1)])
    assert order.routing["backordered"] == 2


def test_stock_arriving_allocates_backordered_units_without_an_agent(network, split):
    a, b = network.skus[:2]
    fulfilment_decline(fulfilment=split.fulfilments.get(location=network.camden), reason_code="damaged")

    network.stock(network.warehouse, b, 1)

    split.refresh_from_db()
    assert backordered(split) == {a.code: 0, b.code: 0}
    assert split.status == Order.Status.ALLOCATED
    assert split.fulfilments.filter(location=network.warehouse, status=Fulfilment.Status.PENDING).exists()
    # An agent's re-route finds nothing left to do.
    assert not order_reroute_excluding(order=split, location=network.leeds, reason="stock came in")
