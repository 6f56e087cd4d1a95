"""The score terms are declared once: scoring, the explanation, the lab's form and the docs follow the registry."""

import re
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from fulfilment.models import ShippingCost
from fulfilment.routing.candidates import destination_zones, routing_candidates
from fulfilment.routing.engine import route
from fulfilment.routing.policy import Candidate, RoutingPolicy, RoutingRequest
from fulfilment.routing.terms import TERMS, terms_formula, terms_table
from omnichannel.analytics.forms import PolicyLabForm
from tests.orders_support import place

DOCS = (Path(__file__).resolve().parents[2] / "docs" / "routing.md").read_text()
NOW = datetime(2025, 3, 14, 10, 0)
CUSTOMER = (51.5074, -0.1278)


def candidate(location_id, kind, lat, lon, **extra):
    return Candidate(
        location_id=location_id,
        code=f"{kind.upper()[:2]}-{location_id}",
        kind=kind,
        lat=lat,
        lon=lon,
        ships=True,
        pickup=kind == "store",
        priority=0,
        capacity_left=None,
        stock={1: 5},
        **extra,
    )


STORE = candidate(1, "store", 51.5136, -0.1365)  # about 1 km from the customer
WAREHOUSE = candidate(2, "warehouse", 51.5300, -0.1500)  # about 3 km
REQUEST = RoutingRequest(lines={1: 1}, method="delivery", destination=CUSTOMER, now=NOW)


def winner(policy: RoutingPolicy, candidates=(STORE, WAREHOUSE)) -> str:
    plan = route(REQUEST, list(candidates), policy)
    return plan.explanation["candidates"][0]["code"]


def test_every_policy_weight_is_a_term_and_every_term_a_policy_weight():
    weights = {f.name for f in fields(RoutingPolicy) if f.name.startswith("weight_")}
    assert weights == {t.weight_field for t in TERMS}
    assert {t.weight_field: getattr(RoutingPolicy(), t.weight_field) for t in TERMS} == {
        t.weight_field: t.default for t in TERMS
    }


def test_the_docs_show_the_registrys_terms_and_no_other():
    assert terms_table() in DOCS, "docs/routing.md: paste fulfilment.routing.terms.terms_table()"
    assert terms_formula() in DOCS, "docs/routing.md: paste fulfilment.routing.terms.terms_formula()"
    documented = set(re.findall(r"^\| `(\w+)` \| `weight_\w+` \|", DOCS, flags=re.MULTILINE))
    assert documented == {t.key for t in TERMS}


def test_the_lab_form_has_one_field_per_term_labelled_as_declared():
    form = PolicyLabForm(policy=RoutingPolicy())
    weights = {name for name in form.fields if name.startswith("weight_")}
    assert weights == {t.weight_field for t in TERMS}
    assert {form.fields[t.weight_field].label for t in TERMS} == {t.label for t in TERMS}
    assert [name for name in form.POLICY_FIELDS if name.startswith("weight_")] == [t.weight_field for t in TERMS]


def test_a_term_weighted_zero_leaves_the_explanation_as_it_was():
    plan = route(REQUEST, [STORE, WAREHOUSE], RoutingPolicy())
    weights = {"distance_per_km": 1.0, "priority": 10.0, "cost": 1.0, "load": 20.0}
    assert plan.explanation["policy"]["weights"] == weights
    assert set(plan.explanation["candidates"][0]["score"]) == {"distance", "priority", "cost", "load", "total"}


def test_a_negative_store_weight_prefers_stores_and_a_positive_one_warehouses():
    near_warehouse = replace(WAREHOUSE, lat=51.5080, lon=-0.1290)  # next door; the store is 1 km away
    assert winner(RoutingPolicy(), [STORE, near_warehouse]) == "WA-2"
    assert winner(RoutingPolicy(weight_store=-5), [STORE, near_warehouse]) == "ST-1"
    assert winner(RoutingPolicy(weight_store=5)) == "WA-2"

    plan = route(REQUEST, [STORE, WAREHOUSE], RoutingPolicy(weight_store=5))
    assert plan.explanation["policy"]["weights"]["store"] == 5
    store_row = next(row for row in plan.explanation["candidates"] if row["code"] == "ST-1")
    assert store_row["score"]["store"] == 5.0
    assert store_row["outcome"].startswith("less preferred location kind than WA-2")


def test_cost_is_weighed_by_the_policys_cost_weight():
    cheap_warehouse = replace(WAREHOUSE, cost=3.95)
    dear_store = replace(STORE, cost=7.5)
    assert winner(RoutingPolicy(weight_cost=0), [dear_store, cheap_warehouse]) == "ST-1"
    assert winner(RoutingPolicy(weight_cost=1), [dear_store, cheap_warehouse]) == "WA-2"
    plan = route(REQUEST, [dear_store, cheap_warehouse], RoutingPolicy(weight_cost=1))
    store_row = next(row for row in plan.explanation["candidates"] if row["code"] == "ST-1")
    assert store_row["outcome"].startswith("higher cost than WA-2")


@pytest.mark.parametrize(
    ("address", "zones"),
    [
        ({"postcode": "sw1a 1aa", "country": "gb"}, ("GB-SW", "GB")),
        ({"postcode": "D02 X285", "country": "IE"}, ("IE-D", "IE")),
        ({"postcode": "10115", "country": "DE"}, ("DE",)),
        ({"postcode": "SW1A 1AA"}, ()),
    ],
)
def test_an_address_falls_in_its_postcode_area_then_its_country(address, zones):
    assert destination_zones(address) == zones


@pytest.mark.django_db
def test_the_candidate_read_loads_the_most_specific_shipping_cost(network, django_assert_num_queries):
    a = network.skus[0]
    for location in (network.soho, network.camden, network.warehouse, network.leeds):
        network.stock(location, a, 5)
    ShippingCost.objects.bulk_create(
        [
            ShippingCost(location=network.soho, zone="", cost=Decimal("7.50")),
            ShippingCost(location=network.soho, zone="GB", cost=Decimal("6.50")),
            ShippingCost(location=network.soho, zone="GB-WC", cost=Decimal("5.25")),
            ShippingCost(location=network.warehouse, zone="", cost=Decimal("3.95")),
            ShippingCost(location=network.warehouse, zone="IE", cost=Decimal("9.50")),
            ShippingCost(location=network.camden, zone="GB-SW", cost=Decimal("4.00")),
        ]
    )
    routing_candidates(channel=network.web, sku_ids=[a.pk])  # the channel's locations are read once
    with django_assert_num_queries(2):  # the stock, then the locations with load and cost
        found = routing_candidates(channel=network.web, sku_ids=[a.pk], near=CUSTOMER, zones=("GB-WC", "GB"))
    cost = {c.code: c.cost for c in found}
    assert cost == {"ST-SOHO": 5.25, "WH-MID": 3.95, "ST-CAMDEN": 0.0, "ST-LEEDS": 0.0}
    cost = {c.code: c.cost for c in routing_candidates(channel=network.web, sku_ids=[a.pk], zones=("IE",))}
    assert (cost["ST-SOHO"], cost["WH-MID"]) == (7.5, 9.5)


@pytest.mark.django_db
def test_placement_weighs_the_shipping_cost_to_the_customers_zone(network):
    from fulfilment.models import RoutingPolicyVersion

    a = network.skus[0]
    for location in (network.soho, network.camden):
        network.stock(location, a, 5)
    ShippingCost.objects.create(location=network.soho, zone="GB-WC", cost=Decimal("9.00"))  # Trafalgar Square's area
    ShippingCost.objects.create(location=network.camden, zone="", cost=Decimal("2.00"))
    RoutingPolicyVersion.objects.create(channel=network.web, version=2, data={"weight_cost": 2.0})
    order = place(network, [(a, 1)])
    assert order.fulfilments.get().location == network.camden
    soho = next(row for row in order.routing["candidates"] if row["code"] == "ST-SOHO")
    assert soho["score"]["cost"] == 18.0
    assert soho["outcome"].startswith("higher cost than ST-CAMDEN")


@pytest.mark.django_db
def test_each_placement_reads_the_policy_and_nothing_is_kept_on_the_channel(network):
    from fulfilment.models import RoutingPolicyVersion

    a = network.skus[0]
    network.stock(network.soho, a, 5)
    first = place(network, [(a, 1)], external_id="WEB-1")
    RoutingPolicyVersion.objects.create(channel=network.web, version=3, data={"weight_store": -10.0})
    second = place(network, [(a, 1)], external_id="WEB-2")  # the same Channel instance
    assert (first.routing_policy_version, second.routing_policy_version) == (0, 3)
    assert second.routing["policy"]["weights"]["store"] == -10.0
    assert not any(name.startswith("_routing") for name in vars(network.web))
