"""The inbound supply API: announce, read and receive supplier deliveries for a location."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.credentials import location_credential_issue
from inventory.inbound import inbound_close
from inventory.models import Barcode, InboundLine, InboundSupply, StockLevel, StockMovement
from oms.services import api_token_issue
from tests.api.conftest import assert_problem
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, gtin13

pytestmark = pytest.mark.django_db

INBOUND = "/api/v1/inbound"
TOMORROW = timezone.localdate() + timedelta(days=1)


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def state() -> tuple:
    return (
        list(InboundSupply.objects.values_list("reference", "status").order_by("pk")),
        list(InboundLine.objects.values_list("sku_id", "quantity", "received").order_by("pk")),
        list(StockLevel.objects.values_list("sku_id", "location_id", "on_hand").order_by("pk")),
        StockMovement.objects.count(),
    )


@pytest.fixture
def skus(db):
    shirt, socks = SkuFactory(code="SHIRT-M"), SkuFactory(code="SOCKS")
    Barcode.objects.create(code=gtin13(5), sku=socks)
    return shirt, socks


@pytest.fixture
def depot(db):
    return LocationFactory(code="WH-1", kind="warehouse")


def body(location="WH-1", reference="PO/2026/1", **changes) -> dict:
    return {
        "reference": reference,
        "location": location,
        "expected_on": TOMORROW.isoformat(),
        "lines": [{"sku": "SHIRT-M", "quantity": 10}, {"sku": gtin13(5), "quantity": 4}],
    } | changes


@pytest.fixture
def created(admin_api, skus, depot):
    response = admin_api.post(INBOUND, body(), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_administrator_announces_reads_and_receives_a_delivery(admin_api, created, skus, depot):
    assert created == {
        "reference": "PO/2026/1",
        "location": "WH-1",
        "expected_on": TOMORROW.isoformat(),
        "status": "open",
        "lines": [{"sku": "SHIRT-M", "quantity": 10, "received": 0}, {"sku": "SOCKS", "quantity": 4, "received": 0}],
    }
    assert admin_api.get(f"{INBOUND}/PO/2026/1").json() == created

    lines = [{"sku": "SHIRT-M", "quantity": 10}, {"sku": gtin13(5), "quantity": 6}]
    response = admin_api.post(f"{INBOUND}/PO/2026/1/receive", {"lines": lines}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == created | {
        "status": "received",
        "lines": [{"sku": "SHIRT-M", "quantity": 10, "received": 10}, {"sku": "SOCKS", "quantity": 4, "received": 6}],
        "over_received": [{"sku": "SOCKS", "quantity": 2}],
    }
    levels = dict(StockLevel.objects.filter(location=depot).values_list("sku__code", "on_hand"))
    assert levels == {"SHIRT-M": 10, "SOCKS": 6}
    receipts = StockMovement.objects.filter(kind="receipt", reference="inbound:PO/2026/1")
    assert sorted(receipts.values_list("on_hand_delta", flat=True)) == [6, 10]
    assert {m.actor.username for m in receipts} == {"ops"}


def test_a_location_system_acts_on_its_own_locations_only(skus, depot):
    elsewhere = LocationFactory(code="ST-9")
    _, token = location_credential_issue(name="wh-1-wms", location_codes=[depot.code])
    wms = client_for(token)

    assert wms.post(INBOUND, body(), format="json").status_code == 201
    before = state()
    refused = assert_problem(wms.post(INBOUND, body(location="ST-9", reference="PO-9"), format="json"), 403)
    assert refused["errors"] == {"location": ["ST-9"]}
    assert state() == before

    _, other_token = location_credential_issue(name="st-9-tills", location_codes=[elsewhere.code])
    tills = client_for(other_token)
    assert_problem(tills.get(f"{INBOUND}/PO/2026/1"), 403)
    assert_problem(tills.post(f"{INBOUND}/PO/2026/1/receive", {"lines": [{"sku": "SOCKS", "quantity": 1}]}), 403)
    assert state() == before

    response = wms.post(f"{INBOUND}/PO/2026/1/receive", {"lines": [{"sku": "SOCKS", "quantity": 1}]}, format="json")
    assert response.status_code == 200
    assert StockMovement.objects.get().credential is None  # a receipt names its actor; systems have none


def test_sales_channels_and_other_staff_may_not_announce_or_receive(api_client_kinds, created):
    before = state()
    for client in api_client_kinds:
        assert_problem(client.post(INBOUND, body(reference="PO-X"), format="json"), 403)
        assert_problem(client.get(f"{INBOUND}/PO/2026/1"), 403)
        lines = {"lines": [{"sku": "SOCKS", "quantity": 1}]}
        assert_problem(client.post(f"{INBOUND}/PO/2026/1/receive", lines, format="json"), 403)
    assert_problem(APIClient().get(f"{INBOUND}/PO/2026/1"), 401)
    assert state() == before


@pytest.fixture
def api_client_kinds(staff_api, db):
    channel = client_for(api_token_issue(channel=ChannelFactory(code="web")))
    return [channel, staff_api]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reference": "PO 1"}, "reference"),
        ({"reference": ""}, "reference"),
        ({"location": "NOWHERE"}, "location"),
        ({"expected_on": "2001-01-01"}, "expected_on"),
        ({"expected_on": "soon"}, "expected_on"),
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "NO-SUCH", "quantity": 1}]}, "lines[0].sku"),
        ({"lines": [{"sku": "SHIRT-M", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SHIRT-M", "quantity": 5_000_000}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "SHIRT-M", "quantity": 1}, {"sku": "SHIRT-M", "quantity": 1}]}, "lines[1].sku"),
    ],
)
def test_bad_announcements_are_400_naming_the_field(admin_api, skus, depot, changes, field):
    assert_problem(admin_api.post(INBOUND, body(**changes), format="json"), 400, field)
    assert not InboundSupply.objects.exists()


def test_an_inactive_sku_is_400_naming_the_line(admin_api, skus, depot):
    SkuFactory(code="OLD", active=False)
    lines = [{"sku": "SHIRT-M", "quantity": 1}, {"sku": "OLD", "quantity": 1}]
    problem = assert_problem(admin_api.post(INBOUND, body(lines=lines), format="json"), 400, "lines[1].sku")
    assert "OLD is inactive" in problem["errors"]["lines[1].sku"][0]
    assert not InboundSupply.objects.exists()


def test_an_existing_reference_is_409(admin_api, created):
    before = state()
    assert_problem(admin_api.post(INBOUND, body(expected_on="2099-01-01"), format="json"), 409, "reference")
    assert state() == before


def test_an_unknown_reference_is_404(admin_api, created):
    assert_problem(admin_api.get(f"{INBOUND}/PO-404"), 404)
    lines = {"lines": [{"sku": "SOCKS", "quantity": 1}]}
    assert_problem(admin_api.post(f"{INBOUND}/PO-404/receive", lines, format="json"), 404)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([{"sku": "NO-SUCH", "quantity": 1}], "lines[0].sku"),
        ([{"sku": "SOCKS", "quantity": 1}, {"sku": "OTHER", "quantity": 1}], "lines[1].sku"),
        ([{"sku": "SOCKS", "quantity": 0}], "lines[0].quantity"),
        ([], "lines"),
    ],
)
def test_a_bad_receipt_is_400_and_changes_nothing(admin_api, created, lines, field):
    SkuFactory(code="OTHER")
    before = state()
    response = admin_api.post(f"{INBOUND}/PO/2026/1/receive", {"lines": lines}, format="json")
    assert_problem(response, 400, field)
    assert state() == before


def test_receiving_against_a_closed_document_is_409(admin_api, created):
    inbound_close(supply=InboundSupply.objects.get())
    before = state()
    lines = {"lines": [{"sku": "SOCKS", "quantity": 1}]}
    assert_problem(admin_api.post(f"{INBOUND}/PO/2026/1/receive", lines, format="json"), 409)
    assert state() == before
    assert admin_api.get(f"{INBOUND}/PO/2026/1").json()["status"] == "closed"
