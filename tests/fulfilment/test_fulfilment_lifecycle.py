import time

import pytest

from core.errors import InvalidInput
from fulfilment.actions import fulfilment_accept, fulfilment_decline, fulfilment_pack, fulfilment_pick, fulfilment_ship
from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_collect, fulfilment_ready, fulfilment_resend_pickup_code, pickups_expire
from inventory.models import StockMovement
from inventory.selectors import inventory_discrepancies
from oms.exceptions import TransitionNotAllowed
from oms.models import Order, OutboxEvent
from oms.selectors import order_timeline
from oms.services import note_add, order_cancel
from tests.orders_support import place

pytestmark = pytest.mark.django_db


def test_ship_from_store_commits_the_stock(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    order = place(network, [(a, 2)])
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={a.code: 2})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="TRK1")
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    level = network.level(network.soho, a)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert inventory_discrepancies() == []


def test_invalid_transition_names_the_allowed_actions(network):
    a = network.skus[0]
    network.stock(network.soho, a, 5)
    f = place(network, [(a, 1)]).fulfilments.get()
    with pytest.raises(TransitionNotAllowed) as exc:
        fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T")
    assert exc.value.allowed == ["accept", "cancel", "decline"]
    assert Fulfilment.objects.get(pk=f.pk).status == "pending"


def test_decline_reroutes_to_the_next_best_location_and_corrects_stock(network):
    a = network.skus[0]
    network.stock(network.soho, a, 3)
    network.stock(network.camden, a, 3)
    order = place(network, [(a, 2)])
    soho = order.fulfilments.get()
    assert soho.location == network.soho
    fulfilment_decline(fulfilment=soho, reason_code="damaged")
    order.refresh_from_db()
    new = order.fulfilments.exclude(pk=soho.pk).get()
    assert new.location == network.camden
    assert network.level(network.soho, a).on_hand == 1  # the two damaged units were written off
    assert StockMovement.objects.filter(kind="write_off", stock_level__location=network.soho).exists()
    assert network.level(network.camden, a).reserved == 2
    note_add(order=order, text="Customer asked for the parcel to go to a neighbour.")
    texts = [e.text for e in order_timeline(order=order)]
    assert any("decline" in t for t in texts)
    assert texts[-1] == "Customer asked for the parcel to go to a neighbour."
    assert "ST-SOHO declined (damaged)" in order.routing["reason"]
    assert inventory_discrepancies() == []


@pytest.mark.parametrize("reason", ["damaged", "not_in_stock"])
def test_a_fulfilment_whose_line_was_cancelled_can_still_be_declined(network, reason):
    a, b = network.skus[:2]
    network.stock(network.soho, a, 3)
    network.stock(network.soho, b, 3)
    network.stock(network.camden, b, 3)
    order = place(network, [(a, 1), (b, 2)])
    soho = order.fulfilments.get()
    order_cancel(order=order, reason="customer changed their mind", lines={order.lines.get(sku=a).pk: 1})
    fulfilment_decline(fulfilment=soho, reason_code=reason)
    order.refresh_from_db()
    assert Fulfilment.objects.get(pk=soho.pk).status == "declined"
    assert order.fulfilments.get(status="pending").location == network.camden
    assert (network.level(network.soho, a).on_hand, network.level(network.soho, b).on_hand) == (3, 1)
    assert inventory_discrepancies() == []


def test_short_pick_reroutes_the_rest(network):
    a = network.skus[0]
    network.stock(network.soho, a, 3)
    network.stock(network.camden, a, 3)
    order = place(network, [(a, 3)])
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={a.code: 1})
    rest = order.fulfilments.exclude(pk=f.pk).get()
    assert (rest.location, rest.lines.get().quantity) == (network.camden, 2)
    assert network.level(network.soho, a).on_hand == 1  # two were not there
    assert inventory_discrepancies() == []


def test_a_pick_counts_units_per_sku_across_lines_that_carry_the_same_sku(network):
    a = network.skus[0]
    network.stock(network.soho, a, 4)
    network.stock(network.camden, a, 4)
    order = place(network, [(a, 2), (a, 2)])
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    with pytest.raises(InvalidInput, match="does not match"):
        fulfilment_pick(fulfilment=f, picked={a.code: 5})
    fulfilment_pick(fulfilment=f, picked={a.code: 3})
    f.refresh_from_db()
    assert sorted(f.lines.values_list("quantity", "picked_quantity")) == [(1, 1), (2, 2)]
    rest = order.fulfilments.exclude(pk=f.pk).get()
    assert (rest.location, sum(rest.lines.values_list("quantity", flat=True))) == (network.camden, 1)
    assert inventory_discrepancies() == []


def _parcel_on_the_shelf(network):
    a = network.skus[0]
    network.stock(network.camden, a, 2)
    order = place(network, [(a, 1)], method="pickup", store=network.camden)
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={a.code: 1})
    fulfilment_ready(fulfilment=f)
    f.refresh_from_db()
    return f, ("000000" if f.pickup_code != "000000" else "111111")


def test_pickup_ready_then_collect_with_the_code(network):
    f, wrong = _parcel_on_the_shelf(network)
    order = f.order
    assert order.status == Order.Status.READY_FOR_PICKUP
    assert len(f.pickup_code) == 6
    with pytest.raises(InvalidInput):
        fulfilment_collect(fulfilment=f, pickup_code=wrong)
    assert Fulfilment.objects.get(pk=f.pk).status == "ready_for_pickup"
    fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    order.refresh_from_db()
    assert order.status == Order.Status.COMPLETED
    assert network.level(network.camden, network.skus[0]).on_hand == 1


def test_too_many_wrong_pickup_codes_lock_the_parcel_until_the_code_is_resent(network, settings):
    settings.OMS_PICKUP_CODE_MAX_MISSES = 3
    f, wrong = _parcel_on_the_shelf(network)
    for left in (2, 1):
        with pytest.raises(InvalidInput, match=f"{left} attempt"):
            fulfilment_collect(fulfilment=f, pickup_code=wrong)
    with pytest.raises(InvalidInput, match="Too many wrong pickup codes"):
        fulfilment_collect(fulfilment=f, pickup_code=wrong)
    with pytest.raises(InvalidInput, match="Too many wrong pickup codes"):  # even the right code, while locked
        fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    assert Fulfilment.objects.get(pk=f.pk).status == "ready_for_pickup"

    fulfilment_resend_pickup_code(fulfilment=f)
    fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    assert Fulfilment.objects.get(pk=f.pk).status == "collected"


def test_a_pickup_code_lock_lifts_by_itself_after_the_lock_time(network, settings):
    settings.OMS_PICKUP_CODE_MAX_MISSES, settings.OMS_PICKUP_CODE_LOCK_MINUTES = 1, 0.01  # 0.6 s
    f, wrong = _parcel_on_the_shelf(network)
    with pytest.raises(InvalidInput, match="Too many wrong pickup codes"):
        fulfilment_collect(fulfilment=f, pickup_code=wrong)
    with pytest.raises(InvalidInput, match="Too many wrong pickup codes"):
        fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    time.sleep(0.8)
    fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    assert Fulfilment.objects.get(pk=f.pk).status == "collected"


def test_uncollected_pickup_expires_releasing_stock_and_requesting_a_refund(network, settings):
    from datetime import timedelta

    from django.utils import timezone

    a = network.skus[0]
    network.stock(network.camden, a, 2)
    order = place(network, [(a, 2)], method="pickup", store=network.camden)
    f = order.fulfilments.get()
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={a.code: 2})
    fulfilment_ready(fulfilment=f)
    later = timezone.now() + timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS, hours=1)
    assert pickups_expire(now=later) == 1
    assert pickups_expire(now=later) == 0
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert network.level(network.camden, a).reserved == 0
    refund = OutboxEvent.objects.get(type="refund.requested")
    assert refund.data["amount"] == "20.00"
