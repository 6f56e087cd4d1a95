"""A SKU code typed or scanned in lower case is the same SKU wherever staff use it."""

import pytest
from django.urls import reverse

from fulfilment.actions import fulfilment_accept
from inventory.selectors import sku_resolve, skus_resolve
from tests.conftest import store_staff_client
from tests.factories import SkuFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_a_code_in_any_case_resolves_to_its_sku_and_an_exact_match_wins():
    shirt = SkuFactory(code="SHIRT-M")
    assert sku_resolve(code="shirt-m") == shirt
    assert sku_resolve(code=" Shirt-M ") == shirt
    assert skus_resolve(codes=["shirt-m", "SHIRT-M"]) == {"shirt-m": shirt, "SHIRT-M": shirt}
    lower = SkuFactory(code="shirt-l")
    upper = SkuFactory(code="SHIRT-L")
    assert sku_resolve(code="shirt-l") == lower and sku_resolve(code="SHIRT-L") == upper
    assert sku_resolve(code="Shirt-L") is None  # two SKUs differ only by case: ambiguous, so neither


def test_a_lower_case_sku_code_counts_on_the_pick_page_and_finds_stock(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    f = fulfilment_accept(fulfilment=place(network, [(sku, 1)]).fulfilments.get())
    staff = store_staff_client(network.soho)
    response = staff.post(
        reverse("store:pick_scan", args=["ST-SOHO", f.pk]), {"code": sku.code.lower()}, HTTP_HX_REQUEST="true"
    )
    assert "1 of 1" in response.content.decode() and "Unknown barcode" not in response.content.decode()
    page = staff.get(reverse("store:stock", args=["ST-SOHO"]), {"sku": sku.code.lower()})
    assert page.context["lookup"].picture.sku == sku
