from fulfilment.models import Fulfilment
from tests.api.conftest import assert_problem, order_body


def _placed(api, network, **fulfilment):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    order = api.post("/api/v1/orders", order_body(network, [(sku, 2)], **fulfilment), format="json").json()
    return sku, order["id"], order["fulfilments"][0]["id"]


def test_ship_from_store_through_every_action(api, network):
    sku, order_id, fid = _placed(api, network)
    url = f"/api/v1/fulfilments/{fid}"
    assert api.post(f"{url}/accept", {}, format="json").json()["status"] == "accepted"
    assert (
        api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json").json()["status"]
        == "picking"
    )
    assert api.post(f"{url}/pack", {}, format="json").json()["status"] == "packed"
    shipped = api.post(f"{url}/ship", {"carrier": "DPD", "tracking": "T-1"}, format="json").json()
    assert shipped["status"] == "shipped" and shipped["tracking"] == "T-1"
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "shipped"
    assert network.level(network.soho, sku).on_hand == 3


def test_action_not_allowed_now_is_409_naming_the_allowed_ones(api, network):
    _, _, fid = _placed(api, network)
    body = assert_problem(api.post(f"/api/v1/fulfilments/{fid}/pack", {}, format="json"), 409)
    assert body["current"] == "pending" and "accept" in body["allowed"]
    assert Fulfilment.objects.get(pk=fid).status == "pending"


def test_bad_action_bodies_are_400(api, network):
    sku, _, fid = _placed(api, network)
    url = f"/api/v1/fulfilments/{fid}"
    assert_problem(api.post(f"{url}/decline", {"reason": "bored"}, format="json"), 400, "reason")
    api.post(f"{url}/accept", {}, format="json")
    assert_problem(api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": 9}]}, format="json"), 400)
    assert_problem(api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": -1}]}, format="json"), 400)
    assert Fulfilment.objects.get(pk=fid).status == "accepted"


def test_decline_reroutes_to_the_next_store(api, network):
    sku, order_id, fid = _placed(api, network)
    network.stock(network.camden, sku, 5)
    declined = api.post(f"/api/v1/fulfilments/{fid}/decline", {"reason": "mismatch"}, format="json")
    assert declined.json()["status"] == "declined"
    live = [f for f in api.get(f"/api/v1/orders/{order_id}").json()["fulfilments"] if f["status"] == "pending"]
    assert [f["location"] for f in live] == ["ST-CAMDEN"]


def test_click_and_collect_ready_then_collect_with_the_code(api, network):
    sku, order_id, fid = _placed(api, network, method="pickup", store="ST-SOHO")
    url = f"/api/v1/fulfilments/{fid}"
    api.post(f"{url}/accept", {}, format="json")
    api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json")
    ready = api.post(f"{url}/ready", {}, format="json").json()
    assert_problem(api.post(f"{url}/ship", {"carrier": "DPD", "tracking": "T"}, format="json"), 409)
    wrong = "000000" if ready["pickup_code"] != "000000" else "111111"
    assert_problem(api.post(f"{url}/collect", {"pickup_code": wrong}, format="json"), 400, "pickup_code")
    assert (
        api.post(f"{url}/collect", {"pickup_code": ready["pickup_code"]}, format="json").json()["status"] == "collected"
    )
    assert api.get(f"/api/v1/orders/{order_id}").json()["status"] == "completed"


def test_guessing_pickup_codes_over_the_api_locks_the_parcel_even_with_idempotency_keys(api, network, settings):
    """Each refused request rolls back, yet the misses still count: a code cannot be brute-forced."""
    settings.OMS_PICKUP_CODE_MAX_MISSES = 3
    sku, _, fid = _placed(api, network, method="pickup", store="ST-SOHO")
    url = f"/api/v1/fulfilments/{fid}"
    api.post(f"{url}/accept", {}, format="json")
    api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json")
    code = api.post(f"{url}/ready", {}, format="json").json()["pickup_code"]
    guesses = [c for c in ("000000", "111111", "222222", "333333") if c != code][:3]
    for n, guess in enumerate(guesses):
        response = api.post(f"{url}/collect", {"pickup_code": guess}, format="json", HTTP_IDEMPOTENCY_KEY=f"guess-{n}")
        assert_problem(response, 400, "pickup_code")
    body = assert_problem(api.post(f"{url}/collect", {"pickup_code": code}, format="json"), 400, "pickup_code")
    assert "Too many wrong pickup codes" in body["detail"]
    assert Fulfilment.objects.get(pk=fid).status == "ready_for_pickup"


def test_staff_act_on_any_channels_fulfilment_and_are_the_actor(api, staff_api, other_api, network):
    _, order_id, fid = _placed(api, network)
    assert_problem(other_api.post(f"/api/v1/fulfilments/{fid}/accept", {}, format="json"), 404)
    assert staff_api.post(f"/api/v1/fulfilments/{fid}/accept", {}, format="json").status_code == 200
    timeline = api.get(f"/api/v1/orders/{order_id}").json()["timeline"]
    assert any(e["actor"] == "desk" and e["to_state"] == "accepted" for e in timeline)


def test_a_malformed_pickup_code_is_400_on_the_field_and_the_wrong_one_keeps_the_apis_words(api, network):
    sku, _, fid = _placed(api, network, method="pickup", store="ST-SOHO")
    url = f"/api/v1/fulfilments/{fid}"
    api.post(f"{url}/accept", {}, format="json")
    api.post(f"{url}/pick", {"lines": [{"sku": sku.code, "quantity": 2}]}, format="json")
    code = api.post(f"{url}/ready", {}, format="json").json()["pickup_code"]
    for malformed in ["12a456"] * 6:  # more than the misses that lock a parcel; none of them counts
        body = assert_problem(api.post(f"{url}/collect", {"pickup_code": malformed}, format="json"), 400, "pickup_code")
        assert body["detail"] == "A pickup code is 6 digits." and body["errors"]["pickup_code"] == ["6 digits."]
    wrong = "000000" if code != "000000" else "111111"
    body = assert_problem(api.post(f"{url}/collect", {"pickup_code": wrong}, format="json"), 400, "pickup_code")
    assert body["detail"] == "The pickup code does not match. 4 attempt(s) left before the parcel is locked."
    assert body["errors"]["pickup_code"] == ["Wrong code."]


def test_a_collection_waiting_for_its_transfer_takes_no_step_until_it_is_received(api, network):
    """The stock is still the warehouse's: the pickup store cannot accept, decline, pick or shelve it."""
    from fulfilment.store_transfers import store_transfer_receive, store_transfer_ship
    from inventory.models import Transfer

    sku = network.skus[0]
    network.stock(network.warehouse, sku, 5)
    body = order_body(network, [(sku, 2)], method="pickup", store="ST-SOHO")
    fid = api.post("/api/v1/orders", body, format="json").json()["fulfilments"][0]["id"]
    transfer = Transfer.objects.get(supplies_ref=f"fulfilment:{fid}")
    url = f"/api/v1/fulfilments/{fid}"
    for action, data in [
        ("accept", {}),
        ("decline", {"reason": "not_in_stock"}),
        ("pick", {"lines": [{"sku": sku.code, "quantity": 2}]}),
        ("ready", {}),
    ]:
        problem = assert_problem(api.post(f"{url}/{action}", data, format="json"), 409)
        assert f"waiting for its transfer. Its stock comes by transfer {transfer.reference}" in problem["detail"]
        assert "not shipped yet" in problem["detail"]
    store_transfer_ship(transfer=transfer, store=network.warehouse)
    problem = assert_problem(api.post(f"{url}/decline", {"reason": "mismatch"}, format="json"), 409)
    assert "on its way" in problem["detail"]
    f = Fulfilment.objects.get(pk=fid)
    assert (f.status, f.source_location) == ("pending", network.warehouse)
    assert network.level(network.warehouse, sku).on_hand == 3  # declined stock was not written off anywhere

    store_transfer_receive(transfer=transfer, store=network.soho)
    assert api.post(f"{url}/ready", {}, format="json").json()["status"] == "ready_for_pickup"
