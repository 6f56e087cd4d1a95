"""One person across channels: an order joins a customer only when nothing it says contradicts them.

A shared or mistyped e-mail must not hand one person's order history to another; when an
identifier matches but the rest does not, the order gets a customer of its own and the
pair is flagged for an agent to merge if they are the same person after all.
"""

import pytest

from inventory.models import Channel
from oms.intake import OrderInput, OrderLineInput
from oms.models import Customer, PossibleDuplicate
from oms.services import order_place
from tests.factories import ChannelFactory
from tests.fulfilment.test_order_concurrency import outcome, place_concurrently
from tests.orders_support import CITY, place

ANN = {"email": "ann@example.com", "phone": "+44 7700 900001", "name": "Ann Lee"}


@pytest.fixture
def ann(network):
    network.stock(network.warehouse, network.skus[0], 100)
    return place(network, [(network.skus[0], 1)], external_id="WEB-ANN", customer=ANN).customer


def order_from_app(network, customer: dict, external_id="APP-1"):
    """An order from the app channel, delivered from the warehouse's stock."""
    app = Channel.objects.filter(code="app").first() or ChannelFactory(code="app")
    data = OrderInput(
        channel=app,
        external_id=external_id,
        lines=[OrderLineInput(network.skus[0].code, 1, "10.00")],
        address={**CITY, "lat": 51.508, "lon": -0.128},
        customer=customer,
    )
    return order_place(data=data)[0]


def test_another_persons_order_with_the_same_email_gets_a_new_customer_flagged_as_possible_duplicate(ann, network):
    bob = {"email": "ann@example.com", "phone": "+44 7700 900999", "name": "Bob Smith"}

    order = order_from_app(network, bob)

    assert order.customer_id != ann.pk
    assert order.customer.phone == "+447700900999" and order.customer.name == "Bob Smith"
    ann.refresh_from_db()
    assert (ann.email, ann.phone, ann.name) == ("ann@example.com", "+447700900001", "Ann Lee")
    assert list(ann.orders.values_list("external_id", flat=True)) == ["WEB-ANN"]
    flag = PossibleDuplicate.objects.get()
    assert {flag.customer_id, flag.other_id} == {order.customer_id, ann.pk}
    assert "e-mail" in flag.reason and "phone" in flag.reason


def test_a_clearly_different_name_alone_is_a_contradiction(ann, network):
    order = order_from_app(network, {"email": "ANN@example.com", "name": "Bob Smith"})
    assert order.customer_id != ann.pk and order.customer.email is None  # the e-mail stays Ann's
    flag = PossibleDuplicate.objects.get()
    assert {flag.customer_id, flag.other_id} == {order.customer_id, ann.pk} and "name" in flag.reason


@pytest.mark.parametrize(
    "given",
    [
        {"email": "ann@example.com"},
        {"email": "Ann@Example.com", "phone": "07700 900001", "name": "A. Lee"},
        {"phone": "+447700900001", "name": "ann lee"},
        {"phone": "07700900001", "email": "ann.lee@work.example", "name": "Ann"},  # people have several e-mails
        {"email": "ann@example.com", "name": "Mrs Ann Lee-Jones"},
    ],
)
def test_a_matching_identifier_with_nothing_contradicting_it_attaches_the_order(ann, network, given):
    order = order_from_app(network, given)
    assert order.customer_id == ann.pk
    assert not PossibleDuplicate.objects.exists()
    assert Customer.objects.count() == 1


def test_a_phone_given_for_the_first_time_is_added_to_the_customer(network):
    network.stock(network.warehouse, network.skus[0], 10)
    first = place(network, [(network.skus[0], 1)], external_id="W1", customer={"email": "zoe@example.com"})
    second = order_from_app(network, {"email": "zoe@example.com", "phone": "+44 7700 900555"})
    assert second.customer_id == first.customer_id
    assert Customer.objects.get().phone == "+447700900555"


def test_identifiers_of_two_compatible_records_attach_to_the_older_and_flag_the_pair(network):
    network.stock(network.warehouse, network.skus[0], 10)
    by_mail = place(network, [(network.skus[0], 1)], external_id="W1", customer={"email": "kim@example.com"})
    by_phone = place(network, [(network.skus[0], 1)], external_id="W2", customer={"phone": "+44 7700 900777"})

    order = order_from_app(network, {"email": "kim@example.com", "phone": "+44 7700 900777", "name": "Kim"})

    assert order.customer_id == by_mail.customer_id
    flag = PossibleDuplicate.objects.get()
    assert {flag.customer_id, flag.other_id} == {by_mail.customer_id, by_phone.customer_id}


def test_another_person_giving_only_the_shared_email_finds_their_own_record_again(ann, network):
    first = order_from_app(network, {"email": "ann@example.com", "name": "Bob Smith"}, external_id="APP-1")
    again = order_from_app(network, {"email": "ann@example.com", "name": "Bob Smith"}, external_id="APP-2")
    assert first.customer_id == again.customer_id != ann.pk
    assert Customer.objects.count() == 2 and PossibleDuplicate.objects.count() == 1


def test_the_other_persons_later_orders_find_their_own_record_and_flag_once(ann, network):
    bob = {"email": "ann@example.com", "phone": "+44 7700 900999", "name": "Bob Smith"}
    orders = [order_from_app(network, bob, external_id=f"APP-{i}") for i in range(3)]
    assert len({o.customer_id for o in orders}) == 1
    assert orders[0].customer_id != ann.pk
    assert PossibleDuplicate.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_sharing_an_email_ordering_at_once_get_one_customer_each(network):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 100)
    people = [
        {"email": "family@example.com", "phone": "+44 7700 900001", "name": "Ann Lee"},
        {"email": "family@example.com", "phone": "+44 7700 900002", "name": "Bob Smith"},
    ]
    calls = [lambda i=i: place(network, [(sku, 1)], external_id=f"WEB-{i}", customer=people[i % 2]) for i in range(20)]

    results = place_concurrently(calls)

    assert {outcome(r) for r in results} == {"placed"}
    by_person = [{r.customer_id for r in results[i::2]} for i in (0, 1)]
    assert all(len(ids) == 1 for ids in by_person), by_person
    assert by_person[0] != by_person[1]
    assert Customer.objects.count() == 2
    assert PossibleDuplicate.objects.count() == 1


def test_the_back_office_customer_page_shows_possible_duplicates(client, ann, network):
    from django.urls import reverse

    from oms.services import staff_create

    bob = order_from_app(network, {"email": "ann@example.com", "phone": "+44 7700 900999", "name": "Bob Smith"})
    client.force_login(staff_create(username="agent", password="a-long-test-pass-42", role="agent").user)

    page = client.get(reverse("backoffice:customer", args=[ann.pk])).content.decode()

    assert "Possible duplicates" in page and f"#{bob.customer_id} Bob Smith" in page


def test_the_duplicate_flag_reads_as_a_sentence(ann, network):
    order_from_app(network, {"email": "ANN@example.com", "name": "Bob Smith"})
    flag = PossibleDuplicate.objects.get()
    assert flag.reason.endswith("; the name differs"), flag.reason
