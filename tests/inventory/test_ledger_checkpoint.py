"""Ledger checkpoints: the consistency check reads only recent movements and proves the same."""

import io
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from inventory.ledger import ledger_archive, ledger_checkpoint
from inventory.models import LedgerBalance, StockLevel, StockMovement
from inventory.selectors import inventory_discrepancies
from inventory.services import stock_adjust, stock_receive

pytestmark = pytest.mark.django_db
LATER = timedelta(hours=1)  # past the settle window: every movement so far counts as settled


def test_a_checkpoint_sums_settled_movements_and_the_check_adds_only_those_after_it(
    store, sku, django_assert_num_queries
):
    stock_receive(sku=sku, location=store, quantity=10, reference="delivery 1")
    stock_adjust(sku=sku, location=store, delta=-3, reason="damaged", reference="shelf")
    checkpoint = ledger_checkpoint(now=timezone.now() + LATER)
    level = StockLevel.objects.get(sku=sku, location=store)
    assert checkpoint.movements == 2
    assert LedgerBalance.objects.get(stock_level=level).on_hand == 7

    stock_receive(sku=sku, location=store, quantity=5, reference="delivery 2")
    assert inventory_discrepancies() == []

    StockLevel.objects.filter(pk=level.pk).update(on_hand=F("on_hand") + 1)  # a counter changed behind the ledger
    [found] = inventory_discrepancies()
    assert (found.field, found.counter, found.expected) == ("on_hand", 13, 12)


def test_archived_movements_leave_the_check_proving_the_same(store, sku):
    stock_receive(sku=sku, location=store, quantity=10, reference="old delivery")
    ledger_checkpoint(now=timezone.now() + LATER)
    stock_receive(sku=sku, location=store, quantity=4, reference="new delivery")
    out = io.StringIO()

    archived = ledger_archive(before=timezone.now() + LATER, to=out)

    assert archived == 1
    assert "old delivery" in out.getvalue() and "new delivery" not in out.getvalue()
    assert list(StockMovement.objects.values_list("reference", flat=True)) == ["new delivery"]
    assert inventory_discrepancies() == []
    level = StockLevel.objects.get(sku=sku, location=store)
    StockLevel.objects.filter(pk=level.pk).update(on_hand=0)
    assert [d.field for d in inventory_discrepancies()] == ["on_hand"]


def test_movements_still_settling_wait_and_a_second_run_adds_nothing_twice(store, sku):
    stock_receive(sku=sku, location=store, quantity=10, reference="delivery")
    assert ledger_checkpoint() is None  # written just now: an older number may still be committing
    ledger_checkpoint(now=timezone.now() + LATER)
    assert ledger_checkpoint(now=timezone.now() + LATER) is None
    assert LedgerBalance.objects.get().on_hand == 10
    assert inventory_discrepancies() == []
