"""Transfers between locations as documents: requested (reserved at the source), shipped
(committed, on hand leaves the source), received (on hand arrives), or cancelled; every
refused step says why and changes nothing."""

from __future__ import annotations

import pytest

from core.errors import InvalidInput, NotPermitted
from inventory.availability import stock_available
from inventory.exceptions import InsufficientStock, StockConflict
from inventory.models import ChannelCap, Reservation, StockLevel, StockMovement, Transfer, TransferLine
from inventory.reservations import StockRequest, stock_reserve
from inventory.selectors import inventory_discrepancies, transfers_inbound, transfers_to_ship
from inventory.services import stock_receive
from inventory.transfers import (
    transfer_cancel,
    transfer_own_ref,
    transfer_receive,
    transfer_reduce,
    transfer_request,
    transfer_ship,
)
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db
S = Transfer.Status


def stock(sku, location) -> tuple[int, int]:
    row = StockLevel.objects.filter(sku=sku, location=location).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


def snapshot():
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        sorted(Transfer.objects.values_list("pk", "status", "shipped_at", "received_at", "cancelled_at")),
        sorted(TransferLine.objects.values_list("pk", "quantity")),
        sorted(Reservation.objects.values_list("pk", "status", "quantity")),
        StockMovement.objects.count(),
    )


@pytest.fixture
def other_store(db):
    return LocationFactory(kind="store", pickup=True, name="Camden")


def test_a_rebalancing_transfer_is_reserved_shipped_and_received(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=10)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 4)])
    assert transfer.status == S.REQUESTED
    assert stock(sku, other_store) == (10, 4)
    assert stock_available(sku=sku, location=other_store) == 6
    assert transfers_to_ship(location=other_store) == [transfer]
    assert transfers_inbound(location=store) == [transfer]

    transfer_ship(transfer=transfer, at=other_store, carrier="DPD", tracking="DPD1")
    transfer.refresh_from_db()
    assert (transfer.status, transfer.carrier, transfer.tracking) == (S.IN_TRANSIT, "DPD", "DPD1")
    assert transfer.shipped_at is not None
    assert stock(sku, other_store) == (6, 0)
    assert transfers_to_ship(location=other_store) == []
    assert Reservation.objects.get(owner_ref=transfer_own_ref(transfer)).status == Reservation.Status.COMMITTED

    transfer_receive(transfer=transfer, at=store)
    transfer.refresh_from_db()
    assert transfer.status == S.RECEIVED and transfer.received_at is not None
    assert stock(sku, store) == (4, 0)
    assert transfers_inbound(location=store) == []
    ledger = StockMovement.objects.filter(reference__in=[transfer.reference, transfer_own_ref(transfer)]).order_by("pk")
    assert list(ledger.values_list("kind", "stock_level__location", "on_hand_delta", "reserved_delta")) == [
        ("reservation", other_store.pk, 0, 4),
        ("dispatch", other_store.pk, -4, -4),
        ("transfer_in", store.pk, 4, 0),
    ]
    assert inventory_discrepancies() == []


def test_a_rebalancing_transfer_the_source_cannot_cover_is_refused_whole(sku, store, other_store):
    second = SkuFactory()
    stock_receive(sku=sku, location=other_store, quantity=10)
    stock_receive(sku=second, location=other_store, quantity=1)
    before = snapshot()
    with pytest.raises(InsufficientStock) as refused:
        transfer_request(source=other_store, destination=store, lines=[(sku, 2), (second, 3)])
    assert [(s.sku, s.requested, s.available) for s in refused.value.shortfalls] == [(second.code, 3, 1)]
    assert snapshot() == before


def test_cancelling_a_requested_transfer_gives_its_reservation_back(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 5)])
    transfer_cancel(transfer=transfer)
    transfer.refresh_from_db()
    assert transfer.status == S.CANCELLED and transfer.cancelled_at is not None
    assert stock(sku, other_store) == (5, 0)
    assert inventory_discrepancies() == []


def test_an_orders_transfer_ships_the_orders_reservation_and_receives_it_reserved_for_the_order(sku, store, warehouse):
    web = ChannelFactory()
    ChannelCap.objects.create(channel=web, sku=sku, quantity=10)
    stock_receive(sku=sku, location=warehouse, quantity=8)
    stock_reserve(requests=[StockRequest(sku, warehouse, 3)], owner_ref="order:77", channel=web)
    transfer = transfer_request(
        source=warehouse, destination=store, lines=[(sku, 3)], owner_ref="order:77", channel=web
    )
    assert stock(sku, warehouse) == (8, 3)  # the order's reservation, not a second one
    transfer_ship(transfer=transfer)
    assert stock(sku, warehouse) == (5, 0)
    transfer_receive(transfer=transfer, reserve={sku.pk: 3})
    assert stock(sku, store) == (3, 3)
    held = Reservation.objects.get(owner_ref="order:77", status=Reservation.Status.ACTIVE)
    assert (held.stock_level.location, held.quantity, held.channel) == (store, 3, web)
    assert stock_available(sku=sku, location=store) == 0  # not offered to anyone else
    assert ChannelCap.objects.get().used == 3  # counted once, for the one order
    assert inventory_discrepancies() == []


def test_shipping_twice_is_refused_and_changes_nothing(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    transfer_ship(transfer=transfer)
    before = snapshot()
    with pytest.raises(StockConflict, match=f"Transfer {transfer.reference} was already shipped"):
        transfer_ship(transfer=transfer)
    assert snapshot() == before


def test_receiving_before_shipping_is_refused_and_changes_nothing(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    before = snapshot()
    with pytest.raises(StockConflict, match="is requested and not shipped yet: it cannot be received"):
        transfer_receive(transfer=transfer, at=store)
    assert snapshot() == before


def test_receiving_at_the_wrong_store_is_refused_and_changes_nothing(sku, store, other_store, warehouse):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    transfer_ship(transfer=transfer)
    before = snapshot()
    with pytest.raises(NotPermitted, match=f"{warehouse.name} is not its destination"):
        transfer_receive(transfer=transfer, at=warehouse)
    assert snapshot() == before


def test_shipping_from_another_location_is_refused(sku, store, other_store, warehouse):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    before = snapshot()
    with pytest.raises(NotPermitted, match="is not its source"):
        transfer_ship(transfer=transfer, at=warehouse)
    assert snapshot() == before


def test_cancelling_a_shipped_transfer_is_refused_and_changes_nothing(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=5)
    transfer = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    transfer_ship(transfer=transfer)
    before = snapshot()
    with pytest.raises(StockConflict, match="was already shipped: it cannot be cancelled"):
        transfer_cancel(transfer=transfer)
    assert snapshot() == before


def test_receiving_twice_and_shipping_a_cancelled_transfer_are_refused(sku, store, other_store):
    stock_receive(sku=sku, location=other_store, quantity=5)
    received = transfer_request(source=other_store, destination=store, lines=[(sku, 2)])
    transfer_ship(transfer=received)
    transfer_receive(transfer=received)
    cancelled = transfer_cancel(transfer=transfer_request(source=other_store, destination=store, lines=[(sku, 1)]))
    before = snapshot()
    with pytest.raises(StockConflict, match="was already received"):
        transfer_receive(transfer=received)
    with pytest.raises(StockConflict, match="was cancelled: it cannot be shipped"):
        transfer_ship(transfer=cancelled)
    assert snapshot() == before


def test_an_order_transfer_whose_reservation_was_released_is_not_shipped(sku, store, warehouse):
    stock_receive(sku=sku, location=warehouse, quantity=5)
    transfer = transfer_request(source=warehouse, destination=store, lines=[(sku, 2)], owner_ref="order:9")
    before = snapshot()
    with pytest.raises(StockConflict, match=f"2 × {sku.code} no longer reserved"):
        transfer_ship(transfer=transfer)
    assert snapshot() == before


def test_reducing_a_requested_transfer_to_nothing_cancels_it(sku, store, warehouse):
    second = SkuFactory()
    transfer = transfer_request(source=warehouse, destination=store, lines=[(sku, 2), (second, 1)], owner_ref="order:9")
    transfer_reduce(transfer=transfer, units={sku.pk: 1})
    assert sorted(transfer.lines.values_list("sku_id", "quantity")) == sorted([(sku.pk, 1), (second.pk, 1)])
    transfer_reduce(transfer=transfer, units={sku.pk: 1, second.pk: 1})
    transfer.refresh_from_db()
    assert transfer.status == S.CANCELLED and not transfer.lines.exists()


@pytest.mark.parametrize(
    "lines, field",
    [([], "lines"), ([("sku", 0)], "quantity"), ([("sku", -1)], "quantity")],
)
def test_bad_lines_are_refused_and_nothing_is_written(sku, store, other_store, lines, field):
    stock_receive(sku=sku, location=other_store, quantity=5)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        transfer_request(source=other_store, destination=store, lines=[(sku, q) for _, q in lines])
    assert field in refused.value.errors
    assert snapshot() == before


def test_a_transfer_to_its_own_source_is_refused(sku, store):
    stock_receive(sku=sku, location=store, quantity=5)
    with pytest.raises(InvalidInput, match="Source and destination are the same"):
        transfer_request(source=store, destination=store, lines=[(sku, 1)])
    assert not Transfer.objects.exists()
