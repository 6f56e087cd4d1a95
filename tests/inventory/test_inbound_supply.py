"""Inbound supply: announcing goods for a location, receiving them into stock, closing the document."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.errors import Conflict, InvalidInput
from inventory.inbound import inbound_close, inbound_create, inbound_receive
from inventory.inbound_selectors import inbound_due, inbound_get
from inventory.models import Barcode, InboundLine, InboundSupply, StockLevel, StockMovement
from tests.factories import LocationFactory, SkuFactory, gtin13

pytestmark = pytest.mark.django_db

TOMORROW = timezone.localdate() + timedelta(days=1)


def snapshot() -> tuple:
    """Everything inbound supply and a receipt could change."""
    return (
        list(InboundSupply.objects.values_list("reference", "location_id", "expected_on", "status").order_by("pk")),
        list(InboundLine.objects.values_list("supply_id", "sku_id", "quantity", "received").order_by("pk")),
        list(StockLevel.objects.values_list("sku_id", "location_id", "on_hand", "reserved").order_by("pk")),
        StockMovement.objects.count(),
    )


def on_hand(sku, location) -> int:
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first() or 0


@pytest.fixture
def skus(db):
    return SkuFactory(), SkuFactory()


@pytest.fixture
def po(skus, warehouse):
    return inbound_create(
        reference="PO-1001",
        location=warehouse.code,
        expected_on=TOMORROW,
        lines=[(skus[0].code, 10), (skus[1].code, 4)],
    )


def test_a_document_is_announced_with_its_lines(po, skus, warehouse):
    supply = inbound_get(reference="PO-1001")
    assert (supply.location, supply.expected_on, supply.status) == (warehouse, TOMORROW, "open")
    assert [(ln.sku, ln.quantity, ln.received) for ln in supply.lines.all()] == [(skus[0], 10, 0), (skus[1], 4, 0)]
    assert StockMovement.objects.count() == 0  # announced goods are not stock


def test_a_line_may_name_its_sku_by_barcode(skus, store):
    Barcode.objects.create(code=gtin13(77), sku=skus[0])
    supply = inbound_create(reference="ASN/7", location=store.code, expected_on=TOMORROW, lines=[(gtin13(77), 3)])
    assert supply.lines.get().sku == skus[0]


def test_receiving_books_stock_through_the_ledger(po, skus, warehouse, admin_user):
    over = inbound_receive(supply=po, lines=[(skus[0].code, 6)], actor=admin_user)

    assert over == {}
    assert on_hand(skus[0], warehouse) == 6
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.on_hand_delta, movement.reference, movement.actor) == (
        "receipt",
        6,
        "inbound:PO-1001",
        admin_user,
    )
    assert po.lines.get(sku=skus[0]).received == 6
    po.refresh_from_db()
    assert po.status == "open"


def test_the_document_is_received_once_every_line_is_in_full_and_still_takes_late_units(po, skus, warehouse):
    inbound_receive(supply=po, lines=[(skus[0].code, 10), (skus[1].code, 3)])
    po.refresh_from_db()
    assert po.status == "open"

    assert inbound_receive(supply=po, lines=[(skus[1].code, 1)]) == {}
    po.refresh_from_db()
    assert po.status == "received"

    assert inbound_receive(supply=po, lines=[(skus[1].code, 2)]) == {skus[1].code: 2}
    po.refresh_from_db()
    assert po.status == "received"
    assert on_hand(skus[1], warehouse) == 6


def test_over_receipt_is_taken_and_reported_per_sku(po, skus, warehouse):
    over = inbound_receive(supply=po, lines=[(skus[0].code, 7), (skus[0].code, 5), (skus[1].code, 4)])

    assert over == {skus[0].code: 2}
    assert on_hand(skus[0], warehouse) == 12
    assert po.lines.get(sku=skus[0]).received == 12


def test_check_inventory_stays_clean_after_receipts(po, skus):
    inbound_receive(supply=po, lines=[(skus[0].code, 4)])
    inbound_receive(supply=po, lines=[(skus[0].code, 9), (skus[1].code, 4)])
    out = io.StringIO()
    call_command("check_inventory", stdout=out)  # raises CommandError on any disagreement
    assert "Inventory is consistent" in out.getvalue()


def test_a_closed_document_refuses_receipts_and_is_no_longer_due(po, skus, warehouse):
    assert [line.due for line in inbound_due(location=warehouse)] == [10, 4]

    closed = inbound_close(supply=po)

    assert closed.status == "closed" and closed.closed_at is not None
    assert list(inbound_due()) == []
    before = snapshot()
    with pytest.raises(Conflict):
        inbound_receive(supply=po, lines=[(skus[0].code, 1)])
    assert snapshot() == before
    assert inbound_close(supply=po).closed_at == closed.closed_at  # closing again changes nothing


def test_due_lists_what_is_still_to_come_soonest_first(po, skus, warehouse, store):
    later = inbound_create(
        reference="PO-2000", location=store.code, expected_on=TOMORROW + timedelta(days=5), lines=[(skus[0].code, 8)]
    )
    inbound_create(reference="PO-0500", location=store.code, expected_on=TOMORROW, lines=[(skus[1].code, 2)])
    inbound_receive(supply=po, lines=[(skus[1].code, 4), (skus[0].code, 3)])
    inbound_receive(supply=later, lines=[(skus[0].code, 1)])

    due = [(line.supply.reference, line.sku.code, line.due) for line in inbound_due()]

    assert due == [("PO-0500", skus[1].code, 2), ("PO-1001", skus[0].code, 7), ("PO-2000", skus[0].code, 7)]
    assert [line.supply.reference for line in inbound_due(location=warehouse)] == ["PO-1001"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reference": "PO 1"}, "reference"),
        ({"reference": "P" * 57}, "reference"),
        ({"location": "NOWHERE"}, "location"),
        ({"expected_on": timezone.localdate() - timedelta(days=1)}, "expected_on"),
        ({"lines": []}, "lines"),
        ({"lines": [("NO-SUCH-SKU", 1)]}, "lines[0].sku"),
        ({"lines": [("A", 0)]}, "lines[0].quantity"),
        ({"lines": [("A", -3)]}, "lines[0].quantity"),
        ({"lines": [("A", 1_000_001)]}, "lines[0].quantity"),
        ({"lines": [("A", 2**40)]}, "lines[0].quantity"),
        ({"lines": [("A", 1.5)]}, "lines[0].quantity"),
        ({"lines": [("A", 1), ("A", 2)]}, "lines[1].sku"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(po, skus, warehouse, settings, change, field):
    settings.OMS_MAX_STOCK_QUANTITY = 1_000_000
    arguments = {"reference": "PO-2", "location": warehouse.code, "expected_on": TOMORROW, "lines": [("A", 1)]} | change
    arguments["lines"] = [(skus[0].code if code == "A" else code, quantity) for code, quantity in arguments["lines"]]
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        inbound_create(**arguments)

    assert field in refused.value.errors
    assert snapshot() == before


def test_an_inactive_sku_is_refused_by_name(skus, warehouse):
    skus[1].active = False
    skus[1].save()
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        lines = [(skus[0].code, 1), (skus[1].code, 2)]
        inbound_create(reference="PO-3", location=warehouse.code, expected_on=TOMORROW, lines=lines)

    inactive = f"SKU {skus[1].code} is inactive; supply cannot be announced for it."
    assert refused.value.errors == {"lines[1].sku": [inactive]}
    assert snapshot() == before


def test_a_reference_already_used_is_a_conflict(po, skus, store):
    before = snapshot()
    with pytest.raises(Conflict) as refused:
        inbound_create(reference="PO-1001", location=store.code, expected_on=TOMORROW, lines=[(skus[0].code, 1)])
    assert "reference" in refused.value.errors
    assert snapshot() == before


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([("NO-SUCH-SKU", 1)], "lines[0].sku"),
        ([("OTHER", 1)], "lines[0].sku"),  # a real SKU, but not on this document
        ([("A", 2), ("A", 0)], "lines[1].quantity"),
        ([("A", 3), ("B", 2_000_000)], "lines[1].quantity"),
        ([], "lines"),
    ],
)
def test_a_bad_receipt_changes_nothing(po, skus, settings, lines, field):
    settings.OMS_MAX_STOCK_QUANTITY = 1_000_000
    other = SkuFactory()
    codes = {"A": skus[0].code, "B": skus[1].code, "OTHER": other.code}
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        inbound_receive(supply=po, lines=[(codes.get(code, code), quantity) for code, quantity in lines])

    assert field in refused.value.errors
    assert snapshot() == before


def test_a_receipt_that_would_overfill_the_location_changes_nothing(po, skus, warehouse, settings):
    settings.OMS_MAX_STOCK_QUANTITY = 12
    inbound_receive(supply=po, lines=[(skus[0].code, 10)])
    before = snapshot()

    with pytest.raises(Conflict):
        inbound_receive(supply=po, lines=[(skus[1].code, 4), (skus[0].code, 3)])

    assert snapshot() == before


def test_a_location_may_receive_from_many_documents(skus):
    store = LocationFactory()
    first = inbound_create(reference="A-1", location=store.code, expected_on=TOMORROW, lines=[(skus[0].code, 2)])
    second = inbound_create(reference="A-2", location=store.code, expected_on=TOMORROW, lines=[(skus[0].code, 3)])
    inbound_receive(supply=first, lines=[(skus[0].code, 2)])
    inbound_receive(supply=second, lines=[(skus[0].code, 3)])
    assert on_hand(skus[0], store) == 5
    assert sorted(StockMovement.objects.values_list("reference", flat=True)) == ["inbound:A-1", "inbound:A-2"]


def test_the_admin_shows_a_document_and_its_lines_but_never_edits_them(po, skus, admin_client):
    changelist = "/admin/inventory/inboundsupply/"
    assert b"PO-1001" in admin_client.get(changelist, {"q": "PO-1001"}).content
    page = admin_client.get(f"{changelist}{po.pk}/change/")
    assert page.status_code == 200
    assert all(str(sku).encode() in page.content for sku in skus)  # the lines, read-only
    before = snapshot()
    admin_client.post(f"{changelist}{po.pk}/change/", {"reference": "PO-X", "status": "closed"})
    assert admin_client.get(f"{changelist}add/").status_code == 403
    assert snapshot() == before


def test_staff_close_documents_from_the_admin(po, admin_client):
    response = admin_client.post(
        "/admin/inventory/inboundsupply/", {"action": "close", "_selected_action": [po.pk]}, follow=True
    )
    assert response.status_code == 200
    po.refresh_from_db()
    assert (po.status, po.closed_at is not None) == ("closed", True)


def test_a_location_systems_credential_announces_reads_and_receives_only_at_its_own_locations(po, skus, warehouse):
    """The scope rule is the service's, so every caller of it (API, import, a script) meets it."""
    from core.errors import NotPermitted
    from inventory.credentials import location_credential_issue

    elsewhere = LocationFactory()
    own, _ = location_credential_issue(name="wh-wms", location_codes=[warehouse.code])
    other, _ = location_credential_issue(name="other-tills", location_codes=[elsewhere.code])
    before = snapshot()
    with pytest.raises(NotPermitted, match=f"'other-tills' may not write stock at {warehouse.code}"):
        inbound_receive(supply=po, lines=[(skus[0].code, 1)], credential=other)
    with pytest.raises(NotPermitted):
        inbound_get(reference=po.reference, credential=other)
    with pytest.raises(NotPermitted):
        inbound_create(
            reference="PO-2", location=warehouse.code, expected_on=TOMORROW, lines=[(skus[0].code, 1)], credential=other
        )
    assert snapshot() == before
    assert inbound_get(reference=po.reference, credential=own) == po
    inbound_receive(supply=po, lines=[(skus[0].code, 1)], credential=own)
    assert on_hand(skus[0], warehouse) == 1


def test_open_deliveries_say_which_are_overdue_and_what_each_line_still_awaits(po, skus, warehouse):
    from inventory.inbound_selectors import inbound_open

    inbound_receive(supply=po, lines=[(skus[0].code, 3), (skus[1].code, 6)])  # two more than announced of one
    (supply,) = inbound_open(location=warehouse)
    assert supply.overdue is False  # expected tomorrow
    assert [(line.sku, line.quantity, line.received, line.due) for line in supply.lines.all()] == sorted(
        [(skus[0], 10, 3, 7), (skus[1], 4, 6, 0)], key=lambda row: row[0].code
    )
    (late,) = inbound_open(location=warehouse, today=TOMORROW + timedelta(days=1))
    assert late.overdue is True
