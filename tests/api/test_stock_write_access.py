"""Who may set stock through the API: a location's own system for its locations, or an administrator.

A sales channel sells stock; it never says how much there is. A feed refused for its
caller or its scope changes nothing at all.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from inventory.credentials import location_credential_issue
from inventory.models import LocationCredential, StockLevel, StockMovement
from oms.services import staff_create
from tests.api.conftest import assert_problem

FEEDS = "/api/v1/stock-feeds"


def client_for(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def session_of(role: str, **kwargs) -> APIClient:
    profile = staff_create(username=f"{role}-1", password="stock-desk-77", role=role, **kwargs)
    client = APIClient()
    client.force_authenticate(profile.user)
    return client


def snapshot(*rows) -> dict:
    return {"mode": "snapshot", "rows": [{"location": loc, "sku": sku.code, "on_hand": q} for loc, sku, q in rows]}


def on_hand(network) -> dict:
    return dict(StockLevel.objects.values_list("location__code", "on_hand"))


@pytest.fixture
def soho_system(network) -> str:
    _, token = location_credential_issue(name="soho-tills", location_codes=[network.soho.code])
    return token


def test_a_sales_channels_token_cannot_set_stock_anywhere(api, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    before = on_hand(network)

    response = api.post(FEEDS, snapshot((network.soho.code, sku, 1000)), format="json")

    assert_problem(response, 403)
    csv = f"location,sku,on_hand\n{network.soho.code},{sku.code},1000\n"
    assert_problem(api.generic("POST", FEEDS, csv, content_type="text/csv"), 403)
    assert on_hand(network) == before
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.FEED).exists()


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_staff_without_the_right_cannot_post_a_feed(network, role):
    sku = network.skus[0]
    response = session_of(role).post(FEEDS, snapshot((network.soho.code, sku, 7)), format="json")
    assert_problem(response, 403)
    assert not StockLevel.objects.exists()


def test_a_location_credential_writes_its_own_location_and_the_ledger_names_it(soho_system, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)

    response = client_for(soho_system).post(FEEDS, snapshot((network.soho.code, sku, 9)), format="json")

    assert response.status_code == 200, response.content
    assert response.json()["applied"] == 1
    assert network.level(network.soho, sku).on_hand == 9
    movement = StockMovement.objects.get(kind=StockMovement.Kind.FEED)
    assert movement.credential == LocationCredential.objects.get(name="soho-tills")
    assert movement.actor is None and movement.on_hand_delta == 4


def test_a_location_credential_outside_its_scope_is_403_naming_the_location_and_changes_nothing(soho_system, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    before = on_hand(network)

    body = snapshot((network.soho.code, sku, 9), (network.camden.code, sku, 1000))
    response = client_for(soho_system).post(FEEDS, body, format="json")

    problem = assert_problem(response, 403, "location")
    assert network.camden.code in problem["detail"] and problem["errors"]["location"] == [network.camden.code]
    assert network.soho.code not in problem["errors"]["location"]
    assert on_hand(network) == before
    assert not StockMovement.objects.filter(kind=StockMovement.Kind.FEED).exists()


def test_a_location_credential_is_for_stock_feeds_only(soho_system, network):
    assert_problem(client_for(soho_system).get("/api/v1/orders"), 403)


def test_an_admin_session_may_post_a_feed_and_is_recorded_as_its_actor(network):
    sku = network.skus[0]
    response = session_of("admin").post(FEEDS, snapshot((network.camden.code, sku, 3)), format="json")
    assert response.status_code == 200, response.content
    movement = StockMovement.objects.get(kind=StockMovement.Kind.FEED)
    assert movement.actor.username == "admin-1" and movement.credential is None


def test_a_revoked_location_credential_is_401(soho_system, network):
    LocationCredential.objects.update(revoked_at="2000-01-01T00:00:00Z")
    assert_problem(client_for(soho_system).post(FEEDS, snapshot((network.soho.code, network.skus[0], 1))), 401)


def test_create_location_credential_prints_the_token_once_and_stores_only_its_digest(network):
    out = StringIO()
    call_command(
        "create_location_credential", "north-wms", "--location", "ST-SOHO", "--location", "ST-CAMDEN", stdout=out
    )

    token = out.getvalue().strip().splitlines()[-1]
    credential = LocationCredential.objects.get(name="north-wms")
    assert token.startswith("oml_") and token not in credential.digest
    assert set(credential.locations.values_list("code", flat=True)) == {"ST-SOHO", "ST-CAMDEN"}
    response = client_for(token).post(FEEDS, snapshot(("ST-CAMDEN", network.skus[0], 2)), format="json")
    assert response.status_code == 200, response.content


def test_create_location_credential_refuses_unknown_locations_and_creates_nothing(network):
    with pytest.raises(CommandError, match="NOWHERE"):
        call_command("create_location_credential", "x", "--location", "NOWHERE", stdout=StringIO())
    assert not LocationCredential.objects.exists()
