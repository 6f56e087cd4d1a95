"""GET /api/v1/skus: a newcomer lists the catalogue page by page, in a stable order, and filters it."""

from rest_framework.test import APIClient

from inventory.models import Barcode
from tests.api.conftest import assert_problem
from tests.factories import SkuFactory, gtin13

SKUS = "/api/v1/skus"


def codes(body: dict) -> list[str]:
    return [row["sku"] for row in body["results"]]


def test_the_catalogue_is_listed_in_code_order_a_bounded_page_at_a_time(api, network):
    SkuFactory.create_batch(7)
    every = sorted(s.code for s in network.skus)

    first = api.get(SKUS, {"page_size": 4})

    assert first.status_code == 200, first.content
    body = first.json()
    assert len(body["results"]) == 4 and codes(body) == sorted(codes(body))
    seen = codes(body)
    while body["next"]:
        body = api.get(body["next"]).json()
        seen += codes(body)
    assert len(seen) == 10 and seen == sorted(seen) and set(every) <= set(seen)
    assert {"sku", "name", "category", "barcodes", "active"} <= first.json()["results"][0].keys()
    assert api.get(SKUS, {"page_size": 200}).json()["next"] is None  # at most 200 a page, here all 10
    assert api.get(SKUS, {"page_size": 10_000}).status_code == 400  # like every list: 1 to 200, or a 400


def test_filters_find_skus_by_text_or_by_exact_code_barcode_or_alias(api, network):
    shirt = SkuFactory(code="TSHIRT-RED-M", name="Red T-shirt, M")
    SkuFactory(code="MUG-1", name="Mug")
    Barcode.objects.create(code=gtin13(7), sku=shirt)
    network.web.aliases.create(code="web-red-m", sku=shirt)

    assert codes(api.get(SKUS, {"q": "t-shirt"}).json()) == ["TSHIRT-RED-M"]
    assert codes(api.get(SKUS, {"q": "mug"}).json()) == ["MUG-1"]
    for code in ("TSHIRT-RED-M", gtin13(7), "web-red-m"):
        assert codes(api.get(SKUS, {"code": code}).json()) == ["TSHIRT-RED-M"], code
    assert codes(api.get(SKUS, {"code": "NOPE"}).json()) == []


def test_listing_needs_a_token_and_bad_parameters_are_400(api, network):
    assert_problem(APIClient().get(SKUS), 401)
    assert_problem(api.get(SKUS, {"q": "x" * 200}), 400, "q")


def test_a_page_costs_a_fixed_number_of_queries(api, network, django_assert_max_num_queries):
    for n in range(30):
        Barcode.objects.create(code=gtin13(100 + n), sku=SkuFactory())
    with django_assert_max_num_queries(4):  # token, SKUs, their barcodes, last-used stamp
        assert api.get(SKUS, {"page_size": 30}).status_code == 200
