"""Till sales: recorded as completed orders, never refused for stock, the ledger explains every change."""

import io

import pytest
from django.core.management import call_command

from core.errors import InvalidInput, NotPermitted
from fulfilment.models import Fulfilment
from fulfilment.sales import SaleInput, sale_record
from inventory.models import Channel, CountFlag, StockMovement
from inventory.services import stock_count
from oms.intake import OrderLineInput
from oms.models import Activity, Order
from tests.factories import ChannelFactory, LocationFactory
from tests.orders_support import place


@pytest.fixture
def till(db):
    return ChannelFactory(code="tills", kind="store")


def sell(network, till, lines, *, store=None, external_id="TILL-1-0001", **kwargs):
    order, _ = sale_record(
        data=SaleInput(
            channel=till,
            store=(store or network.soho).code,
            external_id=external_id,
            lines=[OrderLineInput(sku.code, q, "12.50") for sku, q in lines],
            tenders=[{"type": "card", "amount": "25.00", "reference": "AUTH-9"}],
            **kwargs,
        )
    )
    return order


def assert_inventory_clean():
    out = io.StringIO()
    call_command("check_inventory", stdout=out)  # raises CommandError on any disagreement


def test_till_sale_is_a_completed_in_store_order_and_on_hand_drops_through_the_ledger(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order = sell(network, till, [(sku, 2)], customer={"email": "till@example.com"})
    assert order.status == Order.Status.COMPLETED and order.method == Order.Method.IN_STORE
    assert order.payment_status == Order.PaymentStatus.PAID and order.customer.email == "till@example.com"
    [f] = order.fulfilments.all()
    assert (f.method, f.status, f.location_id) == (
        Fulfilment.Method.IN_STORE,
        Fulfilment.Status.COLLECTED,
        network.soho.pk,
    )
    assert f.dispatched_at is not None
    assert network.level(network.soho, sku).on_hand == 3
    sale = StockMovement.objects.get(kind=StockMovement.Kind.SALE)
    assert (sale.on_hand_delta, sale.reference) == (-2, order.number)
    assert Activity.objects.filter(order=order, subject=f.subject, action="sell").exists()
    assert not CountFlag.objects.exists()
    assert_inventory_clean()


def test_the_same_receipt_twice_records_one_sale(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    first = sell(network, till, [(sku, 1)])
    again = sell(network, till, [(sku, 1)])
    assert again.pk == first.pk
    assert network.level(network.soho, sku).on_hand == 4


def test_units_the_books_did_not_know_are_booked_in_as_found_and_the_sku_is_flagged_for_a_count(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    sell(network, till, [(sku, 3)])
    assert network.level(network.soho, sku).on_hand == 0
    found = StockMovement.objects.get(kind=StockMovement.Kind.ADJUSTMENT)
    assert (found.on_hand_delta, found.reason) == (2, "found")
    [flag] = CountFlag.objects.filter(cleared_at__isnull=True)
    assert (flag.sku, flag.location) == (sku, network.soho)
    assert_inventory_clean()
    stock_count(sku=sku, location=network.soho, counted=0)
    assert not CountFlag.objects.filter(cleared_at__isnull=True).exists()


def test_a_till_sale_of_the_unit_reserved_for_a_web_order_moves_that_order_elsewhere(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    web = place(network, [(sku, 1)])
    [before] = web.fulfilments.all()
    assert before.location_id == network.soho.pk
    sale = sell(network, till, [(sku, 1)])
    assert sale.status == Order.Status.COMPLETED
    web.refresh_from_db()
    live = web.fulfilments.exclude(status__in=Fulfilment.INACTIVE)
    assert [f.location_id for f in live] == [network.camden.pk]
    before.refresh_from_db()
    assert before.status == Fulfilment.Status.CANCELLED
    reasons = list(Activity.objects.filter(order=web).values_list("action", "reason"))
    assert any(action == "sold_at_till" and "TILL-1-0001" in reason for action, reason in reasons)
    assert ("route", "units sold at the till at ST-SOHO") in reasons
    assert network.level(network.soho, sku).on_hand == 0 and network.level(network.soho, sku).reserved == 0
    assert not CountFlag.objects.exists()  # the unit was known: only promised elsewhere
    assert_inventory_clean()


def test_a_web_order_with_nowhere_else_to_go_backorders(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    web = place(network, [(sku, 1)])
    sell(network, till, [(sku, 1)])
    web.refresh_from_db()
    assert web.status == Order.Status.BACKORDERED
    assert_inventory_clean()


def test_bad_sales_are_refused_precisely_and_change_nothing(network, till):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    cases = [
        ({"store": network.warehouse.code}, "store"),
        ({"store": "NOPE"}, "store"),
        ({"lines": [OrderLineInput("NO-SUCH", 1, "1.00")]}, "lines[0].sku"),
        ({"lines": [OrderLineInput(sku.code, -1, "1.00")]}, "lines[0].quantity"),
        ({"lines": [OrderLineInput(sku.code, 1, "-1.00")]}, "lines[0].unit_price"),
    ]
    for change, field in cases:
        data = SaleInput(
            channel=till, store=network.soho.code, external_id="T-BAD", lines=[OrderLineInput(sku.code, 1, "1")]
        )
        for key, value in change.items():
            setattr(data, key, value)
        with pytest.raises(InvalidInput) as refused:
            sale_record(data=data)
        assert field in refused.value.errors, (change, refused.value.errors)
    other = LocationFactory(code="ST-ELSEWHERE")
    till.sells_from.set([network.camden])
    till = Channel.objects.get(pk=till.pk)  # a fresh row, as each request reads
    with pytest.raises(InvalidInput) as refused:
        sale_record(
            data=SaleInput(
                channel=till, store=other.code, external_id="T-BAD", lines=[OrderLineInput(sku.code, 1, "1")]
            )
        )
    assert "store" in refused.value.errors
    with pytest.raises(NotPermitted):
        sale_record(
            data=SaleInput(
                channel=network.web,
                store=network.soho.code,
                external_id="T-BAD",
                lines=[OrderLineInput(sku.code, 1, "1")],
            )
        )
    assert not Order.objects.exists()
    assert network.level(network.soho, sku).on_hand == 5


def test_the_store_page_lists_its_till_sales_and_the_skus_to_count(network, till):
    from tests.conftest import store_staff_client

    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    sale = sell(network, till, [(sku, 3)])
    page = store_staff_client(network.soho).get(f"/store/{network.soho.code}/stock/sales/").content.decode()
    assert sale.number in page and sku.code in page
    assert "Sold 2 more than the books held" in page
    elsewhere = store_staff_client(network.camden, "cam").get(f"/store/{network.camden.code}/stock/sales/")
    assert sale.number not in elsewhere.content.decode()
