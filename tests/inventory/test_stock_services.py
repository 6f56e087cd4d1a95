from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import InvalidInput
from inventory.atp import network_atp
from inventory.availability import stock_available
from inventory.exceptions import InsufficientStock, StockConflict
from inventory.models import AdjustmentReason, ChannelCap, Reservation, SafetyStock, StockLevel, StockMovement
from inventory.reservations import (
    StockRequest,
    hold_convert,
    hold_place,
    holds_release_expired,
    reservations_commit,
    reservations_release,
    stock_reserve,
)
from inventory.selectors import inventory_discrepancies
from inventory.services import stock_adjust, stock_count, stock_receive
from inventory.transfers import transfer_receive, transfer_send
from tests.factories import SkuFactory

pytestmark = pytest.mark.django_db


def level(sku, location) -> StockLevel:
    return StockLevel.objects.get(sku=sku, location=location)


def test_receive_adds_on_hand_and_writes_the_ledger(sku, store):
    stock_receive(sku=sku, location=store, quantity=5, reference="PO-1")
    assert level(sku, store).on_hand == 5
    movement = StockMovement.objects.get()
    assert (movement.kind, movement.on_hand_delta, movement.reference) == ("receipt", 5, "PO-1")


@pytest.mark.parametrize("quantity", [0, -3])
def test_receive_refuses_non_positive_quantities_and_changes_nothing(sku, store, quantity):
    with pytest.raises(InvalidInput) as exc:
        stock_receive(sku=sku, location=store, quantity=quantity)
    assert "quantity" in exc.value.errors
    assert not StockMovement.objects.exists()


def test_adjust_below_reserved_is_refused(sku, store):
    stock_receive(sku=sku, location=store, quantity=5)
    stock_reserve(requests=[StockRequest(sku, store, 4)], owner_ref="order:1")
    with pytest.raises(StockConflict):
        stock_adjust(sku=sku, location=store, delta=-2, reason=AdjustmentReason.DAMAGED)
    assert (level(sku, store).on_hand, level(sku, store).reserved) == (5, 4)
    stock_adjust(sku=sku, location=store, delta=-1, reason=AdjustmentReason.DAMAGED)
    assert level(sku, store).on_hand == 4


def test_count_records_the_variance(sku, store):
    stock_receive(sku=sku, location=store, quantity=10)
    stock_count(sku=sku, location=store, counted=7)
    movement = StockMovement.objects.filter(kind="count").get()
    assert movement.on_hand_delta == -3
    assert level(sku, store).on_hand == 7


def test_count_below_reserved_is_refused(sku, store):
    stock_receive(sku=sku, location=store, quantity=10)
    stock_reserve(requests=[StockRequest(sku, store, 6)], owner_ref="order:1")
    with pytest.raises(StockConflict, match="6 are reserved"):
        stock_count(sku=sku, location=store, counted=5)
    assert level(sku, store).on_hand == 10


def test_reservation_reports_every_short_line_and_reserves_nothing(store, warehouse):
    a, b, c = SkuFactory(), SkuFactory(), SkuFactory()
    stock_receive(sku=a, location=store, quantity=5)
    stock_receive(sku=b, location=store, quantity=1)
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(
            requests=[StockRequest(a, store, 2), StockRequest(b, store, 3), StockRequest(c, warehouse, 1)],
            owner_ref="order:1",
        )
    short = {(s.sku, s.requested, s.available) for s in exc.value.shortfalls}
    assert short == {(b.code, 3, 1), (c.code, 1, 0)}
    assert level(a, store).reserved == 0
    assert not Reservation.objects.exists()


def test_safety_stock_and_channel_buffer_are_never_promised(sku, store, channel):
    stock_receive(sku=sku, location=store, quantity=10)
    store.safety_stock = 2
    store.save()
    channel.buffer = 1
    channel.save()
    assert stock_available(sku=sku, location=store) == 8
    assert stock_available(sku=sku, location=store, channel=channel) == 7
    SafetyStock.objects.create(sku=sku, location=store, quantity=5)
    assert stock_available(sku=sku, location=store, channel=channel) == 4
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(requests=[StockRequest(sku, store, 5)], owner_ref="o", channel=channel)
    assert exc.value.shortfalls[0].available == 4
    stock_reserve(requests=[StockRequest(sku, store, 4)], owner_ref="o", channel=channel)
    assert stock_available(sku=sku, location=store, channel=channel) == 0


def test_channel_may_only_sell_from_its_locations(sku, store, warehouse, channel):
    stock_receive(sku=sku, location=store, quantity=3)
    stock_receive(sku=sku, location=warehouse, quantity=10)
    channel.sells_from.set([warehouse])
    assert network_atp(sku_ids=[sku.pk], channel=channel) == {sku.pk: 10}
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(requests=[StockRequest(sku, store, 1)], owner_ref="o", channel=channel)
    assert exc.value.shortfalls[0].reason == "location_not_allowed"


def test_channel_cap_limits_a_flash_sale(sku, store, warehouse, channel):
    stock_receive(sku=sku, location=store, quantity=50)
    ChannelCap.objects.create(channel=channel, sku=sku, quantity=3)
    assert network_atp(sku_ids=[sku.pk], channel=channel) == {sku.pk: 3}
    [r] = stock_reserve(requests=[StockRequest(sku, store, 2)], owner_ref="o1", channel=channel)
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(requests=[StockRequest(sku, store, 2)], owner_ref="o2", channel=channel)
    assert exc.value.shortfalls[0].reason == "channel_cap"
    reservations_release(reservations=[r], reason="cancelled")
    assert network_atp(sku_ids=[sku.pk], channel=channel) == {sku.pk: 3}


def test_a_refused_reservation_takes_back_what_it_moved_and_the_transaction_goes_on(store, channel):
    """Without a savepoint of its own, a refusal after some rows moved must leave them as they were."""
    a, b = SkuFactory(), SkuFactory()
    for sku in (a, b):
        stock_receive(sku=sku, location=store, quantity=10)
        ChannelCap.objects.create(channel=channel, sku=sku, quantity=3)
    both = [StockRequest(a, store, 2), StockRequest(b, store, 4)]
    with pytest.raises(InsufficientStock) as exc:  # stock is there; b's cap refuses
        stock_reserve(requests=both, owner_ref="o1", channel=channel)
    assert [(s.sku, s.reason, s.available) for s in exc.value.shortfalls] == [(b.code, "channel_cap", 3)]
    assert [level(sku, store).reserved for sku in (a, b)] == [0, 0]
    assert list(ChannelCap.objects.order_by("sku_id").values_list("used", flat=True)) == [0, 0]
    with pytest.raises(InsufficientStock):  # a's stock row moves, b's is short
        stock_reserve(requests=[StockRequest(a, store, 2), StockRequest(b, store, 11)], owner_ref="o2")
    assert level(a, store).reserved == 0
    stock_reserve(requests=[StockRequest(a, store, 2), StockRequest(b, store, 3)], owner_ref="o3", channel=channel)
    assert [level(sku, store).reserved for sku in (a, b)] == [2, 3]
    assert list(ChannelCap.objects.order_by("sku_id").values_list("used", flat=True)) == [2, 3]
    assert inventory_discrepancies() == []


def test_commit_drops_on_hand_and_reserved(sku, store):
    stock_receive(sku=sku, location=store, quantity=5)
    reservations = stock_reserve(requests=[StockRequest(sku, store, 3)], owner_ref="order:9")
    reservations_commit(reservations=reservations, reference="order:9")
    assert (level(sku, store).on_hand, level(sku, store).reserved) == (2, 0)
    assert inventory_discrepancies() == []


def test_partial_release_keeps_the_rest_reserved(sku, store):
    stock_receive(sku=sku, location=store, quantity=5)
    [r] = stock_reserve(requests=[StockRequest(sku, store, 3)], owner_ref="order:9")
    reservations_release(reservations=[r], quantities={r.pk: 1}, reason="line_cancelled")
    assert level(sku, store).reserved == 2
    assert Reservation.objects.get(pk=r.pk).quantity == 2
    reservations_release(reservations=[r], reason="again")
    reservations_release(reservations=[r], reason="twice is harmless")
    assert level(sku, store).reserved == 0
    assert inventory_discrepancies() == []


def test_transfer_is_in_transit_then_received(sku, store, warehouse):
    stock_receive(sku=sku, location=warehouse, quantity=10)
    transfer = transfer_send(
        source=warehouse, destination=store, lines=[(sku, 4)], expected_at=timezone.now() + timedelta(days=2)
    )
    assert level(sku, warehouse).on_hand == 6
    assert not StockLevel.objects.filter(sku=sku, location=store, on_hand__gt=0).exists()
    transfer_receive(transfer=transfer)
    assert level(sku, store).on_hand == 4
    with pytest.raises(StockConflict):
        transfer_receive(transfer=transfer)
    assert level(sku, store).on_hand == 4
    assert inventory_discrepancies() == []


def test_expired_holds_are_ignored_by_atp_and_released_by_the_job(sku, store):
    stock_receive(sku=sku, location=store, quantity=3)
    hold_place(requests=[StockRequest(sku, store, 3)], channel=None, ttl=timedelta(minutes=10))
    assert stock_available(sku=sku, location=store) == 0
    later = timezone.now() + timedelta(minutes=11)
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert stock_available(sku=sku, location=store) == 3
    # A new order may take the units before the job has run.
    stock_reserve(requests=[StockRequest(sku, store, 2)], owner_ref="order:1")
    assert level(sku, store).reserved == 2
    assert holds_release_expired(now=later) == 0
    assert inventory_discrepancies() == []


def test_the_job_releases_more_holds_than_one_ledger_insert_may_carry(sku, store):
    # Django gives SQLite 999 parameters a statement (8 a ledger row): the rows go in several INSERTs.
    stock_receive(sku=sku, location=store, quantity=300)
    for _ in range(130):
        hold_place(requests=[StockRequest(sku, store, 2)], channel=None, ttl=timedelta(minutes=10))
    assert holds_release_expired(now=timezone.now() + timedelta(minutes=11)) == 130
    assert level(sku, store).reserved == 0
    assert StockMovement.objects.filter(kind="release", reason="hold_expired").count() == 130
    assert inventory_discrepancies() == []


def test_hold_converts_to_an_order_without_reserving_twice(sku, store):
    stock_receive(sku=sku, location=store, quantity=3)
    hold = hold_place(requests=[StockRequest(sku, store, 2)], channel=None, ttl=timedelta(minutes=10))
    hold_convert(hold_ref=hold, owner_ref="order:5")
    assert level(sku, store).reserved == 2
    assert holds_release_expired(now=timezone.now() + timedelta(hours=1)) == 0
    assert Reservation.objects.get().owner_ref == "order:5"


def test_future_atp_adds_inbound_transfers_by_expected_date(sku, store, warehouse):
    from inventory.availability import future_atp, ready_at

    stock_receive(sku=sku, location=store, quantity=1)
    stock_receive(sku=sku, location=warehouse, quantity=10)
    soon, later = timezone.now() + timedelta(days=1), timezone.now() + timedelta(days=3)
    transfer_send(source=warehouse, destination=store, lines=[(sku, 2)], expected_at=later)
    transfer_send(source=None, destination=store, lines=[(sku, 3)], expected_at=soon)
    assert [q for _, q in future_atp(sku=sku, location=store)] == [1, 4, 6]
    assert ready_at(lines={sku.pk: 1}, location=store) <= timezone.now()
    assert ready_at(lines={sku.pk: 4}, location=store) == soon
    assert ready_at(lines={sku.pk: 6}, location=store) == later
    assert ready_at(lines={sku.pk: 7}, location=store) is None
