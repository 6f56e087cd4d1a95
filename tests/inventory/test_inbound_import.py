"""import_inbound: purchase orders and shipping notices from a CSV file, one document line per row."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from inventory.inbound import inbound_close, inbound_create, inbound_import, inbound_receive
from inventory.models import InboundLine, InboundSupply
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db

HEADER = "reference,location,sku,quantity,expected_on"
SOON = timezone.localdate() + timedelta(days=3)
LATER = SOON + timedelta(days=4)
PAST = timezone.localdate() - timedelta(days=1)


def run(tmp_path, text):
    """Run import_inbound on a CSV file; return (stdout, stderr, the CommandError or None)."""
    path = tmp_path / "inbound.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_inbound", str(path), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


def lines() -> list[tuple]:
    return list(
        InboundLine.objects.order_by("supply__reference", "sku__code").values_list(
            "supply__reference", "supply__location__code", "supply__expected_on", "sku__code", "quantity", "received"
        )
    )


@pytest.fixture
def skus(db):
    return SkuFactory(code="TEE-S"), SkuFactory(code="TEE-M")


def test_a_file_creates_documents_then_updates_them(tmp_path, skus, warehouse, store):
    text = (
        f"{HEADER}\nPO-1,{warehouse.code},TEE-S,10,{SOON}\nPO-1,{warehouse.code},TEE-M,5,{SOON}\n"
        f"ASN-9,{store.code},TEE-S,2,{SOON}\n"
    )
    out, _, error = run(tmp_path, text)
    assert error is None
    assert "3 applied, 0 unchanged, 0 rejected of 3 rows" in out
    assert lines() == [
        ("ASN-9", store.code, SOON, "TEE-S", 2, 0),
        ("PO-1", warehouse.code, SOON, "TEE-M", 5, 0),
        ("PO-1", warehouse.code, SOON, "TEE-S", 10, 0),
    ]

    text = f"{HEADER}\nPO-1,{warehouse.code},TEE-S,12,{LATER}\nPO-1,{warehouse.code},TEE-M,5,{LATER}\n"
    text += f"ASN-9,{store.code},TEE-S,2,{SOON}\n"
    out, _, error = run(tmp_path, text)
    assert error is None
    assert "1 applied, 2 unchanged" in out  # the second row only repeats the date the first one moved
    assert lines() == [
        ("ASN-9", store.code, SOON, "TEE-S", 2, 0),
        ("PO-1", warehouse.code, LATER, "TEE-M", 5, 0),
        ("PO-1", warehouse.code, LATER, "TEE-S", 12, 0),
    ]


def test_a_new_line_on_a_received_document_opens_it_again(skus, warehouse):
    po = inbound_create(reference="PO-1", location=warehouse.code, expected_on=SOON, lines=[("TEE-S", 2)])
    inbound_receive(supply=po, lines=[("TEE-S", 2)])
    po.refresh_from_db()
    assert po.status == "received"

    result = inbound_import(records=[["PO-1", warehouse.code, "TEE-M", "3", str(SOON)]])

    assert (result.applied, result.rejected) == (1, [])
    po.refresh_from_db()
    assert po.status == "open"


def test_a_quantity_never_drops_below_what_was_received(tmp_path, skus, warehouse):
    po = inbound_create(reference="PO-1", location=warehouse.code, expected_on=SOON, lines=[("TEE-S", 10)])
    inbound_receive(supply=po, lines=[("TEE-S", 6)])
    before = lines()

    _, err, error = run(tmp_path, f"{HEADER}\nPO-1,{warehouse.code},TEE-S,5,{SOON}\n")

    assert error is not None
    assert "row 2, quantity: 6 already received" in err
    assert lines() == before

    out, _, error = run(tmp_path, f"{HEADER}\nPO-1,{warehouse.code},TEE-S,6,{SOON}\n")
    assert error is None and "1 applied" in out
    po.refresh_from_db()
    assert po.status == "received"  # cut to what arrived: nothing more to come


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("PO 1,{wh},TEE-S,1,{soon}", "reference"),
        ("PO-1,NOWHERE,TEE-S,1,{soon}", "location"),
        ("PO-1,{wh},NO-SUCH,1,{soon}", "sku"),
        ("PO-1,{wh},TEE-S,0,{soon}", "quantity"),
        ("PO-1,{wh},TEE-S,-2,{soon}", "quantity"),
        ("PO-1,{wh},TEE-S,ten,{soon}", "quantity"),
        ("PO-1,{wh},TEE-S,99999999999,{soon}", "quantity"),
        ("PO-1,{wh},TEE-S,1,next week", "expected_on"),
        ("PO-1,{wh},TEE-S,1,{past}", "expected_on"),
        ("PO-1,{wh},TEE-S,1", "row"),
        ("PO-1,{wh},OLD,1,{soon}", "sku"),
    ],
)
def test_rejected_rows_are_listed_and_change_nothing(tmp_path, skus, warehouse, row, field):
    SkuFactory(code="OLD", active=False)
    row = row.format(wh=warehouse.code, soon=SOON, past=PAST)

    out, err, error = run(tmp_path, f"{HEADER}\n{row}\nPO-2,{warehouse.code},TEE-M,4,{SOON}\n")

    assert "1 row(s) rejected" in str(error)
    assert f"rejected row 2, {field}:" in err
    assert "1 applied, 0 unchanged, 1 rejected of 2 rows" in out
    assert lines() == [("PO-2", warehouse.code, SOON, "TEE-M", 4, 0)]


def test_rows_of_one_reference_naming_different_locations_are_all_rejected(skus, warehouse, store):
    result = inbound_import(
        records=[
            ["PO-1", warehouse.code, "TEE-S", "1", str(SOON)],
            ["PO-1", store.code, "TEE-M", "1", str(SOON)],
            ["PO-2", store.code, "TEE-M", "1", str(SOON)],
        ]
    )
    assert [(r.row, r.field) for r in result.rejected] == [(2, "location"), (3, "location")]
    assert lines() == [("PO-2", store.code, SOON, "TEE-M", 1, 0)]


def test_a_row_cannot_move_a_document_or_touch_a_closed_one(skus, warehouse, store):
    inbound_create(reference="PO-1", location=warehouse.code, expected_on=SOON, lines=[("TEE-S", 2)])
    closed = inbound_create(reference="PO-2", location=store.code, expected_on=SOON, lines=[("TEE-S", 2)])
    inbound_close(supply=closed)
    before = lines()

    result = inbound_import(
        records=[["PO-1", store.code, "TEE-S", "3", str(SOON)], ["PO-2", store.code, "TEE-S", "3", str(SOON)]]
    )

    assert [(r.row, r.field) for r in result.rejected] == [(2, "location"), (3, "reference")]
    assert lines() == before


def test_an_existing_line_keeps_its_date_rules_but_a_new_line_must_be_ahead(skus, warehouse):
    inbound_create(reference="PO-1", location=warehouse.code, expected_on=SOON, lines=[("TEE-S", 2)])

    result = inbound_import(
        records=[["PO-1", warehouse.code, "TEE-M", "3", str(PAST)], ["PO-1", warehouse.code, "TEE-S", "4", str(PAST)]]
    )

    # A late delivery's existing line may record the day it was due; a new line cannot be announced for the past.
    assert [(r.row, r.field) for r in result.rejected] == [(2, "expected_on")]
    assert lines() == [("PO-1", warehouse.code, PAST, "TEE-S", 4, 0)]
    assert InboundSupply.objects.get().status == "open"


def test_a_file_with_the_wrong_header_is_refused_whole(tmp_path, skus, warehouse):
    _, _, error = run(tmp_path, f"reference,location,sku,qty,expected_on\nPO-1,{warehouse.code},TEE-S,1,{SOON}\n")
    assert "header must be reference,location,sku,quantity,expected_on" in str(error)
    assert not InboundSupply.objects.exists()
