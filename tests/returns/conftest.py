import pytest

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from tests.orders_support import place


@pytest.fixture
def delivered_web_order(network):
    """A web order of 3 units of one SKU shipped from the warehouse (no store has the SKU)."""
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 10)
    order = place(
        network,
        [(sku, 3)],
        tenders=[
            {"type": "card", "amount": "20.00", "reference": "PAY-1"},
            {"type": "gift_card", "amount": "10.00", "reference": "GC-9"},
        ],
    )
    f = order.fulfilments.get()
    assert f.location == network.warehouse
    fulfilment_accept(fulfilment=f)
    fulfilment_pick(fulfilment=f, picked={sku.code: 3})
    fulfilment_pack(fulfilment=f)
    fulfilment_ship(fulfilment=f, carrier="DPD", tracking="T-1")
    return order
