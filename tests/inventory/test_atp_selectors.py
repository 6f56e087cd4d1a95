"""``stock_near``: routing's best-placed locations with their ATP, and network ATP, from one statement.

Its figures must be those of ``stock_availability`` and ``network_atp``, which the
checkout and reservation paths use: the same safety stock, buffer, caps, expired holds
and channel locations.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from inventory.atp import network_atp
from inventory.availability import stock_availability
from inventory.models import ChannelCap, Reservation, SafetyStock
from inventory.nearby import stock_near
from inventory.reservations import StockRequest, hold_place
from inventory.services import stock_receive
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

LONDON = (51.5, -0.12)


@pytest.fixture
def network():
    """Three SKUs at stores every ~11 km north of London; the channel sells from all but the last."""
    skus = SkuFactory.create_batch(3)
    stores = [LocationFactory(lat=51.5 + i / 10, lon=-0.12, safety_stock=1) for i in range(8)]
    holdings = {0: [0], 1: [0, 1], 2: [], 3: [0, 1, 2], 4: [2], 5: [0, 1, 2], 6: [1], 7: [0, 1, 2]}
    for store, held in holdings.items():
        for sku in held:
            stock_receive(sku=skus[sku], location=stores[store], quantity=5)
    channel = ChannelFactory(buffer=1)
    channel.sells_from.set(stores[:7])
    return skus, stores, channel


def test_keeps_the_locations_holding_the_most_skus_nearest_first(network):
    skus, stores, channel = network

    sku_ids = [s.pk for s in skus]

    found = stock_near(sku_ids=sku_ids, channel=channel, near=LONDON, limit=3)

    # Every SKU at stores 3 and 5 (3 is nearer), then two of them at store 1; store 7 is not the channel's.
    kept = {stores[3].pk, stores[5].pk, stores[1].pk}
    assert {location for _, location in found.available} == kept
    everywhere = stock_availability(sku_ids=sku_ids, channel=channel)
    assert found.available == {key: atp for key, atp in everywhere.items() if key[1] in kept}
    assert set(found.available.values()) == {5 - 1 - 1}  # safety stock and the channel's buffer


def test_network_atp_counts_every_location_and_applies_safety_holds_and_caps(network):
    skus, stores, channel = network
    SafetyStock.objects.create(sku=skus[0], location=stores[0], quantity=4)  # nothing left to promise there
    hold = hold_place(requests=[StockRequest(skus[1], stores[6], 3)], channel=None, ttl=timedelta(minutes=15))
    Reservation.objects.filter(owner_ref=hold).update(expires_at=timezone.now() - timedelta(seconds=1))
    ChannelCap.objects.create(channel=channel, sku=skus[2], quantity=10, used=4)
    sku_ids = [s.pk for s in skus]

    found = stock_near(sku_ids=sku_ids, channel=channel, near=LONDON, limit=1)

    assert found.network == network_atp(sku_ids=sku_ids, channel=channel)
    assert found.network == {skus[0].pk: 3 * 3, skus[1].pk: 4 * 3, skus[2].pk: 10 - 4}
    assert (skus[0].pk, stores[0].pk) not in stock_near(
        sku_ids=sku_ids, channel=channel, near=LONDON, limit=9
    ).available


def test_without_a_limit_in_reach_it_is_the_channels_positive_atp(network):
    skus, _, channel = network
    sku_ids = [s.pk for s in skus]

    found = stock_near(sku_ids=sku_ids, channel=channel, near=LONDON, limit=100)

    assert found.available == {k: v for k, v in stock_availability(sku_ids=sku_ids, channel=channel).items() if v}


def test_the_locations_asked_for_get_their_atp_whether_kept_or_not(network):
    skus, stores, channel = network
    sku_ids = [s.pk for s in skus]
    asked = [stores[0].pk, stores[3].pk, stores[7].pk]  # not kept, kept, not the channel's

    found = stock_near(sku_ids=sku_ids, channel=channel, near=LONDON, limit=3, at=asked)

    assert {location for _, location in found.available} == {stores[3].pk, stores[5].pk, stores[1].pk}
    everywhere = stock_availability(sku_ids=sku_ids, location_ids=asked, channel=channel)
    assert found.at == {key: atp for key, atp in everywhere.items() if atp}
    assert {location for _, location in found.at} == {stores[0].pk, stores[3].pk}


def test_a_channel_naming_no_locations_sells_from_every_one(network):
    skus, stores, _ = network
    sku_ids = [s.pk for s in skus]
    everywhere = ChannelFactory(buffer=1)

    found = stock_near(sku_ids=sku_ids, channel=everywhere, near=LONDON, limit=100, at=[stores[7].pk])

    assert found.available == {k: v for k, v in stock_availability(sku_ids=sku_ids, channel=everywhere).items() if v}
    assert {location for _, location in found.at} == {stores[7].pk}


def test_one_statement_the_channels_locations_included(network, django_assert_num_queries):
    skus, stores, channel = network
    with django_assert_num_queries(1):
        stock_near(sku_ids=[s.pk for s in skus], channel=channel, near=LONDON, limit=3, at=[stores[0].pk])
    with django_assert_num_queries(0):
        assert stock_near(sku_ids=[], channel=channel, near=LONDON, limit=3) == ({}, {}, {})
