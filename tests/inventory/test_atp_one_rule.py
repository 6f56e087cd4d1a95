"""The rule's two renderings, the selectors, the ranked candidate read and the guarded reservation
agree on ATP, over random stock.

Random stock rows, safety stock (the location's and per-SKU overrides), checkout holds
(some expired), an inactive location, a channel buffer, a sells-from list and caps: the
ORM form (``available_stock``) and ``stock_availability`` must give what the written rule
says; the SQL form's candidate read (``stock_near``) the same positive figures at the
locations the written ranking keeps and the same network totals as ``network_atp``; the
SQL form's reservation row read (``inventory.sql.stock_guards``) the same kept-back units
and expired holds as the ORM terms; and a reservation of exactly ATP units must succeed
where ATP + 1 fails. Run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inventory.atp import available_stock, expired_holds, kept_back, network_atp
from inventory.availability import stock_availability
from inventory.exceptions import InsufficientStock
from inventory.models import ChannelCap, Reservation, SafetyStock, StockLevel
from inventory.nearby import stock_near
from inventory.reservations import StockRequest, stock_reserve
from inventory.sql import stock_guards
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

SKUS, LOCATIONS = 2, 3
small = st.integers(0, 3)
row = st.fixed_dictionaries(
    {
        "on_hand": st.integers(0, 12),
        "reserved": st.integers(0, 4),
        "live_hold": small,
        "expired_hold": small,
        "safety_override": st.none() | small,
    }
)
world = st.fixed_dictionaries(
    {
        "rows": st.lists(st.none() | row, min_size=SKUS * LOCATIONS, max_size=SKUS * LOCATIONS),
        "location_safety": st.lists(small, min_size=LOCATIONS, max_size=LOCATIONS),
        "inactive": st.none() | st.integers(0, LOCATIONS - 1),
        "sells_from": st.lists(st.booleans(), min_size=LOCATIONS, max_size=LOCATIONS),
        "buffer": st.integers(0, 2),
        "caps": st.lists(st.none() | st.tuples(st.integers(0, 15), st.integers(0, 5)), min_size=SKUS, max_size=SKUS),
        "limit": st.integers(1, LOCATIONS),
        "quantities": st.lists(st.integers(1, 4), min_size=SKUS, max_size=SKUS),
        "whole_only": st.booleans(),
    }
)


def build(data):
    """The random world in the database; return the SKUs, locations, channel and the rule's ATP written out."""
    skus = SkuFactory.create_batch(SKUS)
    locations = [
        LocationFactory(lat=51.5 + i / 100, lon=-0.1, safety_stock=safety, active=i != data["inactive"])
        for i, safety in enumerate(data["location_safety"])
    ]
    channel = ChannelFactory(buffer=data["buffer"])
    channel.sells_from.set([loc for loc, sells in zip(locations, data["sells_from"], strict=True) if sells])
    allowed = {loc.pk for loc in channel.sells_from.all()} or {loc.pk for loc in locations}
    for sku, cap in zip(skus, data["caps"], strict=True):
        if cap is not None:
            ChannelCap.objects.create(channel=channel, sku=sku, quantity=cap[0] + cap[1], used=cap[1])
    now, expected = timezone.now(), {}
    pairs = [(sku, loc) for sku in skus for loc in locations]
    for (sku, loc), values in zip(pairs, data["rows"], strict=True):
        if values is None:
            continue
        held = values["live_hold"] + values["expired_hold"]
        level = StockLevel.objects.create(
            sku=sku,
            location=loc,
            on_hand=values["on_hand"] + values["reserved"] + held,
            reserved=values["reserved"] + held,
        )
        for quantity, expires_at in (
            (values["live_hold"], now + timedelta(hours=1)),
            (values["expired_hold"], now - timedelta(minutes=1)),
        ):
            if quantity:
                Reservation.objects.create(
                    owner_ref="hold:x", stock_level=level, quantity=quantity, expires_at=expires_at
                )
        safety = loc.safety_stock
        if values["safety_override"] is not None:
            SafetyStock.objects.create(sku=sku, location=loc, quantity=values["safety_override"])
            safety = values["safety_override"]
        if loc.active and loc.pk in allowed:
            free = values["on_hand"] + values["expired_hold"] - safety - channel.buffer
            expected[(sku.pk, loc.pk)] = max(0, free)
    return skus, locations, channel, expected


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=world)
def test_selectors_candidate_read_and_reservation_agree(data):
    with transaction.atomic():
        skus, locations, channel, expected = build(data)
        sku_ids = [s.pk for s in skus]

        assert stock_availability(sku_ids=sku_ids, channel=channel) == expected
        orm_form = available_stock(channel=channel).filter(sku_id__in=sku_ids)
        assert dict(((s, loc), atp) for s, loc, atp in orm_form.values_list("sku_id", "location_id", "atp")) == expected

        now = timezone.now()
        pairs = [(s.pk, loc.pk) for s in skus for loc in locations]
        orm_terms = StockLevel.objects.filter(sku_id__in=sku_ids).values_list(
            "sku_id", "location_id", kept_back(channel), expired_holds(now)
        )
        assert {
            key: (guard.kept_back, guard.has_expired_hold)
            for key, guard in stock_guards(pairs=pairs, channel=channel, now=now).items()
        } == {(s, loc): (held, expired > 0) for s, loc, held, expired in orm_terms}

        quantities = dict(zip(sku_ids, data["quantities"], strict=True))
        ranked = stock_near(
            sku_ids=sku_ids, channel=channel, near=(51.5, -0.1), limit=data["limit"],
            quantities=quantities, whole_only=data["whole_only"],
        )  # fmt: skip
        kept = best_placed(expected, locations, quantities, data["limit"], data["whole_only"])
        assert ranked.available == {key: atp for key, atp in expected.items() if atp > 0 and key[1] in kept}

        near = stock_near(
            sku_ids=sku_ids, channel=channel, near=(51.5, -0.1), limit=LOCATIONS, at=[loc.pk for loc in locations]
        )
        positive = {key: atp for key, atp in expected.items() if atp > 0}
        assert near.available == positive
        assert near.at == positive
        assert near.network == network_atp(sku_ids=sku_ids, channel=channel)

        caps = dict(ChannelCap.objects.filter(channel=channel).values_list("sku_id", "quantity"))
        used = dict(ChannelCap.objects.filter(channel=channel).values_list("sku_id", "used"))
        for sku in skus:
            for loc in locations:
                atp = expected.get((sku.pk, loc.pk), 0)
                reservable = atp if sku.pk not in caps else min(atp, caps[sku.pk] - used[sku.pk])
                if reservable:
                    assert reserves(sku, loc, channel, reservable)
                assert not reserves(sku, loc, channel, reservable + 1)
        transaction.set_rollback(True)


def best_placed(expected, locations, quantities, limit, whole_only) -> set[int]:
    """The locations the written ranking keeps: most lines filled in full, then most SKUs held, then
    nearest (the locations lie north of the point in their order), then id."""
    by_location = defaultdict(dict)
    for (sku_id, location_id), atp in expected.items():
        if atp > 0:
            by_location[location_id][sku_id] = atp
    order = {loc.pk: i for i, loc in enumerate(locations)}

    def filled(location_id):
        return sum(atp >= quantities[s] for s, atp in by_location[location_id].items())

    best = sorted(by_location, key=lambda loc: (-filled(loc), -len(by_location[loc]), order[loc], loc))[:limit]
    if whole_only and best and filled(best[0]) == len(quantities):
        best = [loc for loc in best if filled(loc) == len(quantities)]
    return set(best)


def reserves(sku, location, channel, quantity) -> bool:
    """Whether a reservation of ``quantity`` goes through; nothing it does is kept."""
    with transaction.atomic():
        try:
            stock_reserve(requests=[StockRequest(sku, location, quantity)], owner_ref="order:x", channel=channel)
        except InsufficientStock:
            return False
        transaction.set_rollback(True)
    return True
