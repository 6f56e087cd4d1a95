"""The supply still to come: open inbound documents and free transfers in transit, soonest first."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from inventory.availability import future_atp, ready_at, supply_lots
from inventory.inbound import inbound_close, inbound_create, inbound_receive
from inventory.reservations import StockRequest, stock_reserve
from inventory.services import stock_receive
from inventory.transfers import transfer_request, transfer_send, transfer_ship
from tests.factories import LocationFactory, SkuFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def start_of(day):
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


@pytest.fixture
def sku(db):
    return SkuFactory()


@pytest.fixture
def store(db):
    return LocationFactory(code="ST-1")


@pytest.fixture
def depot(db):
    return LocationFactory(code="WH-1", kind="warehouse")


def test_inbound_units_not_yet_received_and_free_transfers_count_by_their_day(sku, store, depot):
    in_a_week, in_three_days = TODAY + timedelta(days=7), timezone.now() + timedelta(days=3)
    po = inbound_create(reference="PO-1", location=depot.code, expected_on=in_a_week, lines=[(sku.code, 10)])
    inbound_receive(supply=po, lines=[(sku.code, 4)])  # 6 still to come
    transfer_send(destination=store, lines=[(sku, 2)], expected_at=in_three_days)  # from a supplier, in transit

    lots = supply_lots(sku_ids=[sku.pk])

    assert [(lot.on, lot.location_id, lot.quantity) for lot in lots] == [
        (timezone.localdate(in_three_days), store.pk, 2),
        (in_a_week, depot.pk, 6),
    ]
    assert [lot.quantity for lot in supply_lots(sku_ids=[sku.pk], location_ids=[depot.pk])] == [6]


def test_closed_or_received_documents_inactive_places_and_collections_bring_nothing_to_promise(sku, store, depot):
    closed = inbound_create(reference="PO-1", location=depot.code, expected_on=TODAY, lines=[(sku.code, 5)])
    inbound_close(supply=closed)
    full = inbound_create(reference="PO-2", location=depot.code, expected_on=TODAY, lines=[(sku.code, 5)])
    inbound_receive(supply=full, lines=[(sku.code, 7)])  # more than announced: nothing more to come
    shut = LocationFactory(code="ST-SHUT")
    inbound_create(reference="PO-3", location=shut.code, expected_on=TODAY, lines=[(sku.code, 5)])
    shut.active = False
    shut.save(update_fields=["active"])
    # A transfer that stocks one order's collection carries units reserved for that order.
    stock_receive(sku=sku, location=depot, quantity=2)
    collection = transfer_request(
        source=depot, destination=store, lines=[(sku, 2)], owner_ref="order:1", supplies_ref="fulfilment:1"
    )

    stock_reserve(requests=[StockRequest(sku, depot, 2)], owner_ref="order:1")
    transfer_ship(transfer=collection)

    assert supply_lots(sku_ids=[sku.pk]) == []


def test_future_atp_and_ready_time_count_inbound_documents(sku, store):
    stock_receive(sku=sku, location=store, quantity=1)
    soon = TODAY + timedelta(days=2)
    inbound_create(reference="PO-1", location=store.code, expected_on=soon, lines=[(sku.code, 4)])
    later = timezone.now() + timedelta(days=5)
    transfer_send(destination=store, lines=[(sku, 3)], expected_at=later)

    assert [q for _, q in future_atp(sku=sku, location=store)] == [1, 5, 8]
    assert ready_at(lines={sku.pk: 5}, location=store) == start_of(soon)
    assert ready_at(lines={sku.pk: 8}, location=store) == later
    assert ready_at(lines={sku.pk: 9}, location=store) is None
