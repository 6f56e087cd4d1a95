"""stock.availability_changed: each channel hears when its network ATP of a SKU changes, once per change."""

from inventory.reservations import StockRequest, stock_reserve
from inventory.services import stock_receive
from oms.availability import availability_publish
from oms.models import OutboxEvent
from tests.factories import ChannelFactory, LocationFactory


def announced(channel) -> list[dict]:
    events = OutboxEvent.objects.filter(type="stock.availability_changed", channel=channel).order_by("created")
    return [e.data for e in events]


def test_a_channel_hears_of_each_change_once_and_only_from_the_first_run_on(sku, store, channel):
    stock_receive(sku=sku, location=store, quantity=10)
    assert availability_publish() == 0, "the first run starts from the ledger's end, not its history"

    stock_reserve(requests=[StockRequest(sku=sku, location=store, quantity=3)], owner_ref="hold:a", channel=channel)
    stock_reserve(requests=[StockRequest(sku=sku, location=store, quantity=2)], owner_ref="hold:b", channel=channel)
    assert availability_publish() >= 1
    assert announced(channel) == [{"sku": sku.code, "available": 5, "previous": None}]

    assert availability_publish() == 0, "nothing moved: nothing to say"
    stock_receive(sku=sku, location=store, quantity=1)
    availability_publish()
    assert announced(channel)[-1] == {"sku": sku.code, "available": 6, "previous": 5}


def test_a_channel_not_selling_from_the_location_is_not_told_again_when_it_moves(sku, store, channel):
    elsewhere = LocationFactory(kind="store")
    narrow = ChannelFactory()
    narrow.sells_from.set([elsewhere])
    availability_publish()

    stock_receive(sku=sku, location=store, quantity=4)
    availability_publish()
    stock_receive(sku=sku, location=store, quantity=4)
    availability_publish()

    assert [e["available"] for e in announced(channel)] == [4, 8]
    assert [e["available"] for e in announced(narrow)] == [0], "its number never moved after the first word"
