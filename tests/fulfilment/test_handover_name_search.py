"""At the pickup counter the parcel is found by the customer's name as a person types it:
without the accents, in any case, by the start of any word — the same rule as the back office."""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from fulfilment.pickups import fulfilment_ready
from tests.conftest import store_staff_client
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def _on_the_shelf(network, name):
    sku = network.skus[0]
    network.stock(network.soho, sku, 10)
    customer = {"email": "zoe@example.com", "name": name}
    f = place(network, [(sku, 1)], method="pickup", store=network.soho, customer=customer).fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: 1})
    return fulfilment_ready(fulfilment=f)


@pytest.mark.parametrize("typed", ["zoe", "ZOË MÜLLER", "Zoe Mull", "muller"])
def test_handover_finds_the_parcel_by_a_name_typed_without_accents(network, typed):
    f = _on_the_shelf(network, "Zoë Müller")
    staff = store_staff_client(network.soho)
    page = staff.get(reverse("store:handover", args=["ST-SOHO"]), {"q": typed}).content.decode()
    assert f"Order {f.order.number}" in page, typed


def test_handover_name_search_needs_every_word(network):
    _on_the_shelf(network, "Zoë Müller")
    staff = store_staff_client(network.soho)
    page = staff.get(reverse("store:handover", args=["ST-SOHO"]), {"q": "zoe smith"}).content.decode()
    assert "No parcel on this store" in page
