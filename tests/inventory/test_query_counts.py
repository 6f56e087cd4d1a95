"""The hot reads and the reservation write cost a fixed number of queries, however many rows they touch.

An N+1 regression (a query per SKU, location or line) changes these counts and fails.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.atp import network_atp
from inventory.availability import stock_availability
from inventory.models import Barcode, Reservation, SafetyStock, SkuAlias
from inventory.nearby import nearest_locations_with_stock
from inventory.reservations import StockRequest, hold_place, reservations_release, stock_reserve
from inventory.selectors import skus_resolve
from inventory.services import stock_receive
from tests.factories import ChannelFactory, LocationFactory, SkuFactory, gtin13

pytestmark = pytest.mark.django_db


@pytest.fixture
def network():
    """Five SKUs stocked at six stores around London; the channel sells from four of them."""
    skus = SkuFactory.create_batch(5)
    stores = [LocationFactory(lat=51.5 + i / 100, lon=-0.12 - i / 100, safety_stock=1) for i in range(6)]
    for sku in skus:
        for store in stores:
            stock_receive(sku=sku, location=store, quantity=10)
    SafetyStock.objects.create(sku=skus[0], location=stores[0], quantity=3)
    channel = ChannelFactory(buffer=1)
    channel.sells_from.set(stores[:4])
    # An expired hold on a line being reserved: the reservation releases it in the same statements.
    hold = hold_place(requests=[StockRequest(skus[1], stores[1], 2)], channel=None, ttl=timedelta(minutes=15))
    Reservation.objects.filter(owner_ref=hold).update(expires_at=timezone.now() - timedelta(seconds=1))
    return skus, stores, channel


def test_basket_availability_is_one_query_plus_the_channel_locations(network, django_assert_num_queries):
    skus, stores, channel = network
    with django_assert_num_queries(1):
        atp = stock_availability(sku_ids=[s.pk for s in skus])
    assert len(atp) == 30
    assert atp[(skus[1].pk, stores[1].pk)] == 10 - 1  # the expired hold counts as free
    assert atp[(skus[0].pk, stores[0].pk)] == 10 - 3  # the SKU's own safety stock wins
    with django_assert_num_queries(1):  # the channel's locations are a subquery of the same statement
        atp = stock_availability(sku_ids=[s.pk for s in skus], channel=channel)
    assert len(atp) == 20


def test_network_atp_adds_only_the_channel_caps(network, django_assert_num_queries):
    skus, _, channel = network
    with django_assert_num_queries(1):  # the caps are a subquery of the same statement
        totals = network_atp(sku_ids=[s.pk for s in skus], channel=channel)
    assert totals[skus[2].pk] == 4 * (10 - 1 - 1)


def test_nearest_stores_with_stock_adds_one_location_query(network, django_assert_num_queries):
    skus, stores, channel = network
    # Fewer stores than the 20 asked for: still one query ranks them all.
    with django_assert_num_queries(2):
        nearby = nearest_locations_with_stock(lines={s.pk: 1 for s in skus}, lat=51.5, lon=-0.1, channel=channel)
    assert [n.location for n in nearby] == stores
    assert [sum(n.available.values()) > 0 for n in nearby] == [True] * 4 + [False] * 2


def test_resolving_codes_tries_skus_then_barcodes_then_aliases_then_skus_in_any_case(
    network, django_assert_num_queries
):
    skus, _, channel = network
    Barcode.objects.create(code=gtin13(1), sku=skus[1])
    SkuAlias.objects.create(channel=channel, code="MKT-0003", sku=skus[2])
    codes = [skus[0].code, gtin13(1), "MKT-0003", "unknown"]
    with django_assert_num_queries(4):  # what none of them knows is tried as a SKU code in any case
        found = skus_resolve(codes=codes, channel=channel)
    assert found == {skus[0].code: skus[0], gtin13(1): skus[1], "MKT-0003": skus[2]}


def test_reserving_three_lines_costs_a_fixed_set_of_queries_plus_one_update_per_line(
    network, django_assert_num_queries
):
    skus, stores, channel = network
    lines = [StockRequest(skus[i], stores[i], 1) for i in range(3)]
    # stock rows (with the channel's permission and expired-hold flags), locking the
    # expired hold, 3 guarded UPDATEs, channel caps, closing the hold, the ledger INSERT
    # and the reservations INSERT; no savepoint of its own (a shortfall takes its UPDATEs back)
    with django_assert_num_queries(9):
        reservations = stock_reserve(requests=lines, owner_ref="order:1", channel=channel)
    assert len(reservations) == 3
    # One line with no expired hold on its row and no cap on its SKU: one guarded UPDATE
    # finds and moves the row, then the ledger INSERT and the reservations INSERT.
    with django_assert_num_queries(3):
        stock_reserve(requests=lines[:1], owner_ref="order:2", channel=channel)


def test_releasing_costs_a_fixed_set_of_queries_plus_one_update_per_stock_row(network, django_assert_num_queries):
    skus, stores, channel = network
    reservations = stock_reserve(
        requests=[StockRequest(skus[i], stores[i], 1) for i in range(3)], owner_ref="order:1", channel=channel
    )
    # savepoint, locking the reservations, 3 UPDATEs, channel caps, closing them, the
    # ledger INSERT, the one read of backorders waiting for what was freed, release savepoint
    with django_assert_num_queries(10):
        released = reservations_release(reservations=reservations, reason="cancelled")
    assert [r.pk for r in released] == sorted(r.pk for r in reservations)
    assert {r.status for r in released} == {Reservation.Status.RELEASED}
    assert Reservation.objects.filter(owner_ref="order:1", status=Reservation.Status.RELEASED).count() == 3
    with django_assert_num_queries(3):  # already closed: savepoint, the lock finds nothing, release savepoint
        assert reservations_release(reservations=reservations, reason="again") == []
