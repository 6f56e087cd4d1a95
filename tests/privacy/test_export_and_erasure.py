"""A person's data is exported in full and erased everywhere it is stored; the books stay as they were."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory.models import StockLevel, StockMovement
from omnichannel.analytics.models import DailyChannelRollup, DailyReturnRollup, RollupRun
from omnichannel.analytics.services import analytics_rollup
from omnichannel.privacy.erasure import ErasureRefused, customer_erase
from omnichannel.privacy.export import customer_export
from oms.identity import customer_resolve
from oms.models import Activity, Customer, CustomerAccess, IdempotencyKey, Note, Order, OutboxEvent, PossibleDuplicate
from returns.models import Refund
from tests.backoffice.support import shipped_order
from tests.orders_support import place

from .support import PERSON, SECRETS, delivered, person_with_history

pytestmark = pytest.mark.django_db


def _export(identifier: str, capsys) -> dict:
    call_command("customer_export", identifier)
    return json.loads(capsys.readouterr().out)


def test_the_export_holds_identity_merged_records_and_every_order_of_every_channel(network, capsys):
    customer, first, second = person_with_history(network)
    document = _export("07700 900123", capsys)  # the phone in another format
    assert document["customer"]["email"] == PERSON["email"]
    assert [m["member_number"] for m in document["merged_identities"]] == ["ZL-778899"]
    orders = {o["number"]: o for o in document["orders"]}
    assert set(orders) == {first.number, second.number}
    assert {o["channel"] for o in document["orders"]} == {"web", "app"}
    web = orders[first.number]
    assert web["address"]["line1"] == "14 Wisteria Lane"
    assert web["lines"][0]["quantity"] == 2 and web["fulfilments"][0]["status"] == "delivered"
    assert web["returns"][0]["refund"]["amount"] == "10.00"
    assert "Wisteria Lane" in web["notes"][0]["text"]
    assert {a["action"] for a in web["activity"]} >= {"accept", "ship", "deliver"}
    assert any(e["type"] == "order.created" for e in web["events"])
    # The merged record's member number finds the same person.
    assert _export("ZL-778899", capsys)["customer"]["id"] == customer.pk
    assert CustomerAccess.objects.filter(customer=customer, action="exported").count() == 2


def test_export_of_no_one_exits_1(network):
    with pytest.raises(CommandError, match="No customer"):
        call_command("customer_export", "nobody@example.com")


def test_erasure_anonymises_every_copy_and_keeps_orders_amounts_and_stock(network, capsys):
    customer, first, second = person_with_history(network)
    IdempotencyKey.objects.create(
        channel=network.web, key="k1", request_hash="x", status_code=201, body={"echo": "14 Wisteria Lane"}
    )
    Activity.objects.create(order=first, subject="order", action="note", reason="asked by zoe.lee@example.com")
    # An earlier address change: the history names the postcode it moved to, no longer the current one.
    Activity.objects.create(order=first, subject="order", action="change_address", reason="LS1 6HD")
    totals = {o.pk: o.total for o in Order.objects.all()}
    stock = list(StockLevel.objects.values_list("pk", "on_hand", "reserved").order_by("pk"))
    movements = StockMovement.objects.count()
    refunds = list(Refund.objects.values_list("amount", flat=True))

    call_command("customer_erase", PERSON["email"], "--reason", "Request 42 from zoe.lee@example.com")

    assert "erased" in capsys.readouterr().out
    records = Customer.objects.filter(pk__in=[customer.pk, second.customer_id])
    assert all(c.email is None and c.phone is None and c.member_number is None and c.name == "" for c in records)
    assert all(c.erased_at for c in records)
    stored = json.dumps(
        [
            list(Order.objects.values("address", "routing")),
            list(Note.objects.values_list("text", flat=True)),
            list(Activity.objects.values_list("reason", flat=True)),
            list(OutboxEvent.objects.values_list("data", flat=True)),
            list(IdempotencyKey.objects.values_list("body", flat=True)),
            list(CustomerAccess.objects.values_list("reason", flat=True)),
        ],
        ensure_ascii=False,
    )
    for secret in [*SECRETS, "LS1 6HD"]:
        assert secret.lower() not in stored.lower(), secret
    # The books: same orders, numbers, totals, refunds and stock.
    assert {o.pk: o.total for o in Order.objects.all()} == totals
    assert list(StockLevel.objects.values_list("pk", "on_hand", "reserved").order_by("pk")) == stock
    assert StockMovement.objects.count() == movements
    assert list(Refund.objects.values_list("amount", flat=True)) == refunds
    audit = CustomerAccess.objects.get(action="erased")
    assert audit.customer_id == customer.pk and audit.reason.startswith("Request 42 from [erased]")
    # Nothing is found any more by the old identifiers.
    with pytest.raises(CommandError, match="No customer"):
        call_command("customer_export", PERSON["email"])


def test_erasure_is_refused_while_an_order_is_open_and_names_it(network):
    customer, first, _ = person_with_history(network)
    network.stock(network.soho, network.skus[1], 5)
    open_order = place(network, [(network.skus[1], 1)], external_id="WEB-OPEN", customer=PERSON)
    assert open_order.customer_id == customer.pk
    with pytest.raises(CommandError, match=open_order.number):
        call_command("customer_erase", PERSON["email"], "--reason", "asked")
    with pytest.raises(ErasureRefused) as refused:
        customer_erase(customer=customer, reason="asked")
    assert refused.value.orders == [open_order.number]
    customer.refresh_from_db()
    assert customer.email == PERSON["email"] and not CustomerAccess.objects.filter(action="erased").exists()


def test_a_shipped_order_not_yet_delivered_is_still_open(network):
    order = shipped_order(network, units=1, external_id="WEB-S", customer=PERSON)
    with pytest.raises(ErasureRefused, match=order.number):
        customer_erase(customer=order.customer, reason="asked")


def test_possible_duplicate_flags_of_an_erased_person_go(network):
    customer, *_ = person_with_history(network)
    other = customer_resolve(email=PERSON["email"], phone="+44 7700 900999", name="Bob Smith")
    assert PossibleDuplicate.objects.filter(other=other).exists()
    customer_erase(customer=customer, reason="asked")
    assert not PossibleDuplicate.objects.exists()


def test_the_export_of_an_erased_person_keeps_the_orders_without_the_data(network):
    customer, first, _ = person_with_history(network)
    customer_erase(customer=customer, reason="asked")
    document = customer_export(customer=Customer.objects.get(pk=customer.pk))
    assert document["customer"]["email"] is None
    assert {o["number"] for o in document["orders"]} >= {first.number}
    assert all(o["anonymised_at"] for o in document["orders"])


def test_the_export_reads_a_fixed_number_of_queries_whatever_the_history(network, django_assert_num_queries):
    customer, first, _ = person_with_history(network)
    with django_assert_num_queries(14) as few:
        customer_export(customer=customer)
    for n in range(3):
        delivered(network, external_id=f"WEB-MORE-{n}", customer=PERSON)
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(customer_export(customer=customer)["orders"]) == 5


def test_analytics_recomputed_after_an_erasure_give_the_same_figures(network):
    customer, *_ = person_with_history(network)

    def figures():
        RollupRun.objects.all().delete()  # the next run rebuilds every day
        analytics_rollup()
        return [
            sorted(map(str, model.objects.values_list(*[f.name for f in model._meta.concrete_fields][1:])))
            for model in (DailyChannelRollup, DailyReturnRollup)
        ]

    before = figures()
    assert any(before[0]) and any(before[1])
    customer_erase(customer=customer, reason="asked")
    assert figures() == before
