from inventory.models import ChannelCap, StockLevel
from tests.api.conftest import assert_problem
from tests.factories import LocationFactory

URL = "/api/v1/availability"
TRAFALGAR = {"lat": 51.508, "lon": -0.128}


def test_availability_gives_network_atp_delivery_and_nearest_pickup_stores(api, network):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 2)
    network.stock(network.camden, a, 1)
    network.stock(network.camden, b, 3)
    body = {"lines": [{"sku": a.code, "quantity": 1}, {"sku": b.code, "quantity": 1}], "destination": TRAFALGAR}
    response = api.post(URL, body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert [(line["sku"], line["available"]) for line in data["lines"]] == [(a.code, 3), (b.code, 3)]
    assert data["delivery"]["can_fulfil"] is True and data["delivery"]["shipments"] == 1
    stores = data["pickup_stores"]
    assert [s["store"] for s in stores] == ["ST-SOHO", "ST-CAMDEN"]
    assert stores[0]["distance_km"] < stores[1]["distance_km"]
    soho, camden = stores
    assert camden["all_available"] is True and camden["ready_by"]
    assert soho["all_available"] is False and soho["ready_by"] > camden["ready_by"]  # b comes by transfer


def test_availability_by_postcode_and_unknown_sku_or_place(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    by_postcode = api.post(
        URL, {"lines": [{"sku": sku.code, "quantity": 1}], "destination": {"postcode": "WC2N 5DU"}}, format="json"
    )
    assert by_postcode.status_code == 200, by_postcode.content
    assert by_postcode.json()["pickup_stores"][0]["store"] == "ST-SOHO"
    body = assert_problem(
        api.post(URL, {"lines": [{"sku": "NOPE", "quantity": 1}], "destination": TRAFALGAR}, format="json"),
        400,
        "lines[0].sku",
    )
    assert "NOPE" in body["detail"]
    unknown_place = {"lines": [{"sku": sku.code, "quantity": 1}], "destination": {"postcode": "ZZ99 9ZZ"}}
    assert_problem(api.post(URL, unknown_place, format="json"), 400, "destination.postcode")
    assert_problem(api.post(URL, {"lines": [], "destination": {"lat": 91, "lon": 0}}, format="json"), 400, "lines")


def test_availability_too_much_cannot_be_delivered(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    data = api.post(URL, {"lines": [{"sku": sku.code, "quantity": 5}], "destination": TRAFALGAR}, format="json").json()
    assert data["delivery"] == {**data["delivery"], "can_fulfil": False, "shipments": 0}
    assert all(s["ready_by"] is None for s in data["pickup_stores"])
    assert StockLevel.objects.get().reserved == 0


def test_staff_without_a_channel_is_refused_availability(staff_api, network):
    assert_problem(staff_api.post(URL, {}, format="json"), 403)


def test_availability_honours_the_channels_cap_and_a_full_stores_capacity(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.camden, sku, 5)
    ChannelCap.objects.create(channel=network.web, sku=sku, quantity=4, used=1)
    network.soho.daily_capacity = 0
    network.soho.save()
    data = api.post(URL, {"lines": [{"sku": sku.code, "quantity": 1}], "destination": TRAFALGAR}, format="json").json()
    assert data["lines"][0]["available"] == 3
    assert "ST-CAMDEN" in data["delivery"]["summary"]
    soho, camden = data["pickup_stores"]
    assert soho["all_available"] is True and soho["ready_by"] > camden["ready_by"]  # it cannot take more work today


def test_availability_costs_a_fixed_number_of_queries_however_many_stores(api, network, django_assert_num_queries):
    a, b = network.skus[:2]
    stores = LocationFactory.create_batch(12, lat=51.52, lon=-0.13)
    for store in [network.soho, network.camden, network.warehouse, *stores]:
        network.stock(store, a, 3)
    network.stock(stores[0], b, 1)
    body = {"lines": [{"sku": a.code, "quantity": 1}, {"sku": b.code, "quantity": 1}], "destination": TRAFALGAR}
    assert api.post(URL, body, format="json").status_code == 200  # the token's first use is recorded once
    # Token, SKUs, the nearest pickup stores, the stock (ranked candidates, network totals and
    # the pickup stores'), the candidate locations, the supply still to come (none here: nothing
    # more is read for it); the routing policies are cached.
    with django_assert_num_queries(6):
        data = api.post(URL, body, format="json").json()
    assert len(data["pickup_stores"]) == 14
    assert data["delivery"]["shipments"] == 1
