from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from fulfilment.models import Fulfilment
from inventory.availability import stock_available
from inventory.models import StockMovement
from inventory.selectors import inventory_discrepancies
from oms.exceptions import TransitionNotAllowed
from oms.intake import OrderLineInput
from oms.models import OutboxEvent
from returns.exceptions import ReturnNotAllowed
from returns.exchanges import return_exchange
from returns.models import Return, ReturnException
from returns.receiving import ReceivedLine, return_receive
from returns.refunds import return_refund
from returns.requests import ReturnLineInput, return_request
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_web_order_returned_at_a_store_restocks_that_store_at_once(network, delivered_web_order):
    sku = network.skus[0]
    warehouse_before = network.level(network.warehouse, sku).on_hand
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2, "too_small")])
    assert ret.status == Return.Status.AUTHORISED
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 2, "resellable")])
    assert network.level(network.soho, sku).on_hand == 2
    assert stock_available(sku=sku, location=network.soho) == 2
    assert network.level(network.warehouse, sku).on_hand == warehouse_before
    assert inventory_discrepancies() == []


def test_damaged_units_are_written_off_and_never_sellable(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    return_receive(
        ret=ret,
        location=network.soho,
        lines=[ReceivedLine(sku.code, 1, "resellable"), ReceivedLine(sku.code, 1, "damaged")],
    )
    assert network.level(network.soho, sku).on_hand == 1
    write_off = StockMovement.objects.get(kind="write_off", reference=ret.reference)
    assert (write_off.on_hand_delta, write_off.reason) == (-1, "damaged")
    assert inventory_discrepancies() == []


def test_returning_more_than_was_bought_is_refused(network, delivered_web_order):
    sku = network.skus[0]
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 4)])
    assert "over_quantity" in exc.value.errors["lines[0].quantity"][0]
    return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    with pytest.raises(ReturnNotAllowed):
        return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    assert Return.objects.count() == 1


def test_sku_not_on_the_order_and_final_sale_are_refused_with_the_rule(network, delivered_web_order):
    other = network.skus[1]
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=delivered_web_order, lines=[ReturnLineInput(other.code, 1)])
    assert exc.value.errors["lines[0].sku"][0].startswith("not_on_order")
    sku = network.skus[0]
    sku.final_sale = True
    sku.save()
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1)])
    assert exc.value.errors["lines[0].sku"][0].startswith("final_sale")
    assert not Return.objects.exists()


def test_order_outside_the_return_window_is_refused(network, delivered_web_order, settings):
    Fulfilment.objects.update(dispatched_at=timezone.now() - timedelta(days=settings.OMS_RETURN_WINDOW_DAYS + 2))
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=delivered_web_order, lines=[ReturnLineInput(network.skus[0].code, 1)])
    assert exc.value.errors["lines[0].sku"][0].startswith("window")


def test_undispatched_order_cannot_be_returned(network):
    from tests.orders_support import place

    sku = network.skus[1]
    network.stock(network.soho, sku, 2)
    order = place(network, [(sku, 1)], external_id="WEB-NEW")
    with pytest.raises(ReturnNotAllowed):
        return_request(order=order, lines=[ReturnLineInput(sku.code, 1)])


def test_receiving_at_a_location_that_does_not_accept_returns_is_refused(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1)])
    network.camden.accepts_returns = False
    network.camden.save()
    with pytest.raises(InvalidInput):
        return_receive(ret=ret, location=network.camden, lines=[ReceivedLine(sku.code, 1)])
    ret.refresh_from_db()
    assert ret.status == Return.Status.AUTHORISED


def test_receiving_the_same_return_twice_is_refused(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1)])
    with pytest.raises(TransitionNotAllowed):
        return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1)])
    assert network.level(network.soho, sku).on_hand == 1


def test_receiving_more_than_was_sold_is_refused_and_surprises_are_recorded(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    with pytest.raises(ReturnNotAllowed):
        return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 4)])
    assert not StockMovement.objects.filter(reference=ret.reference).exists()
    return_receive(
        ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1), ReceivedLine("SOCK-UNKNOWN", 1, "wrong_item")]
    )
    kinds = set(ReturnException.objects.filter(ret=ret).values_list("kind", flat=True))
    assert kinds == {"wrong_item", "quantity_mismatch"}


def test_units_received_beyond_their_return_cannot_be_returned_and_refunded_again(network, delivered_web_order):
    """3 units were bought for 30.00: a parcel with all 3 against a return of 1 leaves nothing to return."""
    sku = network.skus[0]
    first = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1)])
    return_receive(ret=first, location=network.soho, lines=[ReceivedLine(sku.code, 3)])
    assert return_refund(ret=first).amount == Decimal("30.00")
    with pytest.raises(ReturnNotAllowed) as exc:
        return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])
    assert "over_quantity: 0 of" in exc.value.errors["lines[0].quantity"][0]
    assert network.level(network.soho, sku).on_hand == 3


def test_refund_is_split_across_tenders_and_never_paid_twice(network, delivered_web_order):
    sku = network.skus[0]
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 3)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 3)])
    refund = return_refund(ret=ret)
    assert refund.amount == Decimal("30.00")
    assert [(a["reference"], a["amount"]) for a in refund.allocations] == [("PAY-1", "20.00"), ("GC-9", "10.00")]
    assert OutboxEvent.objects.filter(type="refund.requested", data__return=ret.reference).count() == 1
    with pytest.raises(TransitionNotAllowed):
        return_refund(ret=ret)
    assert OutboxEvent.objects.filter(type="refund.requested", data__return=ret.reference).count() == 1


def test_exchange_at_the_store_hands_the_replacement_over_at_once(network, delivered_web_order):
    sku, bigger = network.skus[0], network.skus[1]
    network.stock(network.soho, bigger, 1)
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 1, "too_small")])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1)])
    return_exchange(ret=ret, lines=[OrderLineInput(bigger.code, 1, "12.50")], hand_over_at=network.soho)
    ret.refresh_from_db()
    assert ret.status == Return.Status.EXCHANGED
    assert ret.price_difference == Decimal("2.50")
    assert ret.exchange_order.status == "completed"
    assert network.level(network.soho, bigger).on_hand == 0
    assert inventory_discrepancies() == []


def test_a_damaged_unit_returned_where_a_backorder_waits_is_written_off_not_allocated(network, delivered_web_order):
    sku = network.skus[0]
    network.web.sells_from.add(network.soho)  # the web shop now sells from Soho only, which has none
    waiting = place(network, [(sku, 1)], external_id="WEB-WAITS", when_short="backorder")
    assert waiting.lines.get().backordered == 1
    ret = return_request(order=delivered_web_order, lines=[ReturnLineInput(sku.code, 2)])

    return_receive(
        ret=ret,
        location=network.soho,
        lines=[ReceivedLine(sku.code, 1, "damaged"), ReceivedLine(sku.code, 1, "resellable")],
    )

    # The damaged unit is written off; the resellable one goes to the order waiting for it.
    level = network.level(network.soho, sku)
    assert (level.on_hand, level.reserved) == (1, 1)
    assert waiting.lines.get().backordered == 0
    assert inventory_discrepancies() == []
