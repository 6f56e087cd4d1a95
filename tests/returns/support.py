"""A return received at the Soho desk for an order of any price and any payment split."""

from __future__ import annotations

from decimal import Decimal

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from oms.intake import OrderInput, OrderLineInput
from oms.models import Order
from oms.services import order_place
from returns.models import Return
from returns.receiving import ReceivedLine, return_receive
from returns.requests import ReturnLineInput, return_request
from tests.orders_support import CITY

CARD_AND_GIFT_CARD = [
    {"type": "card", "amount": "200.00", "reference": "PAY-7"},
    {"type": "gift_card", "amount": "14.00", "reference": "GC-3"},
]


def received_return(
    network, *, unit_price: str = "107.00", units: int = 2, tenders=None, external_id: str = "WEB-214"
) -> Return:
    """``units`` × ``unit_price`` shipped from the warehouse and received back resellable at Soho.

    The defaults make a 214.00 GBP order paid 200.00 by card and 14.00 by gift card. Tenders
    that do not add up to the total make an order taken before intake required that: it is
    placed paid in full, then its tenders are set to what was actually paid.
    """
    sku = network.skus[0]
    total = Decimal(unit_price) * units
    tenders = CARD_AND_GIFT_CARD if tenders is None else tenders
    paid_in_part = sum(Decimal(t["amount"]) for t in tenders) != total
    network.stock(network.warehouse, sku, units)
    order, _ = order_place(
        data=OrderInput(
            channel=network.web,
            external_id=external_id,
            lines=[OrderLineInput(sku.code, units, Decimal(unit_price))],
            method="delivery",
            address={**CITY, "lat": 51.5080, "lon": -0.1281},
            customer={"email": "a@example.com"},
            tenders=[{"type": "card", "amount": str(total)}] if paid_in_part else tenders,
        )
    )
    if paid_in_part:
        Order.objects.filter(pk=order.pk).update(tenders=tenders)
    shipment = order.fulfilments.get()
    fulfilment_accept(fulfilment=shipment)
    fulfilment_pick(fulfilment=shipment, picked={sku.code: units})
    fulfilment_pack(fulfilment=shipment)
    fulfilment_ship(fulfilment=shipment, carrier="DPD", tracking=f"T-{external_id}")
    ret = return_request(order=order, lines=[ReturnLineInput(sku.code, units)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, units)])
    ret.refresh_from_db()
    return ret
