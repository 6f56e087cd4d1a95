"""Personal data goes only where it is needed: webhooks opted in to it, the store's handover and shipping work,
and never the logs."""

import json
import logging

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.pickups import fulfilment_ready
from omnichannel.privacy.erasure import customer_erase
from oms.models import Order, StaffProfile, WebhookEndpoint
from oms.services import api_token_issue, staff_create
from oms.webhooks import webhooks_dispatch
from returns.models import Return
from returns.refunds import return_refund
from tests.oms.webhook_receiver import WebhookReceiver
from tests.orders_support import place

from .support import HOME, PERSON, delivered

pytestmark = pytest.mark.django_db
SECRET = "whsec-test-0123456789"


def _customers_sent(receiver) -> list:
    return [json.loads(r.body)["data"].get("customer") for r in receiver.received]


def test_webhooks_carry_the_customer_only_to_endpoints_configured_for_it(network):
    with WebhookReceiver(SECRET) as plain, WebhookReceiver(SECRET) as entitled:
        WebhookEndpoint.objects.create(channel=network.web, url=plain.url, secret=SECRET)
        WebhookEndpoint.objects.create(channel=network.web, url=entitled.url, secret=SECRET, customer_data=True)
        network.stock(network.soho, network.skus[0], 1)
        order = place(network, [(network.skus[0], 1)], external_id="WEB-H", customer=PERSON)
        webhooks_dispatch()
        plain_bodies = b"".join(r.body for r in plain.received).decode()
        assert plain.received and all(c is None for c in _customers_sent(plain))
        assert PERSON["email"] not in plain_bodies and "Wisteria" not in plain_bodies
        sent = _customers_sent(entitled)
        assert sent and sent[0]["email"] == PERSON["email"] and sent[0]["name"] == PERSON["name"]
    assert WebhookEndpoint._meta.get_field("customer_data").default is False
    assert order.customer.email == PERSON["email"]


def test_after_erasure_an_entitled_endpoint_is_sent_no_personal_data(network):
    order = delivered(network, external_id="WEB-E", customer=PERSON)
    customer_erase(customer=order.customer, reason="asked")
    with WebhookReceiver(SECRET) as entitled:
        endpoint = WebhookEndpoint.objects.create(
            channel=network.web, url=entitled.url, secret=SECRET, customer_data=True
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(created_at=order.created_at)  # gets old events too
        webhooks_dispatch()
        bodies = b"".join(r.body for r in entitled.received).decode()
    assert entitled.received and PERSON["email"] not in bodies and "Wisteria" not in bodies


def _store_client(client, network):
    user = staff_create(
        username="sam", password="store-pass-123", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
    ).user
    client.force_login(user)
    return client


def test_store_staff_see_the_name_and_phone_ending_at_handover_never_the_email_or_full_phone(network, client):
    network.stock(network.soho, network.skus[0], 2)
    order = place(
        network, [(network.skus[0], 1)], external_id="WEB-C", method="pickup", store=network.soho, customer=PERSON
    )
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={network.skus[0].code: 1})
    fulfilment_ready(fulfilment=f)
    store = _store_client(client, network)
    handover = store.get(reverse("store:handover", args=["ST-SOHO"]), {"q": order.number}).content.decode()
    assert PERSON["name"] in handover and "0123" in handover
    pages = [handover] + [
        store.get(reverse(f"store:{name}", args=["ST-SOHO", *args])).content.decode()
        for name, args in [("queue", []), ("pickups", []), ("fulfilment", [f.pk]), ("pick_list", [f.pk])]
    ]
    for page in pages:
        assert PERSON["email"] not in page and "7700 900123" not in page and "+447700900123" not in page


def test_the_full_address_is_on_ship_from_store_work_only(network, client):
    network.stock(network.soho, network.skus[0], 5)
    shipping = place(network, [(network.skus[0], 1)], external_id="WEB-S", customer=PERSON)
    Order.objects.filter(pk=shipping.pk).update(address=HOME)
    collecting = place(
        network, [(network.skus[0], 1)], external_id="WEB-P", method="pickup", store=network.soho, customer=PERSON
    )
    Order.objects.filter(pk=collecting.pk).update(address=HOME)  # even if a channel sent one
    store = _store_client(client, network)
    ship_page = store.get(reverse("store:fulfilment", args=["ST-SOHO", shipping.fulfilments.get().pk]))
    collect_page = store.get(reverse("store:fulfilment", args=["ST-SOHO", collecting.fulfilments.get().pk]))
    assert "Wisteria Lane" in ship_page.content.decode()
    assert "Wisteria Lane" not in collect_page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_whole_order_life_writes_no_personal_data_to_the_logs(network, caplog, client):
    caplog.set_level(logging.DEBUG)
    WebhookEndpoint.objects.create(channel=network.web, url="http://127.0.0.1:9/hooks", customer_data=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=network.web)}")
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    body = {
        "external_id": "WEB-LOG",
        "customer": PERSON,
        "lines": [{"sku": sku.code, "quantity": 2, "unit_price": "150.00"}],
        "currency": "GBP",
        "fulfilment": {"method": "delivery", "address": {**HOME, "lat": 51.508, "lon": -0.128}},
        "payment": {"status": "authorised", "tenders": [{"type": "card", "amount": "300.00", "reference": "PAY-9"}]},
    }
    order = api.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1").json()
    fid = order["fulfilments"][0]["id"]
    for action, data in [
        ("accept", {}),
        ("pick", {"lines": [{"sku": sku.code, "quantity": 2}]}),
        ("pack", {}),
        ("ship", {"carrier": "DPD", "tracking": "DPD-9"}),
    ]:
        assert api.post(f"/api/v1/fulfilments/{fid}/{action}", data, format="json").status_code == 200, action
    ret = api.post(
        "/api/v1/returns", {"order": order["id"], "lines": [{"sku": sku.code, "quantity": 2}]}, format="json"
    )
    received = api.post(
        f"/api/v1/returns/{ret.json()['id']}/receive",
        {"location": "ST-SOHO", "lines": [{"sku": sku.code, "quantity": 2}]},
        format="json",
    )
    assert received.status_code == 200
    boss = staff_create(username="boss", password="boss-pass-1234", role=StaffProfile.Role.SUPERVISOR).user
    return_refund(ret=Return.objects.get(pk=ret.json()["id"]), actor=boss)  # above the agents' limit
    webhooks_dispatch()
    assert caplog.records, "the life above logs something"
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {json.dumps(r.__dict__, default=str)}" for r in caplog.records
    )
    for value in [PERSON["email"], "+447700900123", "7700 900123", PERSON["name"], HOME["line1"], HOME["line2"]]:
        assert value not in logged, value
