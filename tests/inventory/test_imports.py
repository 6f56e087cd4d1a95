import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory import stock_feed
from inventory.models import Barcode, Location, Sku, SkuAlias, StockLevel, StockMovement
from inventory.reservations import StockRequest, stock_reserve
from inventory.selectors import inventory_discrepancies
from inventory.services import stock_receive
from inventory.sql import StockFeedCopy
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, gtin13

pytestmark = pytest.mark.django_db

LOCATION_HEADER = "code,name,kind,lat,lon,address,city,postcode,country,ships,pickup,returns,daily_capacity,priority"
LEEDS = "ST-LEEDS,Leeds Briggate,store,53.797,-1.543,Briggate,Leeds,LS1 6HD,GB,true,true,false,40,1"


def run(command, tmp_path, text, *args):
    """Run an import command on a CSV file; return (stdout, stderr, the CommandError or None)."""
    path = tmp_path / "feed.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(command, str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


# --- locations -------------------------------------------------------------------------


def test_locations_are_created_then_updated_by_code(tmp_path):
    out, _, error = run("import_locations", tmp_path, f"{LOCATION_HEADER}\n{LEEDS}\n")
    assert error is None
    assert "1 applied" in out
    leeds = Location.objects.get(code="ST-LEEDS")
    assert (leeds.kind, leeds.ships, leeds.pickup, leeds.accepts_returns) == ("store", True, True, False)
    assert (leeds.daily_capacity, leeds.priority, leeds.lat) == (40, 1, 53.797)

    moved = LEEDS.replace("40,1", ",1").replace("true,true,false", "true,true,true")
    out, _, error = run("import_locations", tmp_path, f"{LOCATION_HEADER}\n{moved}\n{moved}\n")
    assert error is None
    assert "1 applied, 1 unchanged" in out
    leeds.refresh_from_db()
    assert (leeds.daily_capacity, leeds.accepts_returns) == (None, True)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("53.797", "91"), "lat"),
        (("-1.543", "east"), "lon"),
        (("store", "shop"), "kind"),
        (("true,true,false", "yes,true,false"), "ships"),
        (("true,true,false", "true,true,no"), "returns"),
        (("40,1", "-4,1"), "daily_capacity"),
        (("40,1", "40,high"), "priority"),
        (("ST-LEEDS", "ST LEEDS"), "code"),
    ],
)
def test_an_invalid_location_row_names_row_and_field_and_is_not_applied(tmp_path, change, field):
    bad = LEEDS.replace(*change)
    york = "ST-YORK,York,store,53.96,-1.0873,,York,YO1,GB,false,true,true,,0"
    _, err, error = run("import_locations", tmp_path, f"{LOCATION_HEADER}\n{bad}\n{york}\n")
    assert f"row 2, {field}:" in err
    assert "1 row(s) rejected" in str(error)
    assert list(Location.objects.values_list("code", flat=True)) == ["ST-YORK"]


def test_a_row_with_missing_columns_is_rejected(tmp_path):
    _, err, error = run("import_locations", tmp_path, f"{LOCATION_HEADER}\nST-X,X,store\n")
    assert "row 2, row: expected 14 columns" in err
    assert error is not None


def test_a_wrong_header_applies_nothing(tmp_path):
    _, _, error = run("import_locations", tmp_path, f"code,name\n{LEEDS}\n")
    assert "row 1: the header must be code,name,kind" in str(error)
    assert not Location.objects.exists()


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_locations", str(tmp_path / "absent.csv"))


# --- SKUs ------------------------------------------------------------------------------


def test_skus_are_created_with_barcodes_and_aliases_then_renamed(tmp_path):
    market = ChannelFactory(code="market")
    text = f"sku,name,barcodes,aliases\nTEE-M,Crew tee M,{gtin13(1)};{gtin13(2)},market:B0TEE\n"
    out, _, error = run("import_skus", tmp_path, text)
    assert error is None and "1 applied" in out
    tee = Sku.objects.get(code="TEE-M")
    assert set(tee.barcodes.values_list("code", flat=True)) == {gtin13(1), gtin13(2)}
    assert SkuAlias.objects.get(channel=market, code="B0TEE").sku == tee

    text = f"sku,name,barcodes,aliases\nTEE-M,Crew tee medium,{gtin13(3)},\nTEE-M,Crew tee medium,,\n"
    out, _, error = run("import_skus", tmp_path, text)
    assert error is None and "1 applied, 1 unchanged" in out
    tee.refresh_from_db()
    assert tee.name == "Crew tee medium"
    assert tee.barcodes.count() == 3  # barcodes are only ever added


@pytest.mark.parametrize(
    ("cells", "field", "message"),
    [
        (f"{gtin13(1)[:-1]}0,", "barcodes", "is not a valid GTIN/EAN"),
        (f"{gtin13(9)},", "barcodes", "already belongs to SKU OTHER"),
        (f"{gtin13(1)};{gtin13(1)},", "barcodes", "listed twice"),
        (",nowhere:X1", "aliases", "Unknown channel 'nowhere'"),
        (",market:TAKEN", "aliases", "already used by SKU OTHER"),
        (",market", "aliases", "is not channel:code"),
    ],
)
def test_an_invalid_sku_row_applies_nothing_of_that_row(tmp_path, cells, field, message):
    market = ChannelFactory(code="market")
    other = SkuFactory(code="OTHER")
    Barcode.objects.create(code=gtin13(9), sku=other)
    SkuAlias.objects.create(channel=market, code="TAKEN", sku=other)
    SkuFactory(code="TEE-M", name="Old name")
    _, err, error = run("import_skus", tmp_path, f"sku,name,barcodes,aliases\nTEE-M,New name,{cells}\n")
    assert f"row 2, {field}:" in err and message in err
    assert error is not None
    tee = Sku.objects.get(code="TEE-M")
    assert (tee.name, tee.barcodes.count(), tee.aliases.count()) == ("Old name", 0, 0)


def test_a_barcode_twice_in_a_file_is_rejected_on_its_second_sku(tmp_path):
    text = f"sku,name,barcodes,aliases\nA,A,{gtin13(1)},\nB,B,{gtin13(1)},\n"
    _, err, error = run("import_skus", tmp_path, text)
    assert "row 3, barcodes:" in err and "already belongs to SKU A" in err
    assert list(Sku.objects.values_list("code", flat=True)) == ["A"]
    assert error is not None


def test_an_invalid_sku_code_is_rejected(tmp_path):
    _, err, error = run("import_skus", tmp_path, "sku,name,barcodes,aliases\nBAD CODE,Name,,\n,,,\n")
    assert "row 2, sku:" in err and "row 3, sku:" in err and "row 3, name:" in err
    assert not Sku.objects.exists()
    assert "2 row(s) rejected" in str(error)


# --- stock -----------------------------------------------------------------------------


@pytest.fixture(params=["orm", pytest.param("copy", marks=pytest.mark.postgres)])
def feed_path(request, monkeypatch):
    """Run a test through the portable ORM path and, on PostgreSQL, through COPY."""
    store = stock_feed._OrmStock if request.param == "orm" else StockFeedCopy
    monkeypatch.setattr(stock_feed, "_stock_store", store)
    return request.param


def on_hand(sku, location):
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first()


def test_snapshot_sets_on_hand_and_writes_one_movement_per_changed_row(tmp_path, feed_path, sku, store, warehouse):
    Barcode.objects.create(code=gtin13(5), sku=sku)
    stock_receive(sku=sku, location=store, quantity=3)
    text = (
        f"location,sku,on_hand\n{store.code},{sku.code},7\n{warehouse.code},{gtin13(5)},20\n{store.code},{sku.code},7\n"
    )
    out, _, error = run("import_stock", tmp_path, text)
    assert error is None
    assert "2 applied, 1 unchanged, 0 rejected of 3 rows" in out and "rows/s" in out
    assert (on_hand(sku, store), on_hand(sku, warehouse)) == (7, 20)
    feed = StockMovement.objects.filter(kind="feed").order_by("id")
    assert [(m.on_hand_delta, m.reason, m.reference) for m in feed] == [
        (4, "snapshot", "feed:feed.csv"),
        (20, "snapshot", "feed:feed.csv"),
    ]
    assert inventory_discrepancies() == []


def test_delta_changes_on_hand_in_file_order(tmp_path, feed_path, sku, store):
    stock_receive(sku=sku, location=store, quantity=2)
    rows = [f"{store.code},{sku.code},{d}" for d in (-3, 5, -6, 0)]
    out, err, error = run("import_stock", tmp_path, "location,sku,delta\n" + "\n".join(rows) + "\n", "--mode", "delta")
    # -3 from 2 would go below zero; +5 makes 7; -6 makes 1; 0 changes nothing.
    assert "2 applied, 1 unchanged, 1 rejected" in out
    assert "row 2, delta:" in err and "below zero" in err
    assert on_hand(sku, store) == 1
    assert error is not None
    assert inventory_discrepancies() == []


def test_snapshot_never_destroys_reservations(tmp_path, feed_path, sku, store):
    stock_receive(sku=sku, location=store, quantity=10)
    stock_reserve(requests=[StockRequest(sku, store, 6)], owner_ref="order:1")
    _, err, error = run("import_stock", tmp_path, f"location,sku,on_hand\n{store.code},{sku.code},4\n")
    assert f"row 2, on_hand: {sku.code}@{store.code}: 4 on hand would be below the 6 reserved" in err
    assert "1 row(s) rejected" in str(error)
    level = StockLevel.objects.get(sku=sku, location=store)
    assert (level.on_hand, level.reserved) == (10, 6)
    assert not StockMovement.objects.filter(kind="feed").exists()


def test_delta_below_reserved_is_rejected(tmp_path, feed_path, sku, store):
    stock_receive(sku=sku, location=store, quantity=10)
    stock_reserve(requests=[StockRequest(sku, store, 6)], owner_ref="order:1")
    _, err, _ = run("import_stock", tmp_path, f"location,sku,delta\n{store.code},{sku.code},-5\n", "--mode", "delta")
    assert "row 2, delta:" in err and "below the 6 reserved" in err
    assert on_hand(sku, store) == 10


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("NOWHERE,{sku},1", "location", "unknown location 'NOWHERE'"),
        ("{store},NOTHING,1", "sku", "unknown SKU or barcode 'NOTHING'"),
        ("{store},{sku},lots", "on_hand", "'lots' is not a whole number"),
        ("{store},{sku},2.5", "on_hand", "'2.5' is not a whole number"),
        ("{store},{sku},-1", "on_hand", "-1 is negative"),
        ("{store},{sku}", "row", "expected 3 columns"),
        ("{store},{sku},1,extra", "row", "expected 3 columns"),
    ],
)
def test_a_bad_stock_row_names_row_and_field_and_changes_nothing(tmp_path, feed_path, sku, store, row, field, message):
    good = f"{store.code},{sku.code},5"
    text = f"location,sku,on_hand\n{row.format(store=store.code, sku=sku.code)}\n{good}\n"
    _, err, error = run("import_stock", tmp_path, text)
    assert f"row 2, {field}: {message}" in err
    assert "1 row(s) rejected; the other rows were applied" in str(error)
    assert on_hand(sku, store) == 5
    assert StockMovement.objects.count() == 1


def test_the_header_must_match_the_mode(tmp_path, sku, store):
    _, _, error = run("import_stock", tmp_path, f"location,sku,on_hand\n{store.code},{sku.code},1\n", "--mode", "delta")
    assert "the header must be location,sku,delta" in str(error)
    assert not StockLevel.objects.exists()


def test_rows_of_one_level_across_chunks_apply_in_order(feed_path, sku, store, warehouse):
    rows = [[store.code, sku.code, q] for q in (5, 8, 3)] + [[warehouse.code, sku.code, 0], [store.code, sku.code, 3]]
    result = stock_feed.stock_feed_apply(rows=rows, mode="snapshot", reference="api", chunk_rows=2)
    # The last row for a level wins; 0 for a level that does not exist creates nothing.
    assert (result.applied, result.unchanged, result.rejected) == (3, 2, [])
    assert on_hand(sku, store) == 3
    assert on_hand(sku, warehouse) is None
    assert list(StockMovement.objects.order_by("id").values_list("on_hand_delta", flat=True)) == [5, 3, -5]
    assert inventory_discrepancies() == []


@pytest.mark.postgres
def test_a_chunk_is_redone_when_a_level_appears_while_it_runs(monkeypatch, sku, store):
    path = StockFeedCopy()
    create, calls = path.create, []

    def create_after_another_writer(on_hand):
        calls.append(on_hand)
        if len(calls) == 1:  # another writer creates the level first
            stock_receive(sku=sku, location=store, quantity=2)
        return create(on_hand)

    monkeypatch.setattr(path, "create", create_after_another_writer)
    monkeypatch.setattr(stock_feed, "_stock_store", lambda: path)
    result = stock_feed.stock_feed_apply(rows=[[store.code, sku.code, 7]], mode="snapshot", reference="api")
    assert len(calls) == 2
    assert (result.applied, on_hand(sku, store)) == (1, 7)
    assert inventory_discrepancies() == []


def test_quantities_from_json_must_be_whole_numbers(sku, store):
    rows = [[store.code, sku.code, 2.5], [store.code, sku.code, True], [store.code, sku.code, 4]]
    result = stock_feed.stock_feed_apply(rows=rows, mode="snapshot", reference="api", first_row=1)
    assert [(r.row, r.field) for r in result.rejected] == [(1, "on_hand"), (2, "on_hand")]
    assert on_hand(sku, store) == 4


@pytest.mark.postgres
def test_copy_and_orm_paths_give_the_same_result(monkeypatch):
    skus = [SkuFactory() for _ in range(4)]
    results = {}
    for path, store in (("orm", stock_feed._OrmStock), ("copy", StockFeedCopy)):
        monkeypatch.setattr(stock_feed, "_stock_store", store)
        location = LocationFactory()
        stock_receive(sku=skus[0], location=location, quantity=5)
        stock_reserve(requests=[StockRequest(skus[0], location, 4)], owner_ref=f"order:{path}")
        rows = [[location.code, s.code, q] for s, q in zip(skus * 2, [3, 0, 9, 2, 6, 1, 9, 0], strict=True)]
        result = stock_feed.stock_feed_apply(rows=rows, mode="snapshot", reference=path, chunk_rows=3)
        levels = StockLevel.objects.filter(location=location).order_by("sku_id")
        movements = StockMovement.objects.filter(reference=path).order_by("id")
        results[path] = (
            result.applied,
            result.unchanged,
            [(r.row, r.field) for r in result.rejected],
            list(levels.values_list("sku_id", "on_hand", "reserved")),
            list(movements.values_list("stock_level__sku_id", "on_hand_delta")),
        )
    assert results["orm"] == results["copy"]
    assert inventory_discrepancies() == []


def test_check_inventory_is_clean_after_imports(tmp_path, sku, store):
    run("import_stock", tmp_path, f"location,sku,on_hand\n{store.code},{sku.code},9\n")
    run("import_stock", tmp_path, f"location,sku,delta\n{store.code},{sku.code},-2\n", "--mode", "delta")
    out = io.StringIO()
    call_command("check_inventory", stdout=out)
    assert "Inventory is consistent" in out.getvalue()
    assert on_hand(sku, store) == 7


def test_the_ledger_keeps_a_reference_with_tabs_and_backslashes(feed_path, sku, store):
    reference = "feed:C:\\feeds\\stock\tcopy\n2.csv"
    stock_feed.stock_feed_apply(rows=[[store.code, sku.code, 3]], mode="snapshot", reference=reference)
    assert StockMovement.objects.get(kind="feed").reference == reference


def _feed_outcome(result, locations, skus):
    """A result, the levels and the ledger of ``locations``, with locations and SKUs by position."""
    where = {loc.pk: i for i, loc in enumerate(locations)}
    what = {s.pk: i for i, s in enumerate(skus)}
    levels = StockLevel.objects.filter(location__in=locations)
    movements = {}
    for level_id, delta in (
        StockMovement.objects.filter(stock_level__in=levels)
        .order_by("id")
        .values_list("stock_level_id", "on_hand_delta")
    ):
        movements.setdefault(level_id, []).append(delta)
    return (
        (result.applied, result.unchanged, [(r.row, r.field) for r in result.rejected]),
        sorted(
            (what[lv.sku_id], where[lv.location_id], lv.on_hand, lv.reserved, movements.get(lv.pk, [])) for lv in levels
        ),
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["snapshot", "delta"])
def test_several_writers_give_what_one_writer_gives(mode):
    skus = [SkuFactory() for _ in range(3)]
    outcomes = []
    for writers in (1, 3):
        locations = [LocationFactory() for _ in range(4)]
        stock_receive(sku=skus[0], location=locations[1], quantity=5)
        stock_reserve(requests=[StockRequest(skus[0], locations[1], 4)], owner_ref=f"order:{writers}")
        quantities = [3, 0, 9, 2, -6, 1, 7, 0, 4, -2, 5, 8]
        rows = [
            [locations[(i + n) % 4].code, skus[i % 3].code, q if mode == "delta" else abs(q)]
            for n in range(3)
            for i, q in enumerate(quantities)
        ]
        result = stock_feed.stock_feed_apply(rows=rows, mode=mode, reference="writers", chunk_rows=5, writers=writers)
        outcomes.append(_feed_outcome(result, locations, skus))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0][2]  # some rows were rejected: below zero or below what is reserved
    assert inventory_discrepancies() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_command_writes_over_several_connections(tmp_path):
    skus = [SkuFactory() for _ in range(2)]
    locations = [LocationFactory() for _ in range(3)]
    rows = "".join(
        f"{loc.code},{s.code},{n + 1}\n" for n, (loc, s) in enumerate((a, b) for a in locations for b in skus)
    )
    out, _, error = run("import_stock", tmp_path, f"location,sku,on_hand\n{rows}", "--writers", "2")
    assert error is None and "6 applied" in out
    assert sorted(StockLevel.objects.values_list("on_hand", flat=True)) == [1, 2, 3, 4, 5, 6]
    assert inventory_discrepancies() == []
