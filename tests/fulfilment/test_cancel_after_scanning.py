"""Customer service may cancel an order, or some of its lines, after the store scanned the units
off the shelf — while picking or with the parcel on the pickup shelf; the scanned count follows."""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.picking import fulfilment_unit_scan
from fulfilment.pickups import fulfilment_ready
from oms.models import Order, StaffProfile
from oms.services import order_cancel, staff_create
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def _scanned(network, *, ready: bool) -> Fulfilment:
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    f = place(network, [(sku, 2)], method="pickup", store=network.soho).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    for _ in range(2):
        fulfilment_unit_scan(fulfilment=f, sku=sku)
    if ready:
        fulfilment_pick(fulfilment=f, picked={sku.code: 2})
        fulfilment_ready(fulfilment=f)
    return f


@pytest.mark.parametrize("ready", [False, True], ids=["while picking", "on the pickup shelf"])
def test_a_scanned_line_can_be_cancelled_in_part(network, ready):
    f = _scanned(network, ready=ready)
    line = f.order.lines.get()
    order_cancel(order=f.order, reason="customer asked", lines={line.pk: 1})
    fl = f.lines.get()
    assert (fl.quantity, fl.scanned_quantity) == (1, 1)
    assert fl.picked_quantity in (None, 1)
    assert network.level(network.soho, network.skus[0]).reserved == 1


@pytest.mark.parametrize("ready", [False, True], ids=["while picking", "on the pickup shelf"])
def test_an_order_with_scanned_units_can_be_cancelled_from_the_back_office(network, client, ready):
    f = _scanned(network, ready=ready)
    agent = staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    response = client.post(reverse("backoffice:order_action", args=[f.order_id, "cancel"]), {"reason": "fraud"})
    assert response.status_code == 302
    f.order.refresh_from_db()
    f.refresh_from_db()
    assert f.order.status == Order.Status.CANCELLED and f.status == Fulfilment.Status.CANCELLED
    assert network.level(network.soho, network.skus[0]).reserved == 0
