import threading

from django.contrib.auth import get_user_model
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from inventory.models import Reservation
from oms.models import Order
from oms.outbox import deliver_webhooks
from oms.services import note_add
from tests.api.conftest import ADDRESS, assert_problem, order_body

ORDERS = "/api/v1/orders"


def test_place_order_answers_201_with_fulfilments_then_200_for_the_same_external_id(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    body = order_body(network, [(sku, 2)])
    first = api.post(ORDERS, body, format="json")
    assert first.status_code == 201, first.content
    order = first.json()
    assert order["external_id"] == "WEB-10001" and order["channel"] == "web"
    assert order["status"] == "allocated"
    [f] = order["fulfilments"]
    assert f["location"] == "ST-SOHO" and f["method"] == "ship_from_store"
    assert f["lines"] == [{"sku": sku.code, "quantity": 2}]
    assert order["routing"]["summary"] and order["timeline"]
    again = api.post(ORDERS, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == order["id"]
    assert Order.objects.count() == 1


def test_the_webhook_kick_leaves_the_request_to_a_background_sender(
    api, network, settings, monkeypatch, django_capture_on_commit_callbacks
):
    """A broker that hangs must not hold up the order's answer: the send happens on another thread."""
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    sent, release, senders = threading.Event(), threading.Event(), []

    def hanging_delay():
        senders.append(threading.current_thread().name)
        sent.set()
        release.wait(10)

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(deliver_webhooks, "delay", hanging_delay)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json")
        assert response.status_code == 201, response.content
        assert sent.wait(10)
    finally:
        release.set()
    assert senders == ["webhook-kicks"]


def test_pickup_order_has_a_ready_by(api, network):
    sku = network.skus[0]
    network.stock(network.camden, sku, 5)
    response = api.post(ORDERS, order_body(network, [(sku, 1)], method="pickup", store="ST-CAMDEN"), format="json")
    assert response.status_code == 201, response.content
    [f] = response.json()["fulfilments"]
    assert f["method"] == "click_and_collect" and f["ready_by"]


def test_not_enough_stock_is_409_with_the_shortfall_and_reserves_nothing(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    body = assert_problem(api.post(ORDERS, order_body(network, [(sku, 3)]), format="json"), 409)
    [short] = body["shortfall"]
    assert short["sku"] == sku.code and short["requested"] == 3 and short["available"] == 1
    assert "alternatives" in short
    assert not Order.objects.exists() and not Reservation.objects.exists()


def test_bad_order_bodies_are_400_naming_the_fields_and_create_nothing(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    cases = [
        (
            {**order_body(network, [(sku, 1)]), "lines": [{"sku": "NOPE", "quantity": 1, "unit_price": "1"}]},
            "lines[0].sku",
        ),
        (
            {**order_body(network, [(sku, 1)]), "lines": [{"sku": sku.code, "quantity": "many", "unit_price": "1"}]},
            "lines[0].quantity",
        ),
        (
            {**order_body(network, [(sku, 1)]), "lines": [{"sku": sku.code, "quantity": 10**40, "unit_price": "1"}]},
            "lines[0].quantity",
        ),
        ({**order_body(network, [(sku, 1)]), "fulfilment": {"method": "drone"}}, "fulfilment.method"),
        (
            {**order_body(network, [(sku, 1)]), "fulfilment": {"method": "pickup", "store": "NOWHERE"}},
            "fulfilment.store",
        ),
        ({**order_body(network, [(sku, 1)]), "currency": "'; DROP TABLE oms_order; --"}, "currency"),
        ({**order_body(network, [(sku, 1)]), "external_id": "<script>alert(1)</script>" * 10}, "external_id"),
        (
            {**order_body(network, [(sku, 1)]), "lines": [{"sku": sku.code, "quantity": 1, "unit_price": "1e400"}]},
            "lines[0].unit_price",
        ),
    ]
    for body, field in cases:
        assert_problem(api.post(ORDERS, body, format="json"), 400, field)
    assert not Order.objects.exists()


def test_malformed_json_and_non_objects_are_400(api, network):
    assert_problem(api.post(ORDERS, "{not json", content_type="application/json"), 400)
    assert_problem(api.post(ORDERS, "[1, 2]", content_type="application/json"), 400)
    assert_problem(api.post(ORDERS, "NaN", content_type="application/json"), 400)
    assert not Order.objects.exists()


def test_read_order_with_routing_and_timeline(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order_id = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json").json()["id"]
    body = api.get(f"{ORDERS}/{order_id}").json()
    assert body["routing"]["candidates"][0]["code"] == "ST-SOHO"
    assert [e["to_state"] for e in body["timeline"] if e["kind"] == "transition"] == ["allocated"]


def test_timeline_has_transitions_notes_and_events_oldest_first_with_their_actors(api, staff_api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order_id = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json").json()["id"]
    order = Order.objects.get()
    note_add(order=order, text="Leave with the neighbour.", author=get_user_model().objects.create_user("agent"))
    note_add(order=order, text="Called the customer.")
    assert staff_api.post(f"{ORDERS}/{order_id}/cancel", {"reason": "customer asked"}, format="json").status_code == 200
    timeline = api.get(f"{ORDERS}/{order_id}").json()["timeline"]
    fulfilment = f"fulfilment:{order.fulfilments.get().pk}"
    assert [(e["kind"], e["subject"], e["text"], e["actor"]) for e in timeline] == [
        ("event", "order", "order.created", None),
        ("transition", "order", "allocate: " + order.routing["summary"], None),
        ("note", "order", "Leave with the neighbour.", "agent"),
        ("note", "order", "Called the customer.", None),
        ("transition", fulfilment, "cancel: customer asked", "desk"),
        ("transition", "order", "cancel: customer asked", "desk"),
    ]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)


def test_reading_an_order_costs_the_token_and_three_statements(api, network, django_assert_num_queries):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    network.stock(network.camden, b, 5)
    order_id = api.post(ORDERS, order_body(network, [(a, 1), (b, 2)]), format="json").json()["id"]
    # The token, then the order with its lines, the fulfilments with theirs, and the timeline.
    with django_assert_num_queries(4):
        body = api.get(f"{ORDERS}/{order_id}").json()
    assert [line["quantity"] for line in body["lines"]] == [1, 2]
    assert sorted(f["location"] for f in body["fulfilments"]) == ["ST-CAMDEN", "ST-SOHO"]
    assert all(len(f["lines"]) == 1 for f in body["fulfilments"])


def test_another_channels_order_is_not_found(api, other_api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order_id = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json").json()["id"]
    assert_problem(other_api.get(f"{ORDERS}/{order_id}"), 404)
    assert_problem(other_api.post(f"{ORDERS}/{order_id}/cancel", {}, format="json"), 404)
    assert other_api.get(ORDERS).json()["results"] == []
    assert Order.objects.get().status == "allocated"


def test_list_filters_by_external_id_and_status_with_a_cursor(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    for n in range(3):
        api.post(ORDERS, order_body(network, [(sku, 1)], external_id=f"WEB-{n}"), format="json")
    page = api.get(ORDERS, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["results"][0]["external_id"] == "WEB-0"
    assert [o["external_id"] for o in api.get(ORDERS, {"external_id": "WEB-1"}).json()["results"]] == ["WEB-1"]
    assert api.get(ORDERS, {"status": "cancelled"}).json()["results"] == []
    assert_problem(api.get(ORDERS, {"status": "lost"}), 400, "status")
    assert_problem(api.get(ORDERS, {"cursor": "garbage"}), 404)


def test_cancel_lines_by_sku_then_the_rest(api, network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 5)
    network.stock(network.soho, b, 5)
    order_id = api.post(ORDERS, order_body(network, [(a, 2), (b, 1)]), format="json").json()["id"]
    partial = api.post(
        f"{ORDERS}/{order_id}/cancel",
        {"reason": "changed mind", "lines": [{"sku": a.code, "quantity": 1}]},
        format="json",
    )
    assert partial.status_code == 200, partial.content
    assert [line["cancelled_quantity"] for line in partial.json()["lines"]] == [1, 0]
    assert network.level(network.soho, a).reserved == 1
    assert_problem(
        api.post(f"{ORDERS}/{order_id}/cancel", {"lines": [{"sku": a.code, "quantity": 5}]}, format="json"),
        400,
        "lines[0].quantity",
    )
    whole = api.post(f"{ORDERS}/{order_id}/cancel", {"reason": "changed mind"}, format="json")
    assert whole.json()["status"] == "cancelled"
    assert network.level(network.soho, a).reserved == 0 and network.level(network.soho, b).reserved == 0


def test_cancel_after_dispatch_is_409_and_changes_nothing(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order_id = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json").json()["id"]
    f = Order.objects.get(pk=order_id).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: 1})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    body = assert_problem(api.post(f"{ORDERS}/{order_id}/cancel", {"reason": "late"}, format="json"), 409)
    assert "allowed" in body and "cancel" not in body["allowed"]
    assert Order.objects.get(pk=order_id).status == "shipped"


def test_change_address_reroutes_and_bad_address_is_400(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.leeds, sku, 5)
    order_id = api.post(ORDERS, order_body(network, [(sku, 1)]), format="json").json()["id"]
    assert_problem(api.post(f"{ORDERS}/{order_id}/address", {"line1": "x"}, format="json"), 400, "city")
    leeds = {**ADDRESS, "city": "Leeds", "postcode": "LS1 4AP", "lat": 53.7997, "lon": -1.5492}
    response = api.post(f"{ORDERS}/{order_id}/address", leeds, format="json")
    assert response.status_code == 200, response.content
    live = [f for f in response.json()["fulfilments"] if f["status"] != "cancelled"]
    assert [f["location"] for f in live] == ["ST-LEEDS"]


def test_order_urls_reverse():
    assert reverse("api:order", kwargs={"pk": 7}) == "/api/v1/orders/7"
