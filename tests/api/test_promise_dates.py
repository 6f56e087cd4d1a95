"""Promise dates: backorders take the inbound supply still to come first placed, first served.

Three backorders for 5, 4 and 5 units of a SKU with 3 in stock and 10 inbound: the first
reserves 3 now and waits for 2, so the first two are promised the inbound day and the third
nothing (the 4 units left do not cover its 5). When supply slips, the promises move and
each order whose promise moved hears it once, by ``order.promise_changed``.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.inbound import inbound_close, inbound_import
from inventory.models import InboundSupply
from inventory.transfers import transfer_send
from oms.models import OutboxEvent
from tests.api.conftest import order_body

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders"
INBOUND = "/api/v1/inbound"
AVAILABILITY = "/api/v1/availability"
TODAY = timezone.localdate()
DUE = TODAY + timedelta(days=7)
LATER = TODAY + timedelta(days=14)


def promises(api, *orders: dict) -> list[tuple[int, object]]:
    """(backordered, promised_on) of each order's first line, as the API answers now."""
    found = []
    for order in orders:
        [line] = api.get(f"{ORDERS}/{order['id']}").json()["lines"]
        found.append((line["backordered"], line["promised_on"]))
    return found


def promise_events() -> list[tuple[int, list[dict]]]:
    return [
        (e.order_id, e.data["lines"])
        for e in OutboxEvent.objects.filter(type="order.promise_changed").order_by("order_id", "created")
    ]


def incoming(api, sku) -> list[dict]:
    body = {"lines": [{"sku": sku.code, "quantity": 1}], "destination": {"lat": 51.508, "lon": -0.128}}
    response = api.post(AVAILABILITY, body, format="json")
    assert response.status_code == 200, response.content
    [line] = response.json()["lines"]
    return line["incoming"]


def announce(admin_api, location, lines, *, reference="PO-1", on=DUE) -> None:
    body = {
        "reference": reference,
        "location": location.code,
        "expected_on": on.isoformat(),
        "lines": [{"sku": sku.code, "quantity": quantity} for sku, quantity in lines],
    }
    response = admin_api.post(INBOUND, body, format="json")
    assert response.status_code == 201, response.content


def backorder(api, network, sku, quantity: int, external_id: str) -> dict:
    body = {**order_body(network, [(sku, quantity)], external_id=external_id), "when_short": "backorder"}
    response = api.post(ORDERS, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def shop(network):
    """The web channel sells from Soho, Camden and the warehouse, not from Leeds; Soho holds 3 of the SKU."""
    network.web.sells_from.set([network.soho, network.camden, network.warehouse])
    network.stock(network.soho, network.skus[0], 3)
    return network


@pytest.fixture
def three(api, admin_api, shop):
    """10 due at the warehouse in a week, then the three backorders (5, 4 and 5 units)."""
    sku = shop.skus[0]
    announce(admin_api, shop.warehouse, [(sku, 10), (shop.skus[1], 3)])
    return [backorder(api, shop, sku, n, f"WEB-{i}") for i, n in enumerate((5, 4, 5), 1)]


def test_backorders_are_promised_the_inbound_day_first_placed_first_served(api, shop, three):
    first, second, third = three

    # Each placement answers with its own promise at once.
    assert [(o["lines"][0]["backordered"], o["lines"][0]["promised_on"]) for o in three] == [
        (2, DUE.isoformat()),
        (4, DUE.isoformat()),
        (5, None),  # 4 units are left of the 10; they do not cover 5
    ]
    assert first["lines"][0]["allocated"] == 3
    # A new backorder's promise comes with its order.backordered; no promise moved for anyone.
    news = OutboxEvent.objects.filter(type="order.backordered").order_by("order_id", "created")
    assert [e.data["lines"][0]["promised_on"] for e in news] == [DUE.isoformat(), DUE.isoformat(), None]
    assert promise_events() == []


def test_availability_offers_what_the_backorders_will_not_take(api, admin_api, shop):
    sku = shop.skus[0]
    announce(admin_api, shop.warehouse, [(sku, 10)])
    assert incoming(api, sku) == [{"on": DUE.isoformat(), "quantity": 10}]

    backorder(api, shop, sku, 5, "WEB-1")  # 3 now, 2 promised
    backorder(api, shop, sku, 4, "WEB-2")  # 4 promised
    assert incoming(api, sku) == [{"on": DUE.isoformat(), "quantity": 10 - 6}]

    # The third cannot be promised, yet the 4 units left go to it when they arrive: none is offered again.
    backorder(api, shop, sku, 5, "WEB-3")
    assert incoming(api, sku) == []

    # Supply later on is offered by its own day, after what the waiting lines take of it.
    announce(admin_api, shop.camden, [(sku, 6)], reference="PO-2", on=LATER)
    assert incoming(api, sku) == [{"on": LATER.isoformat(), "quantity": 6 - 1}]


def test_re_dating_the_inbound_moves_the_promises_and_tells_those_orders_only(api, shop, three):
    first, second, third = three

    result = inbound_import(records=[["PO-1", shop.warehouse.code, shop.skus[0].code, "10", LATER.isoformat()]])

    assert result.applied == 1
    assert promises(api, *three) == [(2, LATER.isoformat()), (4, LATER.isoformat()), (5, None)]
    sku = shop.skus[0].code
    assert promise_events() == [
        (first["id"], [{"sku": sku, "backordered": 2, "promised_on": LATER.isoformat(), "previous": DUE.isoformat()}]),
        (second["id"], [{"sku": sku, "backordered": 4, "promised_on": LATER.isoformat(), "previous": DUE.isoformat()}]),
    ]
    event = OutboxEvent.objects.filter(type="order.promise_changed").first()
    assert event.data["order_number"] == first["number"] and event.channel_id == shop.web.pk

    # The same file again changes nothing and tells no one.
    inbound_import(records=[["PO-1", shop.warehouse.code, shop.skus[0].code, "10", LATER.isoformat()]])
    assert len(promise_events()) == 2


def test_a_short_delivery_closed_as_complete_takes_the_promises_back(api, admin_api, shop, three):
    first, second, third = three
    supply = InboundSupply.objects.get(reference="PO-1")

    # The delivery brings the socks but none of the shirts: they are still due, nothing moves.
    receipt = admin_api.post(
        f"{INBOUND}/PO-1/receive", {"lines": [{"sku": shop.skus[1].code, "quantity": 3}]}, format="json"
    )
    assert receipt.status_code == 200, receipt.content
    assert receipt.json()["status"] == "open"
    assert promises(api, *three) == [(2, DUE.isoformat()), (4, DUE.isoformat()), (5, None)]
    assert promise_events() == []

    # The supplier will send no more: the shirts will not come, and the first two hear it.
    inbound_close(supply=supply)

    assert promises(api, *three) == [(2, None), (4, None), (5, None)]
    sku = shop.skus[0].code
    assert promise_events() == [
        (first["id"], [{"sku": sku, "backordered": 2, "promised_on": None, "previous": DUE.isoformat()}]),
        (second["id"], [{"sku": sku, "backordered": 4, "promised_on": None, "previous": DUE.isoformat()}]),
    ]
    assert incoming(api, shop.skus[0]) == []


def test_a_document_brought_forward_moves_the_promises_earlier(api, shop, three):
    sooner = TODAY + timedelta(days=2)
    inbound_import(records=[["PO-1", shop.warehouse.code, shop.skus[0].code, "10", sooner.isoformat()]])

    assert promises(api, *three) == [(2, sooner.isoformat()), (4, sooner.isoformat()), (5, None)]
    assert [order for order, _ in promise_events()] == [three[0]["id"], three[1]["id"]]


def test_cancelling_the_first_orders_backorder_gives_its_supply_to_the_third(api, shop, three):
    first, second, third = three

    response = api.post(
        f"{ORDERS}/{first['id']}/cancel", {"lines": [{"sku": shop.skus[0].code, "quantity": 2}]}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["lines"][0]["backordered"], response.json()["lines"][0]["promised_on"]) == (0, None)
    assert promises(api, *three) == [(0, None), (4, DUE.isoformat()), (5, DUE.isoformat())]
    # The third hears of its new promise; the first cancelled its own units and is not told of it.
    sku = shop.skus[0].code
    assert promise_events() == [
        (third["id"], [{"sku": sku, "backordered": 5, "promised_on": DUE.isoformat(), "previous": None}]),
    ]
    assert incoming(api, shop.skus[0]) == [{"on": DUE.isoformat(), "quantity": 1}]


def test_inbound_where_the_channel_may_not_sell_is_not_promised(api, admin_api, shop):
    sku = shop.skus[0]
    announce(admin_api, shop.leeds, [(sku, 10)])

    order = backorder(api, shop, sku, 5, "WEB-1")

    assert (order["lines"][0]["backordered"], order["lines"][0]["promised_on"]) == (2, None)
    assert incoming(api, sku) == []
    # Supply at a location it sells from does promise it, and tells the order.
    announce(admin_api, shop.camden, [(sku, 2)], reference="PO-2", on=LATER)
    assert promises(api, order) == [(2, LATER.isoformat())]
    assert promise_events() == [
        (order["id"], [{"sku": sku.code, "backordered": 2, "promised_on": LATER.isoformat(), "previous": None}])
    ]


def test_a_transfer_on_its_way_is_promised_and_its_arrival_day_counts(api, shop):
    sku = shop.skus[0]
    order = backorder(api, shop, sku, 4, "WEB-1")  # 3 now, 1 waits
    assert promises(api, order) == [(1, None)]
    arrives = timezone.now() + timedelta(days=3)

    transfer_send(destination=shop.warehouse, lines=[(sku, 2)], expected_at=arrives)

    assert promises(api, order) == [(1, timezone.localdate(arrives).isoformat())]
    assert incoming(api, sku) == [{"on": timezone.localdate(arrives).isoformat(), "quantity": 1}]


def test_availability_with_supply_to_come_costs_the_same_however_many_orders_wait(api, admin_api, shop):
    sku = shop.skus[0]
    announce(admin_api, shop.warehouse, [(sku, 50)])
    announce(admin_api, shop.leeds, [(sku, 5)], reference="PO-2")
    backorder(api, shop, sku, 5, "WEB-1")
    incoming(api, sku)  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as one_waiting:
        incoming(api, sku)
    for i in range(2, 12):
        backorder(api, shop, sku, 2, f"WEB-{i}")

    with CaptureQueriesContext(connection) as eleven_waiting:
        assert incoming(api, sku) == [{"on": DUE.isoformat(), "quantity": 50 - 2 - 20}]

    # Beyond the supply still to come: the channel's locations, the waiting lines, their channels' locations.
    assert len(eleven_waiting) == len(one_waiting) <= 6 + 3
