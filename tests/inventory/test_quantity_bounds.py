"""One bound on stock quantities, whoever types or sends them: services, the store page, feeds.

A quantity is a whole number of units no larger than ``OMS_MAX_STOCK_QUANTITY`` (and never
beyond what the database's integer columns hold); a count that moves on hand by more than
``OMS_COUNT_CONFIRM_SHARE`` of it is applied only once confirmed.
"""

from __future__ import annotations

import pytest

from core.errors import InvalidInput
from inventory.exceptions import CountNeedsConfirmation, StockConflict
from inventory.models import AdjustmentReason, StockLevel, StockMovement
from inventory.quantities import COLUMN_MAX, count_needs_confirmation, max_quantity
from inventory.services import stock_adjust, stock_count, stock_receive
from tests.conftest import store_staff_client

pytestmark = pytest.mark.django_db

HUGE = 99999999999999999999
BARCODE = 5060000001327


def on_hand(sku, location) -> int | None:
    return StockLevel.objects.filter(sku=sku, location=location).values_list("on_hand", flat=True).first()


def test_the_bound_never_passes_what_the_integer_columns_hold(settings):
    settings.OMS_MAX_STOCK_QUANTITY = 10**12
    assert max_quantity() == COLUMN_MAX == 2_147_483_647
    settings.OMS_MAX_STOCK_QUANTITY = 5_000
    assert max_quantity() == 5_000


# --- services ----------------------------------------------------------------------------


@pytest.mark.parametrize("counted", [HUGE, BARCODE, 2_147_483_648, COLUMN_MAX])
def test_a_count_beyond_the_bound_is_refused_and_changes_nothing(sku, store, counted):
    stock_receive(sku=sku, location=store, quantity=12)
    with pytest.raises(InvalidInput) as refused:
        stock_count(sku=sku, location=store, counted=counted, confirmed=True)
    assert "counted" in refused.value.errors
    assert f"{max_quantity():,}" in refused.value.message
    assert on_hand(sku, store) == 12
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize("delta", [HUGE, -HUGE, BARCODE, 2_147_483_646, -2_147_483_649])
def test_an_adjustment_beyond_the_bound_is_refused_and_changes_nothing(sku, store, delta):
    stock_receive(sku=sku, location=store, quantity=2)
    with pytest.raises(InvalidInput) as refused:
        stock_adjust(sku=sku, location=store, delta=delta, reason=AdjustmentReason.FOUND)
    assert "delta" in refused.value.errors
    assert on_hand(sku, store) == 2
    assert StockMovement.objects.count() == 1


def test_an_adjustment_may_not_take_on_hand_past_the_bound(settings, sku, store):
    settings.OMS_MAX_STOCK_QUANTITY = 100
    stock_receive(sku=sku, location=store, quantity=95)
    with pytest.raises(StockConflict, match="more than 100"):
        stock_adjust(sku=sku, location=store, delta=6, reason=AdjustmentReason.FOUND)
    assert on_hand(sku, store) == 95
    stock_adjust(sku=sku, location=store, delta=5, reason=AdjustmentReason.FOUND)
    assert on_hand(sku, store) == 100


@pytest.mark.parametrize("quantity", [HUGE, 2_147_483_648])
def test_a_receipt_beyond_the_bound_is_refused(sku, store, quantity):
    with pytest.raises(InvalidInput):
        stock_receive(sku=sku, location=store, quantity=quantity)
    assert on_hand(sku, store) is None


def test_a_count_far_from_on_hand_needs_confirming(sku, store):
    stock_receive(sku=sku, location=store, quantity=12)
    with pytest.raises(CountNeedsConfirmation) as asked:
        stock_count(sku=sku, location=store, counted=5000)
    assert (asked.value.on_hand, asked.value.counted) == (12, 5000)
    assert "confirm" in asked.value.errors
    assert on_hand(sku, store) == 12
    stock_count(sku=sku, location=store, counted=5000, confirmed=True)
    assert on_hand(sku, store) == 5000


@pytest.mark.parametrize(
    ("share", "before", "counted", "asks"),
    [
        (1.0, 12, 24, False),  # doubling is within a share of 1
        (1.0, 12, 25, True),
        (1.0, 12, 0, False),  # an empty shelf is a plain count
        (0.5, 40, 10, True),  # a drop by more than half, with a share of 0.5
        (1.0, 0, 10, False),  # small finds never ask
        (1.0, 0, 11, True),
    ],
)
def test_the_share_that_needs_confirming_is_a_setting(settings, share, before, counted, asks):
    settings.OMS_COUNT_CONFIRM_SHARE = share
    assert count_needs_confirmation(on_hand=before, counted=counted) is asks


@pytest.mark.postgres
def test_postgres_refuses_an_overflowing_count_and_adjustment_without_an_error(settings, sku, store):
    settings.OMS_MAX_STOCK_QUANTITY = 10**12  # the column's range is still the ceiling
    stock_receive(sku=sku, location=store, quantity=2)
    with pytest.raises(InvalidInput):
        stock_count(sku=sku, location=store, counted=2_147_483_648, confirmed=True)
    with pytest.raises(StockConflict):
        stock_adjust(sku=sku, location=store, delta=2_147_483_646, reason=AdjustmentReason.FOUND)
    assert on_hand(sku, store) == 2


# --- the store stock page ----------------------------------------------------------------


@pytest.fixture
def soho(network):
    return store_staff_client(network.soho)


def url(network, path):
    return f"/store/{network.soho.code}/{path}"


@pytest.mark.parametrize("counted", [str(HUGE), str(BARCODE), "2147483648"])
def test_a_scanned_barcode_in_the_count_field_is_refused(network, soho, counted):
    sku = network.skus[0]
    network.stock(network.soho, sku, 12)
    response = soho.post(url(network, "stock/count/"), {"sku": sku.code, "counted": counted, "reason": "count"})
    assert response.status_code == 400
    assert f"{max_quantity():,}" in response.content.decode()
    assert network.level(network.soho, sku).on_hand == 12


@pytest.mark.parametrize("delta", [str(HUGE), f"-{HUGE}", "2147483646"])
def test_a_huge_adjustment_is_refused_on_the_page(network, soho, delta):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    response = soho.post(url(network, "stock/adjust/"), {"sku": sku.code, "delta": delta, "reason": "found"})
    assert response.status_code == 400
    assert network.level(network.soho, sku).on_hand == 2


def test_the_page_asks_before_a_count_far_from_on_hand_and_applies_it_once_confirmed(network, soho):
    sku = network.skus[0]
    network.stock(network.soho, sku, 12)
    data = {"sku": sku.code, "counted": "5000", "reason": "count"}
    asked = soho.post(url(network, "stock/count/"), data)
    page = asked.content.decode()
    assert asked.status_code == 200
    assert "This count changes on hand from 12 to 5,000 — confirm?" in page
    assert 'name="confirm"' in page
    assert network.level(network.soho, sku).on_hand == 12
    done = soho.post(url(network, "stock/count/"), {**data, "confirm": "5000"})
    assert done.status_code == 302
    assert network.level(network.soho, sku).on_hand == 5000


def test_a_confirmation_for_another_number_asks_again(network, soho):
    sku = network.skus[0]
    network.stock(network.soho, sku, 12)
    response = soho.post(
        url(network, "stock/count/"), {"sku": sku.code, "counted": "50000", "reason": "count", "confirm": "5000"}
    )
    assert "from 12 to 50,000 — confirm?" in response.content.decode()
    assert network.level(network.soho, sku).on_hand == 12


# --- stock feeds ---------------------------------------------------------------------------


@pytest.fixture(params=["orm", pytest.param("copy", marks=pytest.mark.postgres)])
def feed_path(request, monkeypatch):
    """Run a test through the portable ORM path and, on PostgreSQL, through COPY."""
    from inventory import stock_feed
    from inventory.sql import StockFeedCopy

    monkeypatch.setattr(stock_feed, "_stock_store", stock_feed._OrmStock if request.param == "orm" else StockFeedCopy)
    return request.param


def _import(tmp_path, text, *args):
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "feed.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_stock", str(path), *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), exc
    return out.getvalue(), err.getvalue(), None


@pytest.mark.parametrize("wide_bound", [False, True], ids=["default-bound", "column-bound"])
def test_import_stock_rejects_overflowing_deltas_and_applies_the_rest(settings, tmp_path, feed_path, wide_bound):
    from tests.factories import LocationFactory, SkuFactory

    if wide_bound:
        settings.OMS_MAX_STOCK_QUANTITY = 10**12  # the column's range still holds
    store, other = LocationFactory(), LocationFactory()
    sku = SkuFactory()
    stock_receive(sku=sku, location=store, quantity=2)
    rows = [f"{store.code},{sku.code},2147483646", f"{other.code},{sku.code},{HUGE}", f"{other.code},{sku.code},4"]
    out, err, error = _import(tmp_path, "location,sku,delta\n" + "\n".join(rows) + "\n", "--mode", "delta")
    assert "Traceback" not in err
    assert "row 2, delta:" in err and "row 3, delta:" in err
    assert "2 row(s) rejected; the other rows were applied" in str(error)
    assert "1 applied" in out
    assert (on_hand(sku, store), on_hand(sku, other)) == (2, 4)


def test_import_stock_rejects_a_snapshot_beyond_the_bound(tmp_path, feed_path, sku, store):
    text = f"location,sku,on_hand\n{store.code},{sku.code},{BARCODE}\n{store.code},{sku.code},7\n"
    _, err, error = _import(tmp_path, text)
    assert f"row 2, on_hand: {BARCODE:,} is more than the {max_quantity():,} units" in err
    assert "1 row(s) rejected" in str(error)
    assert on_hand(sku, store) == 7


def test_a_delta_may_not_take_on_hand_past_the_bound(settings, feed_path, sku, store):
    from inventory.stock_feed import stock_feed_apply

    settings.OMS_MAX_STOCK_QUANTITY = 100
    stock_receive(sku=sku, location=store, quantity=95)
    rows = [[store.code, sku.code, 6], [store.code, sku.code, 5]]
    result = stock_feed_apply(rows=rows, mode="delta", reference="api", first_row=1)
    assert [(r.row, r.field) for r in result.rejected] == [(1, "delta")]
    assert "more than 100" in result.rejected[0].message
    assert result.applied == 1 and on_hand(sku, store) == 100


@pytest.fixture
def api(network):
    """The stores' own system, with the integration credential that may set their stock."""
    from rest_framework.test import APIClient

    from inventory.credentials import location_credential_issue

    _, token = location_credential_issue(name="store-tills", location_codes=[network.soho.code, network.camden.code])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_the_feed_api_reports_overflowing_json_rows_and_applies_the_rest(api, network, feed_path):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    rows = [
        {"location": network.soho.code, "sku": sku.code, "delta": 2147483646},
        {"location": network.soho.code, "sku": sku.code, "delta": HUGE},
        {"location": network.soho.code, "sku": sku.code, "delta": 3},
    ]
    response = api.post("/api/v1/stock-feeds", {"mode": "delta", "rows": rows}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == 1 and [(r["row"], r["field"]) for r in body["rejected"]] == [(1, "delta"), (2, "delta")]
    assert network.level(network.soho, sku).on_hand == 5


def test_the_feed_api_reports_overflowing_csv_rows_and_applies_the_rest(api, network, feed_path):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    csv = f"location,sku,delta\n{network.soho.code},{sku.code},{HUGE}\n{network.soho.code},{sku.code},2147483646\n"
    csv += f"{network.soho.code},{sku.code},3\n"
    response = api.generic("POST", "/api/v1/stock-feeds?mode=delta", csv, content_type="text/csv")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == 1 and [(r["row"], r["field"]) for r in body["rejected"]] == [(2, "delta"), (3, "delta")]
    snapshot = f"location,sku,on_hand\n{network.soho.code},{sku.code},{BARCODE}\n"
    response = api.generic("POST", "/api/v1/stock-feeds?mode=snapshot", snapshot, content_type="text/csv")
    assert response.status_code == 200 and response.json()["rejected_rows"] == 1
    assert network.level(network.soho, sku).on_hand == 5
