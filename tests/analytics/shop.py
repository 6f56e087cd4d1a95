"""A small shop for the analytics tests: orders from three channels, shipped, collected, split and returned."""

from dataclasses import dataclass

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from inventory.models import Channel
from oms.intake import OrderInput, OrderLineInput
from oms.models import Order
from oms.services import order_place
from returns.requests import ReturnLineInput, return_request
from tests.factories import ChannelFactory
from tests.orders_support import CITY, Network


@dataclass
class Shop:
    network: Network
    app: Channel
    pos: Channel
    orders: dict[str, Order]


def order_via(channel, lines, *, external_id, method="delivery", store=None, price="10.00") -> Order:
    """Place an order through ``channel``: delivered to Trafalgar Square, or collected at ``store``."""
    address = {**CITY, "lat": 51.5080, "lon": -0.1281} if method == "delivery" else {}
    data = OrderInput(
        channel=channel,
        external_id=external_id,
        lines=[OrderLineInput(sku.code, quantity, price) for sku, quantity in lines],
        method=method,
        address=address,
        pickup_store=store.code if store else None,
        customer={"email": f"{external_id.lower()}@example.com"},
    )
    return order_place(data=data)[0]


def ship(fulfilment, number=1) -> None:
    fulfilment_accept(fulfilment=fulfilment)
    fulfilment_pick(fulfilment=fulfilment, picked={fl.sku.code: fl.quantity for fl in fulfilment.lines.all()})
    fulfilment_pack(fulfilment=fulfilment)
    fulfilment_ship(fulfilment=fulfilment, carrier="DPD", tracking=f"T-{fulfilment.pk}-{number}")


def build_shop(network: Network) -> Shop:
    """Web, app and in-store orders: one from a store, one from the warehouse, one collection, one split.

    The warehouse order is shipped and returned in a store, so the returns matrix has a
    web → pos cell.
    """
    a, b, c = network.skus
    network.stock(network.warehouse, a, 50)
    network.stock(network.warehouse, b, 50)
    network.stock(network.soho, a, 5)
    network.stock(network.soho, c, 5)
    network.stock(network.camden, b, 5)
    app = ChannelFactory(code="app", kind=Channel.Kind.APP)
    pos = ChannelFactory(code="pos", kind=Channel.Kind.STORE)
    orders = {
        "near": order_via(network.web, [(a, 1)], external_id="WEB-1"),
        "warehouse": order_via(network.web, [(a, 2), (b, 1)], external_id="WEB-2", price="25.50"),
        "collect": order_via(network.web, [(b, 1)], external_id="WEB-3", method="pickup", store=network.camden),
        "split": order_via(app, [(c, 1), (b, 1)], external_id="APP-1", price="7.25"),
    }
    ship(orders["warehouse"].fulfilments.get())
    return_request(order=orders["warehouse"], lines=[ReturnLineInput(b.code, 1)], channel=pos)
    return Shop(network=network, app=app, pos=pos, orders=orders)
