"""Every number field of every staff form, fed what a scanner, a slip of the hand or a hostile
client sends: never a server error, and nothing changes.

One case per form field; each sends every hostile value in turn to the same page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept, fulfilment_pick
from inventory.inbound import inbound_create
from inventory.models import Channel
from oms.models import StaffProfile
from oms.services import staff_create
from returns.requests import ReturnLineInput, return_request
from tests.backoffice.support import received_return, shipped_order
from tests.factories import ChannelFactory
from tests.orders_support import place

pytestmark = pytest.mark.django_db

HOSTILE = ["text", "1e308", "nan", "inf", "-inf", "-1", "99999999999999999999", "9" * 5000, "x" * 5000, "²", ""]
TODAY = timezone.localdate().isoformat()


def fingerprint() -> dict[str, list]:
    """Every row of the four apps' tables, to prove a refused input changed nothing."""
    rows = {}
    for label in ("inventory", "oms", "fulfilment", "returns"):
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values_list())
    return rows


def signed_in(role: str, stores=()) -> Client:
    user = staff_create(
        username=f"{role}-user", password="a-long-test-pass-42", role=role, store_codes=[s.code for s in stores]
    ).user
    client = Client()
    client.force_login(user)
    return client


@dataclass
class Page:
    """A staff form: who sends it, where, and the valid values around the field under test."""

    client: Client
    method: str
    url: str
    data: dict


def _store_stock(network, path: str, data: dict, *, units: int = 12) -> Page:
    if units:
        network.stock(network.soho, network.skus[0], units)
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    return Page(client, "post", f"/store/{network.soho.code}/{path}", {"sku": network.skus[0].code, **data})


def count_form(network):
    return _store_stock(network, "stock/count/", {"counted": "12", "reason": "count"})


def count_confirmation(network):
    return _store_stock(network, "stock/count/", {"counted": "5000", "reason": "count", "confirm": "5000"})


def adjust_form(network):
    # Nothing on hand, so taking one out (-1) is refused like the rest.
    return _store_stock(network, "stock/adjust/", {"delta": "1", "reason": "found"}, units=0)


def aisle_form(network):
    ChannelFactory(code="store", kind=Channel.Kind.STORE)
    return _store_stock(network, "order/", {"action": "add", "quantity": "1", "price": "5"})


def delivery_receive_form(network):
    lines = [(network.skus[0].code, 5)]
    supply = inbound_create(reference="PO-1", location=network.soho.code, expected_on=timezone.localdate(), lines=lines)
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    token = client.get(reverse("store:deliveries", args=[network.soho.code])).context["supplies"][0].token
    url = reverse("store:delivery_receive", args=[network.soho.code, supply.pk])
    return Page(client, "post", url, {"code": network.skus[0].code, "quantity": "1", "token": token})


def _soho_work(network, *, picked: bool):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    fulfilment = place(network, [(sku, 1)]).fulfilments.get()
    assert fulfilment.location == network.soho
    fulfilment_accept(fulfilment=fulfilment)
    if picked:
        fulfilment_pick(fulfilment=fulfilment, picked={sku.code: 1})
    return fulfilment, signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])


def pack_form(network):
    fulfilment, client = _soho_work(network, picked=True)
    url = reverse("store:fulfilment_pack", args=[network.soho.code, fulfilment.pk])
    return Page(client, "post", url, {"parcels": "1", "weight_kg": "1.5"})


def pick_scan_form(network):
    fulfilment, client = _soho_work(network, picked=False)
    return Page(client, "post", reverse("store:pick_scan", args=[network.soho.code, fulfilment.pk]), {"code": "x"})


def ship_form(network):
    fulfilment, client = _soho_work(network, picked=True)
    url = reverse("store:fulfilment_ship", args=[network.soho.code, fulfilment.pk])
    return Page(client, "post", url, {"carrier": "DPD", "tracking": "T-1"})


def collect_form(network):
    network.stock(network.soho, network.skus[0], 5)
    order = place(network, [(network.skus[0], 1)], method="pickup", store=network.soho)
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    url = reverse("store:fulfilment_collect", args=[network.soho.code, order.fulfilments.get().pk])
    return Page(client, "post", url, {"pickup_code": "123456", "q": order.number})


def stock_lookup(network):
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    return Page(client, "get", reverse("store:stock", args=[network.soho.code]), {"sku": "x"})


def handover_search(network):
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    return Page(client, "get", reverse("store:handover", args=[network.soho.code]), {"q": "x"})


def returns_desk_search(network):
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    return Page(client, "get", reverse("store:returns", args=[network.soho.code]), {"q": "x"})


def backoffice_search(network):
    return Page(signed_in(StaffProfile.Role.AGENT), "get", reverse("backoffice:home"), {"q": "x"})


def desk_order_form(network):
    order = shipped_order(network, units=2)
    line = order.lines.get()
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    url = reverse("store:return_order", args=[network.soho.code, order.pk])
    return Page(client, "post", url, {f"quantity-{line.pk}": "1", f"condition-{line.pk}": "resellable"})


def desk_return_form(network):
    order = shipped_order(network, units=2)
    ret = return_request(order=order, lines=[ReturnLineInput(network.skus[0].code, 2)])
    rl = ret.lines.get()
    client = signed_in(StaffProfile.Role.STORE_STAFF, [network.soho])
    url = reverse("store:return", args=[network.soho.code, ret.reference])
    return Page(client, "post", url, {f"quantity-{rl.pk}": "1", f"condition-{rl.pk}": "resellable"})


def _order_action(order, action: str, data: dict) -> Page:
    client = signed_in(StaffProfile.Role.SUPERVISOR)
    return Page(client, "post", reverse("backoffice:order_action", args=[order.pk, action]), data)


def cancel_lines_form(network):
    network.stock(network.soho, network.skus[0], 5)
    order = place(network, [(network.skus[0], 3)])
    line = order.lines.get()
    return _order_action(order, "cancel-lines", {"reason": "asked", f"line_{line.pk}": "1"})


def return_form(network):
    order = shipped_order(network, units=2)
    line = order.lines.get()
    return _order_action(order, "return", {f"line_{line.pk}": "1"})


def exchange_form(network):
    ret = received_return(network, units=1)
    network.stock(network.soho, network.skus[1], 5)
    return _order_action(ret.order, "exchange", {"ret": ret.reference, "sku": network.skus[1].code, "quantity": "1"})


def reroute_form(network):
    network.stock(network.soho, network.skus[0], 5)
    order = place(network, [(network.skus[0], 1)])
    location = order.fulfilments.get().location_id
    return _order_action(order, "reroute", {"location": str(location), "reason": "closed"})


def lab_form(network):
    client = signed_in(StaffProfile.Role.AGENT)
    data = {"run": "1", "start": TODAY, "end": TODAY, "channel": "web", "max_splits": "3", "fallback": "reject"}
    data |= {"weight_distance": "1", "weight_priority": "10", "weight_cost": "1", "weight_load": "20"}
    data |= {"transfer_lead_hours_warehouse": "48", "transfer_lead_hours_store": "24", "allow_ship_from_store": "on"}
    # A split delivery and a collection served by a transfer, so every weight and lead time counts.
    a, b = network.skus[0], network.skus[1]
    network.stock(network.soho, a, 5)
    network.stock(network.camden, b, 5)
    place(network, [(a, 1), (b, 1)], external_id="WEB-LAB-1")
    place(network, [(a, 1)], external_id="WEB-LAB-2", method="pickup", store=network.camden)
    return Page(client, "get", reverse("analytics:lab"), data)


def dashboard_form(network):
    client = signed_in(StaffProfile.Role.AGENT)
    return Page(client, "get", reverse("analytics:dashboard"), {"start": TODAY, "end": TODAY})


def export_form(network):
    client = signed_in(StaffProfile.Role.AGENT)
    return Page(client, "get", reverse("analytics:export", args=["channels"]), {"start": TODAY, "end": TODAY})


CASES: list[tuple[Callable, str]] = [
    (count_form, "counted"),
    (count_confirmation, "confirm"),
    (adjust_form, "delta"),
    (aisle_form, "quantity"),
    (aisle_form, "price"),
    (delivery_receive_form, "quantity"),
    (delivery_receive_form, "code"),
    (delivery_receive_form, "token"),
    (pack_form, "parcels"),
    (pack_form, "weight_kg"),
    (pick_scan_form, "code"),
    (ship_form, "tracking"),
    (collect_form, "pickup_code"),
    (collect_form, "q"),
    (stock_lookup, "sku"),
    (handover_search, "q"),
    (returns_desk_search, "q"),
    (backoffice_search, "q"),
    (desk_order_form, "quantity"),
    (desk_return_form, "quantity"),
    (cancel_lines_form, "line"),
    (return_form, "line"),
    (exchange_form, "quantity"),
    (reroute_form, "location"),
    *[
        (lab_form, name)
        for name in (
            "max_splits",
            "weight_distance",
            "weight_priority",
            "weight_cost",
            "weight_load",
            "transfer_lead_hours_warehouse",
            "transfer_lead_hours_store",
        )
    ],
    (dashboard_form, "start"),
    (export_form, "end"),
]


@pytest.mark.parametrize(("build", "field"), CASES, ids=[f"{build.__name__}.{field}" for build, field in CASES])
def test_hostile_values_in_a_staff_form_are_refused_without_a_server_error(network, build, field):
    page = build(network)
    page.data.setdefault(field, "")
    # Per-line fields are named after their line: quantity-<id>, line_<id>.
    name = next(k for k in page.data if k == field or k.startswith((f"{field}-", f"{field}_")))
    before = fingerprint()
    for value in HOSTILE:
        data = {**page.data, name: value}
        response = getattr(page.client, page.method)(page.url, data)
        assert response.status_code < 500, (name, value[:40])
        if page.method == "post" and value != "":
            assert response.status_code in (200, 302, 400), (name, value[:40], response.status_code)
        assert fingerprint() == before, (name, value[:40])
        if field in ("quantity", "price") and build is aisle_form:
            assert not page.client.session.get(f"aisle-basket-{network.soho.pk}"), (name, value[:40])


# --- the routing lab's ranges are the policy's own -------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("weight_distance", "1e308", "Weight: distance (per km): Ensure this value is less than or equal to 10000"),
        ("weight_load", "1e308", "Weight: capacity load: Ensure this value is less than or equal to 10000"),
        ("transfer_lead_hours_store", "1000000000", "Transfer from a store (hours): Ensure this value is less than"),
        ("transfer_lead_hours_warehouse", "99999999999999999999", "Transfer from warehouse (hours): Ensure"),
        ("max_splits", "11", "Most fulfilments per order: Ensure this value is less than or equal to 10"),
    ],
)
def test_the_routing_lab_names_a_value_out_of_range(network, field, value, says):
    page = lab_form(network)
    response = page.client.get(page.url, {**page.data, field: value})
    assert response.status_code == 400
    assert says in response.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"weight_priority": 1e308},
        {"weight_cost": float("nan")},
        {"transfer_lead_hours_store": 10**9},
        {"max_splits": 11},
        {"max_splits": "3"},
    ],
)
def test_a_stored_policy_version_out_of_range_is_refused(network, data):
    from django.core.exceptions import ValidationError

    from fulfilment.models import RoutingPolicyVersion

    with pytest.raises(ValidationError) as refused:
        RoutingPolicyVersion(channel=network.web, version=9, data=data).full_clean()
    assert "data" in refused.value.message_dict
