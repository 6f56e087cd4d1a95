"""At the pickup counter: a code that cannot be a pickup code is refused without using up one
of the tries, and the parcel's card lists what is in it so staff can check before handing over."""

import pytest
from django.urls import reverse

from core.errors import InvalidInput
from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from tests.conftest import store_staff_client
from tests.orders_support import place

pytestmark = pytest.mark.django_db
S = Fulfilment.Status
CUSTOMER = {"email": "jo@example.com", "name": "Jo Bloggs"}


def _on_the_shelf(network, lines):
    for sku, _ in lines:
        network.stock(network.soho, sku, 10)
    f = place(network, lines, method="pickup", store=network.soho, customer=CUSTOMER).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: quantity for sku, quantity in lines})
    return fulfilment_ready(fulfilment=f)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_a_malformed_code_is_refused_and_uses_up_no_try(network, settings):
    f = _on_the_shelf(network, [(network.skus[0], 1)])
    staff = store_staff_client(network.soho)
    collect = reverse("store:fulfilment_collect", args=["ST-SOHO", f.pk])
    for typed in ["12a456", "12345", "ABCDEF", "1234 5"] * 2:  # more than the five misses that lock a parcel
        response = staff.post(collect, {"pickup_code": typed}, follow=True)
        assert "6 digits" in _messages(response)[-1], typed
        assert "tries left" not in _messages(response)[-1]
    for typed in ["12a456", "99999"]:
        with pytest.raises(InvalidInput) as refused:
            fulfilment_collect(fulfilment=f, pickup_code=typed)
        assert list(refused.value.errors) == ["pickup_code"]

    response = staff.post(collect, {"pickup_code": f.pickup_code}, follow=True)
    assert "collected" in _messages(response)[-1]
    f.refresh_from_db()
    assert f.status == S.COLLECTED


def test_the_handover_card_lists_the_items_to_check(network):
    a, b = network.skus[:2]
    f = _on_the_shelf(network, [(a, 2), (b, 1)])
    staff = store_staff_client(network.soho)
    page = staff.get(reverse("store:handover", args=["ST-SOHO"]), {"q": "Bloggs"}).content.decode()
    assert f.order.number in page
    for sku, quantity in [(a, 2), (b, 1)]:
        assert f'<td>{sku.name}</td><td class="num">{quantity}</td>' in page


def test_a_long_search_is_repeated_short_and_a_second_hand_over_says_it_was_done(network):
    """A stray paste at the counter is not a wall of text; a second tablet's hand-over finds the parcel gone."""
    f = _on_the_shelf(network, [(network.skus[0], 1)])
    staff = store_staff_client(network.soho)
    page = staff.get(reverse("store:handover", args=["ST-SOHO"]), {"q": "x" * 3000}).content.decode()
    assert f"No parcel on this store's shelf matches “{'x' * 39}…”." in page
    collect = reverse("store:fulfilment_collect", args=["ST-SOHO", f.pk])
    staff.post(collect, {"pickup_code": f.pickup_code}, follow=True)
    response = staff.post(collect, {"pickup_code": f.pickup_code}, follow=True)
    assert _messages(response) == [
        "That was already done: it is collected now, perhaps from another tablet. Nothing more was changed."
    ]
