"""Click-and-collect stocked from elsewhere: routing creates a transfer to the pickup store, the
source ships it from its work queue, the store receives it by scanning, puts it on the shelf
and the customer collects it with the code; cancellations and bad scans along the way."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from fulfilment.models import Fulfilment
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from fulfilment.store_transfers import store_transfer_receive, store_transfer_ship
from inventory.availability import future_atp, ready_at, stock_available
from inventory.models import Barcode, Reservation, StockLevel, Transfer
from inventory.selectors import inventory_discrepancies
from inventory.transfers import transfer_request
from oms.models import Activity, Order, OutboxEvent
from oms.services import order_cancel
from tests.conftest import store_staff_client
from tests.factories import gtin13
from tests.orders_support import place

pytestmark = pytest.mark.django_db
S = Fulfilment.Status
T = Transfer.Status


@pytest.fixture
def shop(network):
    """Only the warehouse holds the SKUs; the customer collects at Soho."""
    network.soho.name, network.camden.name = "Soho", "Camden"
    network.soho.save(update_fields=["name"])
    network.camden.save(update_fields=["name"])
    for n, sku in enumerate(network.skus):
        Barcode.objects.create(code=gtin13(3000 + n), sku=sku)
        network.stock(network.warehouse, sku, 10)
    return network


def stock(network, location, sku) -> tuple[int, int]:
    row = StockLevel.objects.filter(location=location, sku=sku).first()
    return (row.on_hand, row.reserved) if row else (0, 0)


def collect_at_soho(network, lines, external_id="WEB-1") -> Fulfilment:
    order = place(network, lines, method="pickup", store=network.soho, external_id=external_id)
    return order.fulfilments.get()


def url(name, store, *args):
    return reverse(f"store:{name}", args=[store.code, *args])


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_routing_creates_a_transfer_from_the_source_to_the_pickup_store(shop):
    a, b, _ = shop.skus
    f = collect_at_soho(shop, [(a, 2), (b, 1)])
    assert (f.location, f.source_location, f.status) == (shop.soho, shop.warehouse, S.PENDING)
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination, transfer.status) == (shop.warehouse, shop.soho, T.REQUESTED)
    assert (transfer.owner_ref, transfer.supplies_ref, transfer.channel) == (f.order.owner_ref, f.subject, shop.web)
    assert sorted(transfer.lines.values_list("sku_id", "quantity")) == sorted([(a.pk, 2), (b.pk, 1)])
    assert transfer.expected_at == f.ready_by
    assert stock(shop, shop.warehouse, a) == (10, 2)  # the order's reservation, once
    assert Reservation.objects.filter(status="active").count() == 2


def test_a_collection_from_the_stores_own_shelf_needs_no_transfer(shop):
    shop.stock(shop.soho, shop.skus[0], 3)
    f = collect_at_soho(shop, [(shop.skus[0], 1)])
    assert f.source_location == shop.soho
    assert not Transfer.objects.exists()


def test_shipped_received_by_scan_shelved_and_collected(shop):
    a = shop.skus[0]
    f = collect_at_soho(shop, [(a, 2)])
    transfer = Transfer.objects.get()
    warehouse_staff = store_staff_client(shop.warehouse, "wendy")
    soho_staff = store_staff_client(shop.soho, "sam")

    page = soho_staff.get(url("fulfilment", shop.soho, f.pk))
    assert f"{transfer.reference} from" in page.content.decode()
    assert "not shipped yet" in page.content.decode()
    assert b">Accept<" not in page.content and b"Decline" not in page.content  # nothing to do until it arrives

    queue = warehouse_staff.get(url("queue", shop.warehouse)).content.decode()
    assert "Transfers to ship" in queue and "Ship to Soho" in queue and transfer.reference in queue
    response = warehouse_staff.post(
        url("transfer_ship", shop.warehouse, transfer.pk), {"tracking": "VAN-7"}, follow=True
    )
    assert page_messages(response) == [f"Transfer {transfer.reference} shipped to Soho."]
    transfer.refresh_from_db()
    assert (transfer.status, transfer.tracking) == (T.IN_TRANSIT, "VAN-7")
    assert stock(shop, shop.warehouse, a) == (8, 0)
    assert "Ship to Soho" not in warehouse_staff.get(url("queue", shop.warehouse)).content.decode()
    shipped = OutboxEvent.objects.get(type="transfer.shipped")
    assert shipped.data == {
        "transfer": transfer.reference,
        "fulfilment": f.pk,
        "order_number": f.order.number,
        "from": "WH-MID",
        "to": "ST-SOHO",
    }
    assert shipped.channel_id == shop.web.pk

    assert "On its way" in soho_staff.get(url("stock", shop.soho)).content.decode()
    response = soho_staff.post(url("transfer_receive_scan", shop.soho), {"code": transfer.reference.lower()})
    assert response.url == url("fulfilment", shop.soho, f.pk)
    f.refresh_from_db()
    assert (f.status, f.source_location) == (S.PICKING, shop.soho)
    assert list(f.lines.values_list("picked_quantity", flat=True)) == [2]
    assert stock(shop, shop.soho, a) == (2, 2)
    assert stock_available(sku=a, location=shop.soho, channel=shop.web) == 0  # held for this order
    assert OutboxEvent.objects.filter(type="transfer.received").count() == 1
    assert Activity.objects.filter(subject=f.subject, action="transfer_received").exists()
    page = soho_staff.get(url("fulfilment", shop.soho, f.pk)).content.decode()
    assert "On the shelf: notify the customer" in page

    f = fulfilment_ready(fulfilment=f)
    fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
    f.refresh_from_db()
    assert f.status == S.COLLECTED
    assert f.order.__class__.objects.get(pk=f.order_id).status == Order.Status.COMPLETED
    assert stock(shop, shop.soho, a) == (0, 0)
    assert inventory_discrepancies() == []
    call_command("check_inventory")


def test_a_scanned_product_finds_the_one_transfer_on_its_way(shop):
    a = shop.skus[0]
    f = collect_at_soho(shop, [(a, 1)])
    store_transfer_ship(transfer=Transfer.objects.get(), store=shop.warehouse)
    soho_staff = store_staff_client(shop.soho)
    response = soho_staff.post(url("transfer_receive_scan", shop.soho), {"code": a.barcodes.get().code}, follow=True)
    assert f"order {f.order.number} is here, put it on the pickup shelf" in page_messages(response)[-1]
    assert Fulfilment.objects.get(pk=f.pk).status == S.PICKING


def snapshot():
    return (
        sorted(StockLevel.objects.values_list("pk", "on_hand", "reserved")),
        sorted(Transfer.objects.values_list("pk", "status")),
        sorted(Fulfilment.objects.values_list("pk", "status", "source_location")),
        sorted(Reservation.objects.values_list("pk", "status", "quantity")),
    )


def test_bad_scans_and_steps_are_refused_with_a_reason_and_change_nothing(shop):
    """Each refusal is one sentence for the person at the desk, with no field names or state codes of the API."""
    a, b, c = shop.skus
    collect_at_soho(shop, [(a, 1)])
    transfer = Transfer.objects.get()
    ref, warehouse = transfer.reference, shop.warehouse.name
    soho_staff = store_staff_client(shop.soho, "sam")
    camden_staff = store_staff_client(shop.camden, "cam")
    warehouse_staff = store_staff_client(shop.warehouse, "wendy")
    scan = url("transfer_receive_scan", shop.soho)
    cases = [
        (soho_staff, scan, {"code": ref}, f"Transfer {ref} is requested and not shipped yet: it cannot be received."),
        (
            soho_staff,
            scan,
            {"code": "NOPE-42"},
            "Nothing matches “NOPE-42”: scan the transfer's reference or the barcode of a product on it.",
        ),
        (
            soho_staff,
            scan,
            {"code": "X" * 128},
            f"Nothing matches “{'X' * 24}…”: scan the transfer's reference or the barcode of a product on it.",
        ),
        (soho_staff, scan, {"code": c.code}, f"No transfer on its way to Soho holds {c.code}."),
        (soho_staff, scan, {"code": "  "}, "Scan a transfer's reference or a product on it."),
        (
            warehouse_staff,
            url("transfer_ship", shop.warehouse, transfer.pk),
            {"tracking": "x" * 65},
            "Carrier and tracking number are at most 64 characters each; nothing shipped.",
        ),
    ]
    for client, target, data, said in cases:
        before = snapshot()
        response = client.post(target, data, follow=True)
        assert page_messages(response) == [said]
        assert snapshot() == before
    store_transfer_ship(transfer=transfer, store=shop.warehouse)
    for client, target, said in [
        (
            warehouse_staff,
            url("transfer_ship", shop.warehouse, transfer.pk),
            f"Transfer {ref} was already shipped: it cannot be shipped.",
        ),
        (
            camden_staff,
            url("transfer_receive_scan", shop.camden),
            f"Transfer {ref} goes from {warehouse} to Soho: Camden is not its destination (Soho is).",
        ),
    ]:
        before = snapshot()
        response = client.post(target, {"code": ref}, follow=True)
        assert page_messages(response) == [said]
        assert snapshot() == before
    # Another location's transfer is not there to ship or receive by its button.
    assert camden_staff.post(url("transfer_ship", shop.camden, transfer.pk)).status_code == 404
    assert camden_staff.post(url("transfer_receive", shop.camden, transfer.pk)).status_code == 404
    soho_staff.post(url("transfer_receive", shop.soho, transfer.pk), follow=True)
    response = soho_staff.post(url("transfer_receive", shop.soho, transfer.pk), follow=True)  # the second tablet
    assert page_messages(response) == [f"Transfer {ref} was already received: it cannot be received."]


def test_a_product_on_two_transfers_asks_for_the_transfer_reference(shop):
    a = shop.skus[0]
    for n in (1, 2):
        collect_at_soho(shop, [(a, 1)], external_id=f"WEB-{n}")
    for transfer in Transfer.objects.all():
        store_transfer_ship(transfer=transfer, store=shop.warehouse)
    before = snapshot()
    response = store_staff_client(shop.soho).post(
        url("transfer_receive_scan", shop.soho), {"code": a.code}, follow=True
    )
    references = ", ".join(Transfer.objects.order_by("expected_at", "pk").values_list("reference", flat=True))
    assert page_messages(response) == [
        f"{a.code} is on 2 transfers on their way here ({references}): scan the transfer's reference."
    ]
    assert snapshot() == before


def test_cancelling_the_order_before_shipping_cancels_the_transfer(shop):
    a = shop.skus[0]
    f = collect_at_soho(shop, [(a, 2)])
    order_cancel(order=f.order, reason="customer")
    assert Transfer.objects.get().status == T.CANCELLED
    assert stock(shop, shop.warehouse, a) == (10, 0)
    assert transfer_count_to_ship(shop) == 0
    assert inventory_discrepancies() == []


def transfer_count_to_ship(shop) -> int:
    return Transfer.objects.filter(source=shop.warehouse, status=T.REQUESTED).count()


def test_cancelling_part_of_the_order_takes_it_off_the_transfer(shop):
    a, b, _ = shop.skus
    f = collect_at_soho(shop, [(a, 2), (b, 1)])
    line = f.order.lines.get(sku=a)
    order_cancel(order=f.order, reason="customer", lines={line.pk: 1})
    transfer = Transfer.objects.get()
    assert transfer.status == T.REQUESTED
    assert sorted(transfer.lines.values_list("sku_id", "quantity")) == sorted([(a.pk, 1), (b.pk, 1)])
    store_transfer_ship(transfer=transfer, store=shop.warehouse)
    assert stock(shop, shop.warehouse, a) == (9, 0)
    assert inventory_discrepancies() == []


def test_an_order_cancelled_on_the_way_leaves_the_units_free_at_the_store(shop):
    a = shop.skus[0]
    f = collect_at_soho(shop, [(a, 2)])
    transfer = Transfer.objects.get()
    store_transfer_ship(transfer=transfer, store=shop.warehouse)
    order_cancel(order=f.order, reason="customer")
    assert store_transfer_receive(transfer=transfer, store=shop.soho) is None
    assert Fulfilment.objects.get(pk=f.pk).status == S.CANCELLED
    assert stock(shop, shop.soho, a) == (2, 0)
    assert inventory_discrepancies() == []


def test_a_rebalancing_transfer_is_shipped_and_received_on_the_same_pages(shop):
    a = shop.skus[0]
    transfer = transfer_request(source=shop.warehouse, destination=shop.camden, lines=[(a, 3)])
    warehouse_staff = store_staff_client(shop.warehouse, "wendy")
    assert "Ship to Camden" in warehouse_staff.get(url("queue", shop.warehouse)).content.decode()
    warehouse_staff.post(url("transfer_ship", shop.warehouse, transfer.pk))
    response = store_staff_client(shop.camden).post(url("transfer_receive", shop.camden, transfer.pk), follow=True)
    assert page_messages(response) == [f"Transfer {transfer.reference} received into Camden's stock."]
    assert stock(shop, shop.camden, a) == (3, 0)
    assert stock(shop, shop.warehouse, a) == (7, 0)
    assert not OutboxEvent.objects.filter(type__startswith="transfer.").exists()
    assert inventory_discrepancies() == []


def test_units_on_their_way_for_one_collection_are_not_promised_to_anyone_else(shop):
    a = shop.skus[0]
    collect_at_soho(shop, [(a, 2)])
    store_transfer_ship(transfer=Transfer.objects.get(), store=shop.warehouse)
    assert future_atp(sku=a, location=shop.soho, channel=shop.web)[-1][1] == 0
    assert ready_at(lines={a.pk: 1}, location=shop.soho, channel=shop.web) is None

    rebalance = transfer_request(source=shop.warehouse, destination=shop.soho, lines=[(a, 3)])
    store_transfer_ship(transfer=rebalance, store=shop.warehouse)
    assert future_atp(sku=a, location=shop.soho, channel=shop.web)[-1][1] == 3  # free stock on its way


def test_a_stale_page_accepting_a_collection_waiting_for_its_transfer_is_told_why_not(shop):
    f = collect_at_soho(shop, [(shop.skus[0], 1)])
    transfer = Transfer.objects.get()
    response = store_staff_client(shop.soho).post(url("fulfilment_accept", shop.soho, f.pk), follow=True)
    said = page_messages(response)
    assert said == [
        f"Order {f.order.number} is waiting for its transfer. Its stock comes by transfer {transfer.reference} "
        f"from {shop.warehouse.name} (not shipped yet): receive the transfer on the Stock page when it arrives, "
        "and the order is then ready for the pickup shelf."
    ]
    f.refresh_from_db()
    assert f.status == S.PENDING
