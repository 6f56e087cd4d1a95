"""An order with two lines of one SKU: each line's units can be returned, at that line's price."""

from collections import Counter
from decimal import Decimal

import pytest

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from oms.intake import OrderInput, OrderLineInput
from oms.services import order_place
from returns.exceptions import ReturnNotAllowed
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request
from returns.selectors import return_value, returnable_quantities
from tests.orders_support import CITY

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_line_order(network):
    """One SKU on two lines (a × 1 at 10.00, a × 1 at 25.00), both shipped."""
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 10)
    order, _ = order_place(
        data=OrderInput(
            channel=network.web,
            external_id="WEB-TWIN",
            lines=[OrderLineInput(sku.code, 1, "10.00"), OrderLineInput(sku.code, 1, "25.00")],
            method="delivery",
            address={**CITY, "lat": 51.5080, "lon": -0.1281},
            customer={"email": "a@example.com"},
        )
    )
    for f in order.fulfilments.all():
        fulfilment_accept(fulfilment=f)
        picked = Counter()
        for fl in f.lines.select_related("sku"):
            picked[fl.sku.code] += fl.quantity
        fulfilment_pick(fulfilment=f, picked=dict(picked))
        fulfilment_pack(fulfilment=f)
        fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    assert {line.pk: 1 for line in order.lines.all()} == returnable_quantities(order=order)
    return order


def test_both_lines_of_one_sku_can_be_returned_one_after_the_other(network, two_line_order):
    code = network.skus[0].code
    first = return_request(order=two_line_order, lines=[ReturnLineInput(code, 1)])
    return_receive(ret=first, location=network.soho, lines=[ReceivedLine(code, 1)])
    second = return_request(order=two_line_order, lines=[ReturnLineInput(code, 1)])
    return_receive(ret=second, location=network.soho, lines=[ReceivedLine(code, 1)])
    assert sorted([return_value(first), return_value(second)]) == [Decimal("10.00"), Decimal("25.00")]
    assert network.level(network.soho, network.skus[0]).on_hand == 2
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=two_line_order, lines=[ReturnLineInput(code, 1)])
    assert "over_quantity: 0 of" in exc.value.errors["lines[0].quantity"][0]


def test_one_return_of_both_units_is_refunded_at_each_lines_price(network, two_line_order):
    code = network.skus[0].code
    ret = return_request(order=two_line_order, lines=[ReturnLineInput(code, 2)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(code, 1), ReceivedLine(code, 1, "damaged")])
    assert return_value(ret) == Decimal("35.00")


def test_receiving_more_than_was_sold_is_still_refused(network, two_line_order):
    code = network.skus[0].code
    ret = return_request(order=two_line_order, lines=[ReturnLineInput(code, 1)])
    with pytest.raises(ReturnNotAllowed) as exc:
        return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(code, 3)])
    assert exc.value.errors[f"lines.{code}"] == ["Received 3 but only 2 were sold and not yet returned."]
    # A parcel with both units books both in, one against each line, at each line's price.
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(code, 2)])
    assert return_value(ret) == Decimal("35.00")
    with pytest.raises(ReturnNotAllowed):
        return_request(order=two_line_order, lines=[ReturnLineInput(code, 1)])
