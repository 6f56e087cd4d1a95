"""Orders in the states the back office acts on, arranged through the services."""

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from returns.models import Return
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request
from tests.orders_support import place

LEEDS_ADDRESS = {"line1": "2 Briggate", "city": "Leeds", "postcode": "LS1 6HD", "country": "GB"}


def shipped_order(network, *, units: int, external_id: str = "WEB-SHIP", **kwargs):
    """An order of ``units`` × 10.00 shipped from Soho."""
    sku = network.skus[0]
    network.stock(network.soho, sku, units)
    order = place(network, [(sku, units)], external_id=external_id, **kwargs)
    fulfilment = order.fulfilments.get()
    fulfilment_accept(fulfilment=fulfilment)
    fulfilment_pick(fulfilment=fulfilment, picked={sku.code: units})
    fulfilment_pack(fulfilment=fulfilment)
    fulfilment_ship(fulfilment=fulfilment, carrier="DPD", tracking=f"TRK-{external_id}")
    order.refresh_from_db()
    return order


def received_return(network, *, units: int, external_id: str = "WEB-RET") -> Return:
    """A shipped order whose ``units`` came back resellable to Soho: a refund of units × 10.00 is due."""
    order = shipped_order(network, units=units, external_id=external_id)
    sku = network.skus[0]
    ret = return_request(order=order, lines=[ReturnLineInput(sku.code, units)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, units)])
    ret.refresh_from_db()
    return ret
