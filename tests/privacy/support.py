"""A person with orders in two channels, one of them merged in from a duplicate record."""

from fulfilment.actions import fulfilment_deliver
from oms.models import Order
from oms.services import customers_merge, note_add
from returns.receiving import ReceivedLine, return_receive
from returns.refunds import return_refund
from returns.requests import ReturnLineInput, return_request
from tests.backoffice.support import shipped_order
from tests.factories import ChannelFactory

PERSON = {"email": "zoe.lee@example.com", "phone": "+44 7700 900123", "name": "Zoë Ångström-Lee"}
HOME = {"line1": "14 Wisteria Lane", "line2": "Flat 3", "city": "London", "postcode": "WC2N 5DU", "country": "GB"}
SECRETS = ["zoe.lee@example.com", "+447700900123", "Ångström", "Wisteria Lane", "Flat 3", "ZL-778899"]


def delivered(network, *, external_id: str, customer: dict, address: dict = HOME, units: int = 2):
    order = shipped_order(network, units=units, external_id=external_id, customer=customer)
    Order.objects.filter(pk=order.pk).update(address=address)
    fulfilment_deliver(fulfilment=order.fulfilments.get())
    order.refresh_from_db()
    return order


def person_with_history(network):
    """A finished web order refunded after a return, and a store-app order of a duplicate merged in."""
    first = delivered(network, external_id="WEB-P1", customer=PERSON)
    note_add(order=first, text="Zoë Ångström-Lee rang from +447700900123 about Wisteria Lane")
    sku = network.skus[0]
    ret = return_request(order=first, lines=[ReturnLineInput(sku.code, 1)])
    return_receive(ret=ret, location=network.soho, lines=[ReceivedLine(sku.code, 1)])
    return_refund(ret=ret)
    app = ChannelFactory(code="app")
    network.web, web = app, network.web
    second = delivered(network, external_id="APP-P2", customer={"member_number": "ZL-778899", "name": "Zoe Lee"})
    network.web = web
    customers_merge(keep=first.customer, merge=second.customer)
    first.refresh_from_db()
    return first.customer, first, second
