"""One address rule everywhere: order intake, the endless aisle, and address changes in the back
office and the API refuse an unknown postcode alike, with a clear message, and change nothing.
A refused address change names the real reason for the order's state."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import InvalidInput
from inventory.models import Channel
from oms.geo import coordinates_for
from oms.intake import OrderInput, OrderLineInput
from oms.models import Activity, Order, StaffProfile
from oms.services import api_token_issue, order_cancel, order_change_address, order_place, staff_create
from tests.backoffice.support import shipped_order
from tests.conftest import store_staff_client
from tests.factories import ChannelFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db

# A postcode no area has, in a town the table knows: the town must not stand in for it.
UNKNOWN = {"line1": "1 Nowhere Lane", "city": "London", "postcode": "ZZ9 9ZZ", "country": "GB"}
UNKNOWN_MESSAGE = "The postcode ZZ9 9ZZ is not a known GB postcode."


def test_a_postcode_is_placed_by_its_district_or_else_its_area_never_by_the_town():
    assert coordinates_for(postcode="LS1 6HD") == coordinates_for(postcode="LS1")  # the district
    assert coordinates_for(postcode="LS6 3AB") == coordinates_for(postcode="LS1")  # its area, Leeds
    assert coordinates_for(postcode="ZZ9 9ZZ") is None
    assert coordinates_for(postcode="D01 F5P2", country="IE") is not None  # an Eircode's routing key


def test_order_intake_refuses_an_unknown_postcode_even_in_a_known_town(network):
    network.stock(network.soho, network.skus[0], 5)
    data = OrderInput(
        channel=network.web,
        external_id="WEB-ZZ",
        lines=[OrderLineInput(network.skus[0].code, 1, "10.00")],
        address=UNKNOWN,
        customer={"email": "z@example.com"},
    )
    with pytest.raises(InvalidInput) as exc:
        order_place(data=data)
    assert exc.value.message.startswith(UNKNOWN_MESSAGE)
    assert "fulfilment.address.postcode" in exc.value.errors
    assert not Order.objects.exists()


@pytest.fixture
def routed(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    network.stock(network.leeds, sku, 5)
    return place(network, [(sku, 1)])


def test_service_address_change_refuses_an_unknown_postcode_and_changes_nothing(routed):
    before = (routed.address, routed.lat, routed.lon)
    with pytest.raises(InvalidInput) as exc:
        order_change_address(order=routed, address=UNKNOWN)
    assert exc.value.message.startswith(UNKNOWN_MESSAGE)
    assert "address.postcode" in exc.value.errors
    routed.refresh_from_db()
    assert (routed.address, routed.lat, routed.lon) == before
    assert not Activity.objects.filter(order=routed, action="change_address").exists()


def test_back_office_address_change_refuses_an_unknown_postcode(client, routed):
    client.force_login(staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user)
    response = client.post(reverse("backoffice:order_action", args=[routed.pk, "address"]), UNKNOWN, follow=True)
    [said] = [str(m) for m in response.context["messages"]]
    assert said.startswith(f"Nothing was changed. {UNKNOWN_MESSAGE}")
    routed.refresh_from_db()
    assert routed.address["postcode"] == "WC2N 5DU"
    assert routed.fulfilments.get().location.code == "ST-SOHO"


def _api(network) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=network.web)}")
    return api


def test_api_address_change_refuses_an_unknown_postcode(network, routed):
    response = _api(network).post(f"/api/v1/orders/{routed.pk}/address", UNKNOWN, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"].startswith(UNKNOWN_MESSAGE)
    assert "address.postcode" in body["errors"]
    routed.refresh_from_db()
    assert routed.address["postcode"] == "WC2N 5DU"


def test_endless_aisle_refuses_the_same_unknown_postcode(network):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    sku = network.skus[0]
    network.stock(network.camden, sku, 2)
    client = store_staff_client(network.soho)
    client.post("/store/ST-SOHO/order/", {"action": "add", "sku": sku.code, "quantity": "1", "price": "5"})
    response = client.post(
        "/store/ST-SOHO/order/",
        {
            "action": "place",
            "name": "Pat",
            "phone": "07700 900123",
            "method": "delivery",
            "line1": UNKNOWN["line1"],
            "city": UNKNOWN["city"],
            "postcode": UNKNOWN["postcode"],
        },
    )
    assert response.status_code == 400
    assert UNKNOWN_MESSAGE in response.content.decode()
    assert not Order.objects.exists()


LEEDS = {"line1": "2 Briggate", "city": "Leeds", "postcode": "LS1 6HD", "country": "GB"}


def test_address_change_on_a_cancelled_order_says_it_is_cancelled(network, routed):
    order_cancel(order=routed, reason="customer asked")
    with pytest.raises(InvalidInput) as exc:
        order_change_address(order=routed, address=LEEDS)
    assert exc.value.message == f"Order {routed.number} is cancelled: there is nothing left to deliver."
    assert exc.value.errors == {"address": ["The order is cancelled."]}
    body = _api(network).post(f"/api/v1/orders/{routed.pk}/address", LEEDS, format="json").json()
    assert body["detail"] == f"Order {routed.number} is cancelled: there is nothing left to deliver."


def test_address_change_on_a_shipped_order_says_it_is_on_its_way(network):
    order = shipped_order(network, units=1)
    with pytest.raises(InvalidInput) as exc:
        order_change_address(order=order, address=LEEDS)
    assert exc.value.message == (
        f"Order {order.number} has been shipped to the current address; ask the carrier to redirect the parcel."
    )
    assert exc.value.errors == {"address": ["Already shipped."]}
