import pytest

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from inventory.models import Barcode, StockMovement
from returns.models import Return
from tests.api.conftest import assert_problem, order_body
from tests.factories import gtin13


@pytest.fixture
def shipped_order(api, network):
    """Two units shipped from the warehouse to the customer."""
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 5)
    order_id = api.post("/api/v1/orders", order_body(network, [(sku, 2)]), format="json").json()["id"]
    f = network.web.orders.get(pk=order_id).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: 2})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    return order_id, sku


def test_return_request_read_and_receive_into_store_stock(api, network, shipped_order):
    order_id, sku = shipped_order
    created = api.post(
        "/api/v1/returns", {"order": order_id, "lines": [{"sku": sku.code, "quantity": 2}]}, format="json"
    )
    assert created.status_code == 201, created.content
    ret = created.json()
    assert ret["status"] == "authorised" and ret["lines"][0]["quantity"] == 2
    assert api.get(f"/api/v1/returns/{ret['id']}").json()["id"] == ret["id"]
    received = api.post(
        f"/api/v1/returns/{ret['id']}/receive",
        {
            "location": "ST-SOHO",
            "lines": [
                {"sku": sku.code, "quantity": 1, "condition": "resellable"},
                {"sku": sku.code, "quantity": 1, "condition": "damaged"},
            ],
        },
        format="json",
    )
    assert received.status_code == 200, received.content
    assert received.json()["status"] == "received"
    assert network.level(network.soho, sku).on_hand == 1


def test_over_return_and_over_receive_are_409_and_change_nothing(api, network, shipped_order):
    order_id, sku = shipped_order
    body = assert_problem(
        api.post("/api/v1/returns", {"order": order_id, "lines": [{"sku": sku.code, "quantity": 3}]}, format="json"),
        409,
        "lines[0].quantity",
    )
    assert "over_quantity" in body["errors"]["lines[0].quantity"][0]
    assert not Return.objects.exists()
    ret_id = api.post(
        "/api/v1/returns", {"order": order_id, "lines": [{"sku": sku.code, "quantity": 1}]}, format="json"
    ).json()["id"]
    movements = StockMovement.objects.count()
    over = {"location": "ST-SOHO", "lines": [{"sku": sku.code, "quantity": 5}]}
    assert_problem(api.post(f"/api/v1/returns/{ret_id}/receive", over, format="json"), 409, f"lines.{sku.code}")
    assert_problem(
        api.post(f"/api/v1/returns/{ret_id}/receive", {**over, "location": "NOWHERE"}, format="json"), 400, "location"
    )
    assert Return.objects.get().status == "authorised" and StockMovement.objects.count() == movements


def test_another_channel_cannot_return_or_read(other_api, shipped_order):
    order_id, sku = shipped_order
    assert_problem(
        other_api.post(
            "/api/v1/returns", {"order": order_id, "lines": [{"sku": sku.code, "quantity": 1}]}, format="json"
        ),
        404,
    )
    assert_problem(other_api.get("/api/v1/returns/999999"), 404)


def test_stock_per_location_for_the_channel(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 4)
    network.stock(network.camden, sku, 2)
    network.web.buffer = 1
    network.web.save()
    rows = api.get("/api/v1/stock", {"sku": sku.code}).json()["locations"]
    assert rows == [
        {"location": "ST-CAMDEN", "on_hand": 2, "reserved": 0, "available": 1},
        {"location": "ST-SOHO", "on_hand": 4, "reserved": 0, "available": 3},
    ]
    one = api.get("/api/v1/stock", {"sku": sku.code, "location": "ST-SOHO"}).json()["locations"]
    assert [r["location"] for r in one] == ["ST-SOHO"]
    assert_problem(api.get("/api/v1/stock", {"sku": "NOPE"}), 400, "sku")
    assert_problem(api.get("/api/v1/stock"), 400, "sku")
    assert_problem(api.get("/api/v1/stock", {"sku": sku.code, "location": "NOWHERE"}), 400, "location")


def test_catalogue_by_code_barcode_and_alias(api, network):
    sku = network.skus[0]
    Barcode.objects.create(code=gtin13(1), sku=sku)
    network.web.aliases.create(code="web-shirt", sku=sku)
    for code in (sku.code, gtin13(1), "web-shirt"):
        body = api.get(f"/api/v1/catalogue/{code}").json()
        assert body["sku"] == sku.code and body["barcodes"] == [gtin13(1)]
    assert_problem(api.get("/api/v1/catalogue/NOPE"), 404)
    assert_problem(api.get("/api/v1/catalogue/%00"), 404)


def test_stock_feed_json_snapshot_and_csv_delta_report_rejected_rows(admin_api, network):
    api = admin_api  # stock is set by location systems and administrators, not by a sales channel
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    snapshot = {
        "mode": "snapshot",
        "rows": [
            {"location": "ST-SOHO", "sku": sku.code, "on_hand": 8},
            {"location": "NOWHERE", "sku": sku.code, "on_hand": 1},
        ],
    }
    result = api.post("/api/v1/stock-feeds", snapshot, format="json").json()
    assert result["applied"] == 1 and result["rejected"] == [
        {"row": 2, "field": "location", "message": "unknown location 'NOWHERE'"}
    ]
    assert network.level(network.soho, sku).on_hand == 8
    csv = f"location,sku,delta\nST-SOHO,{sku.code},-3\nST-SOHO,{sku.code},-99\n"
    response = api.generic("POST", "/api/v1/stock-feeds?mode=delta", csv, content_type="text/csv")
    assert response.status_code == 200, response.content
    assert response.json()["applied"] == 1 and response.json()["rejected"][0]["row"] == 3
    assert network.level(network.soho, sku).on_hand == 5
    bad_header = api.generic("POST", "/api/v1/stock-feeds?mode=delta", "a,b\n1,2\n", content_type="text/csv")
    assert_problem(bad_header, 400, "header")
    assert_problem(
        api.post(
            "/api/v1/stock-feeds",
            {"mode": "snapshot", "rows": [{"location": "ST-SOHO", "sku": sku.code}]},
            format="json",
        ),
        400,
        "rows[0].on_hand",
    )
    assert_problem(api.post("/api/v1/stock-feeds", {"mode": "replace", "rows": []}, format="json"), 400, "mode")
    assert network.level(network.soho, sku).on_hand == 5
