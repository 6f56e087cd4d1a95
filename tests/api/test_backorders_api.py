"""Short orders through the API: ``when_short`` backorder reserves what can be had now; the rest waits on the lines."""

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from fulfilment.models import Fulfilment
from inventory.models import Reservation
from oms.models import Order, OrderLine, OutboxEvent
from tests.api.conftest import assert_problem, order_body

ORDERS = "/api/v1/orders"


def backorder_body(network, lines, **kwargs):
    return {**order_body(network, lines, **kwargs), "when_short": "backorder"}


def line_counts(order: dict) -> list[tuple[int, int, int, object]]:
    return [(ln["quantity"], ln["allocated"], ln["backordered"], ln["promised_on"]) for ln in order["lines"]]


def test_three_in_stock_of_five_ordered_allocates_three_and_backorders_two(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)

    response = api.post(ORDERS, backorder_body(network, [(sku, 5)]), format="json")

    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "allocated"
    assert line_counts(order) == [(5, 3, 2, None)]
    [f] = order["fulfilments"]
    assert f["lines"] == [{"sku": sku.code, "quantity": 3}]
    assert network.level(network.soho, sku).reserved == 3
    # Every order response carries the same line fields: the list too.
    [listed] = api.get(ORDERS).json()["results"]
    assert line_counts(listed) == [(5, 3, 2, None)]
    [event] = OutboxEvent.objects.filter(type="order.backordered")
    assert event.order_id == order["id"]
    assert event.data == {
        "order": order["id"],
        "order_number": order["number"],
        "lines": [{"sku": sku.code, "backordered": 2, "promised_on": None}],
    }


def test_nothing_in_stock_backorders_the_whole_order(api, network):
    sku = network.skus[0]

    response = api.post(ORDERS, backorder_body(network, [(sku, 5)]), format="json")

    assert response.status_code == 201, response.content
    order = response.json()
    assert order["status"] == "backordered"
    assert line_counts(order) == [(5, 0, 5, None)]
    assert order["fulfilments"] == []
    assert not Reservation.objects.exists()
    assert OutboxEvent.objects.filter(type="order.backordered", order_id=order["id"]).count() == 1


def test_a_line_that_fits_goes_ahead_and_the_short_line_waits(api, network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 2)

    order = api.post(ORDERS, backorder_body(network, [(a, 2), (b, 1)]), format="json").json()

    assert order["status"] == "allocated"
    assert line_counts(order) == [(2, 2, 0, None), (1, 0, 1, None)]


def test_by_default_a_short_order_is_rejected_as_before_and_leaves_nothing(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)

    for body in (order_body(network, [(sku, 5)]), {**order_body(network, [(sku, 5)]), "when_short": "reject"}):
        body = assert_problem(api.post(ORDERS, body, format="json"), 409)
        assert body["shortfall"][0]["sku"] == sku.code

    assert not Order.objects.exists() and not OutboxEvent.objects.exists()
    assert network.level(network.soho, sku).reserved == 0


def test_an_unknown_when_short_is_refused(api, network):
    body = {**order_body(network, [(network.skus[0], 1)]), "when_short": "later"}
    assert_problem(api.post(ORDERS, body, format="json"), 400, "when_short")
    assert not Order.objects.exists()


def test_a_backorder_for_an_inactive_sku_is_refused_precisely_and_changes_nothing(api, network):
    active, retired = network.skus[:2]
    retired.active = False
    retired.save(update_fields=["active"])
    network.stock(network.soho, active, 5)

    body = assert_problem(
        api.post(ORDERS, backorder_body(network, [(active, 1), (retired, 2)]), format="json"), 400, "lines[1].sku"
    )

    assert body["errors"]["lines[1].sku"] == [f"SKU {retired.code} is no longer sold; it cannot be backordered."]
    assert not Order.objects.exists() and not OutboxEvent.objects.exists()
    assert network.level(network.soho, active).reserved == 0


def test_cancelling_fewer_units_than_open_takes_the_backordered_ones_first(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    order_id = api.post(ORDERS, backorder_body(network, [(sku, 5)]), format="json").json()["id"]

    one = api.post(f"{ORDERS}/{order_id}/cancel", {"lines": [{"sku": sku.code, "quantity": 1}]}, format="json")

    assert one.status_code == 200, one.content
    assert line_counts(one.json()) == [(5, 3, 1, None)]
    assert one.json()["lines"][0]["cancelled_quantity"] == 1
    assert network.level(network.soho, sku).reserved == 3  # the allocated units keep their stock

    two = api.post(f"{ORDERS}/{order_id}/cancel", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json")

    assert line_counts(two.json()) == [(5, 2, 0, None)]
    assert network.level(network.soho, sku).reserved == 2
    assert two.json()["status"] == "allocated"


def test_a_backorder_waiting_alone_can_be_cancelled_whole(api, network):
    order_id = api.post(ORDERS, backorder_body(network, [(network.skus[0], 2)]), format="json").json()["id"]

    cancelled = api.post(f"{ORDERS}/{order_id}/cancel", {"reason": "no longer wanted"}, format="json")

    assert cancelled.json()["status"] == "cancelled"
    assert line_counts(cancelled.json()) == [(2, 0, 0, None)]


def test_after_dispatch_only_the_backordered_units_can_be_cancelled(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    order_id = api.post(ORDERS, backorder_body(network, [(sku, 5)]), format="json").json()["id"]
    f = Fulfilment.objects.get(order_id=order_id)
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    # Two units still wait for supply: the order is not shipped.
    assert api.get(f"{ORDERS}/{order_id}").json()["status"] == "partially_shipped"

    too_many = api.post(f"{ORDERS}/{order_id}/cancel", {"lines": [{"sku": sku.code, "quantity": 3}]}, format="json")
    whole = api.post(f"{ORDERS}/{order_id}/cancel", {}, format="json")
    assert_problem(too_many, 409)
    assert_problem(whole, 409)
    assert OrderLine.objects.get(order_id=order_id).backordered == 2

    waiting = api.post(f"{ORDERS}/{order_id}/cancel", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json")

    assert waiting.status_code == 200, waiting.content
    assert waiting.json()["status"] == "shipped"
    assert line_counts(waiting.json()) == [(5, 3, 0, None)]
