"""Supervisors export and erase from the customer page; agents neither see nor reach it; views are audited."""

import json

import pytest
from django.urls import reverse

from omnichannel.privacy.erasure import customer_erase
from oms.models import Customer, CustomerAccess
from tests.backoffice.conftest import Role
from tests.orders_support import place

from .support import PERSON, person_with_history

pytestmark = pytest.mark.django_db


def test_a_supervisor_downloads_the_export_and_the_view_and_export_are_audited(network, client, login):
    customer, first, second = person_with_history(network)
    boss = login(Role.SUPERVISOR)
    page = client.get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert "Export customer data" in page and "Erase personal data" in page
    response = client.get(reverse("backoffice:customer_export", args=[customer.pk]))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    document = json.loads(response.content)
    assert document["customer"]["email"] == PERSON["email"]
    assert {o["number"] for o in document["orders"]} == {first.number, second.number}
    log = list(CustomerAccess.objects.filter(customer=customer).order_by("pk").values_list("actor", "action"))
    assert log == [(boss.pk, "viewed"), (boss.pk, "exported")]


@pytest.mark.parametrize("name", ["customer_export", "customer_erase"])
def test_an_agent_sees_no_button_and_gets_403(network, client, login, name):
    customer, *_ = person_with_history(network)
    login(Role.AGENT)
    page = client.get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert "Export customer data" not in page and "Erase personal data" not in page
    assert client.get(reverse(f"backoffice:{name}", args=[customer.pk])).status_code == 403
    assert client.post(reverse(f"backoffice:{name}", args=[customer.pk]), {"reason": "x"}).status_code == 403
    assert Customer.objects.get(pk=customer.pk).email == PERSON["email"]


def test_the_confirmation_lists_what_goes_and_the_erasure_happens_on_post(network, client, login):
    customer, *_ = person_with_history(network)
    boss = login(Role.SUPERVISOR)
    url = reverse("backoffice:customer_erase", args=[customer.pk])
    page = client.get(url).content.decode()
    assert "2 customer records" in page and "This cannot be undone" in page
    assert Customer.objects.get(pk=customer.pk).erased_at is None  # a GET changes nothing
    assert client.post(url, {"reason": ""}).status_code == 200  # no reason: asked again
    response = client.post(url, {"reason": "Ticket 42"})
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.email is None and customer.erased_at
    audit = CustomerAccess.objects.get(action="erased")
    assert (audit.actor, audit.reason) == (boss, "Ticket 42")


def test_the_confirmation_names_the_open_orders_and_offers_no_button(network, client, login):
    customer, *_ = person_with_history(network)
    network.stock(network.soho, network.skus[1], 5)
    open_order = place(network, [(network.skus[1], 1)], external_id="WEB-OPEN", customer=PERSON)
    login(Role.SUPERVISOR)
    url = reverse("backoffice:customer_erase", args=[customer.pk])
    page = client.get(url).content.decode()
    assert open_order.number in page and 'type="submit" class="danger"' not in page
    page = client.post(url, {"reason": "Ticket 42"}, follow=True).content.decode()
    assert open_order.number in page
    assert Customer.objects.get(pk=customer.pk).email == PERSON["email"]


def test_an_erased_customers_order_page_says_the_address_was_erased(network, client, login):
    customer, first, _ = person_with_history(network)
    customer_erase(customer=customer, reason="Ticket 42")
    login(Role.AGENT)
    page = client.get(reverse("backoffice:order", args=[first.pk])).content.decode()
    assert "Delivery address erased (GB)" in page and "Wisteria" not in page and PERSON["email"] not in page
    page = client.get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert PERSON["email"] not in page and first.number in page


@pytest.mark.parametrize("reason", ["", "   ", "x" * 1000, "ticket\x0042"])
def test_a_bad_reason_is_asked_again_and_erases_nothing(network, client, login, reason):
    customer, *_ = person_with_history(network)
    login(Role.SUPERVISOR)
    response = client.post(reverse("backoffice:customer_erase", args=[customer.pk]), {"reason": reason})
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).email == PERSON["email"]


def test_an_unknown_or_merged_customer_is_404(network, client, login):
    customer, first, second = person_with_history(network)
    login(Role.SUPERVISOR)
    for pk in (second.customer_id, 10**12):
        assert client.get(reverse("backoffice:customer_export", args=[pk])).status_code == 404
        assert client.post(reverse("backoffice:customer_erase", args=[pk]), {"reason": "x"}).status_code == 404
