"""A line customer service cancelled in full is no longer work for the store: the fulfilment
page, the pick list and the packing slip show only the units still to send."""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from oms.services import order_cancel
from tests.conftest import store_staff_client
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_a_line_cancelled_in_full_leaves_the_fulfilment_page_pick_list_and_slip(network):
    kept, dropped = network.skus[:2]
    for sku in (kept, dropped):
        network.stock(network.soho, sku, 5)
    order = place(network, [(kept, 1), (dropped, 2)])
    f = order.fulfilments.get()
    order_cancel(order=order, reason="customer changed mind", lines={order.lines.get(sku=dropped).pk: 2})
    staff = store_staff_client(network.soho)

    page = staff.get(reverse("store:fulfilment", args=["ST-SOHO", f.pk])).content.decode()
    assert kept.code in page and dropped.code not in page
    fulfilment_accept(fulfilment=f)
    pick = staff.get(reverse("store:pick", args=["ST-SOHO", f.pk])).content.decode()
    assert "0 of 1" in pick and dropped.code not in pick
    pick_list = staff.get(reverse("store:pick_list", args=["ST-SOHO", f.pk])).content.decode()
    assert kept.code in pick_list and dropped.code not in pick_list
    fulfilment_pick(fulfilment=f, picked={kept.code: 1})
    slip = staff.get(reverse("store:packing_slip", args=["ST-SOHO", f.pk])).content.decode()
    assert kept.code in slip and dropped.code not in slip
