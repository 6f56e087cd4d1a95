"""A small retail network and an order builder shared by the order and fulfilment tests."""

from dataclasses import dataclass

import pytest

from inventory.models import Channel, Location, Sku, StockLevel
from inventory.services import stock_receive
from oms.intake import OrderInput, OrderLineInput
from oms.services import order_place
from tests.factories import ChannelFactory, LocationFactory, SkuFactory

CITY = {"line1": "1 Test Street", "city": "London", "postcode": "WC2N 5DU", "country": "GB"}


@dataclass
class Network:
    web: Channel
    warehouse: Location
    soho: Location  # central London, next to the customer
    camden: Location  # north London, a few km away
    leeds: Location
    skus: list[Sku]

    def stock(self, location: Location, sku: Sku, quantity: int) -> None:
        stock_receive(sku=sku, location=location, quantity=quantity, reference="test")

    def level(self, location: Location, sku: Sku) -> StockLevel:
        return StockLevel.objects.get(location=location, sku=sku)


@pytest.fixture
def network(db) -> Network:
    return Network(
        web=ChannelFactory(code="web"),
        warehouse=LocationFactory(code="WH-MID", kind="warehouse", lat=52.4862, lon=-1.8904, pickup=False),
        soho=LocationFactory(code="ST-SOHO", lat=51.5136, lon=-0.1365),
        camden=LocationFactory(code="ST-CAMDEN", lat=51.5390, lon=-0.1426),
        leeds=LocationFactory(code="ST-LEEDS", lat=53.7997, lon=-1.5492),
        skus=[SkuFactory() for _ in range(3)],
    )


def place(
    network: Network, lines, *, external_id="WEB-1", method="delivery", store=None, lat=51.5080, lon=-0.1281, **kwargs
):
    """Place an order for ``lines`` [(sku, quantity)] delivered to Trafalgar Square unless told otherwise."""
    address = {**CITY, "lat": lat, "lon": lon} if method == "delivery" else {}
    data = OrderInput(
        channel=network.web,
        external_id=external_id,
        lines=[OrderLineInput(sku.code, q, "10.00") for sku, q in lines],
        method=method,
        address=address,
        pickup_store=store.code if store else None,
        customer=kwargs.pop("customer", {"email": "a@example.com"}),
        **kwargs,
    )
    order, _ = order_place(data=data)
    return order
