"""The demo's order history: orders from every channel placed through the real services and
moved along their life (shipped, collected, declined, returned), spread over recent weeks."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from django.db.models import F, Q

from core.errors import DomainError
from fulfilment.actions import (
    fulfilment_accept,
    fulfilment_decline,
    fulfilment_deliver,
    fulfilment_pack,
    fulfilment_pick,
    fulfilment_ship,
)
from fulfilment.collection_transfers import transfer_supplying
from fulfilment.models import Fulfilment, RoutingPolicyVersion
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from fulfilment.routing.policy import RoutingPolicy
from inventory.models import Location, StockLevel
from oms.intake import OrderInput, OrderLineInput
from oms.models import Activity, Order, OutboxEvent
from oms.services import order_place
from returns.approvals import refund_request_create
from returns.exceptions import RefundNeedsApproval
from returns.receiving import ReceivedLine, return_receive
from returns.refunds import return_refund
from returns.requests import ReturnLineInput, return_request

FIRST_NAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo", "Aoife", "Cian"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Murphy", "Evans", "Walsh", "Khan"]
CHANNEL_MIX = [("web", 45), ("app", 25), ("marketplace", 15), ("livestream", 5), ("store", 10)]


def _customer(rng: random.Random, n: int) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    return {
        "name": f"{first} {last}",
        "email": f"{first}.{last}{n % 97}@example.com".lower(),
        "phone": f"+44 7700 9{n % 100000:05d}",
    }


def _lines(rng: random.Random, stocked: list[int], skus: dict) -> list[OrderLineInput]:
    picks = rng.sample(stocked, rng.choice([1, 1, 1, 2, 2, 3]))
    return [
        OrderLineInput(skus[pk].code, rng.choice([1, 1, 1, 2]), str(skus[pk].attributes.get("price", "19.99")))
        for pk in picks
    ]


def _advance(rng: random.Random, order: Order) -> None:
    """Move the order's fulfilments along as a busy day would."""
    roll = rng.random()
    for f in list(order.fulfilments.all()):
        if transfer_supplying(f) is not None:
            continue  # its stock is on a transfer: the stores ship and receive it, which moves it on
        if roll < 0.1:
            fulfilment_decline(fulfilment=f, reason_code=Fulfilment.DeclineReason.MISMATCH, note="demo decline")
            continue
        if roll < 0.25:
            continue  # still waiting for the location
        fulfilment_accept(fulfilment=f)
        if roll < 0.35:
            continue
        picked = {fl.sku.code: fl.quantity for fl in f.lines.select_related("sku")}
        fulfilment_pick(fulfilment=f, picked=picked)
        if f.method == Fulfilment.Method.CLICK_AND_COLLECT:
            f = fulfilment_ready(fulfilment=f)
            if roll > 0.5:
                fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
            continue
        fulfilment_pack(fulfilment=f)
        fulfilment_ship(fulfilment=f, carrier=rng.choice(["DPD", "Royal Mail", "Evri"]), tracking=f"TRK{f.pk:08d}")
        if roll > 0.5:
            fulfilment_deliver(fulfilment=f)


def _return_some(rng: random.Random, order: Order, stores: list[Location]) -> None:
    line = order.lines.select_related("sku").first()
    try:
        ret = return_request(order=order, lines=[ReturnLineInput(line.sku.code, 1, "too_small")])
        store = rng.choice([s for s in stores if s.accepts_returns])
        condition = "damaged" if rng.random() < 0.2 else "resellable"
        return_receive(ret=ret, location=store, lines=[ReceivedLine(line.sku.code, 1, condition)])
        try:
            return_refund(ret=ret)
        except RefundNeedsApproval:  # above the limit: left for a supervisor, as at a real desk
            refund_request_create(ret=ret, actor=None, reason="returned to a store")
    except DomainError:
        return


def make_orders(network) -> None:
    """Place the order history through order_place and move it along; spread it over 30 days."""
    rng: random.Random = network.rng
    RoutingPolicyVersion.objects.get_or_create(
        channel=None, version=1, defaults={"data": RoutingPolicy().to_dict(), "note": "default policy"}
    )
    skus = {sku.pk: sku for sku in network.catalogue}
    stocked = sorted(
        set(StockLevel.objects.filter(Q(on_hand__gte=5), location__kind="warehouse").values_list("sku_id", flat=True))
    )
    channels = [network.channels[code] for code, weight in CHANNEL_MIX for _ in range(weight)]
    stores = network.shops
    placed = []
    for n in range(network.orders):
        channel = rng.choice(channels)
        near = rng.choice(stores)
        pickup = rng.random() < 0.3 and near.pickup
        lines = _lines(rng, stocked, skus)
        total = sum((Decimal(line.unit_price) * line.quantity for line in lines), Decimal(0))
        data = OrderInput(
            channel=channel,
            external_id=f"{channel.code.upper()}-{10000 + n}",
            lines=lines,
            method=Order.Method.PICKUP if pickup else Order.Method.DELIVERY,
            pickup_store=near.code if pickup else None,
            address={}
            if pickup
            else {
                "line1": f"{rng.randint(1, 200)} High Street",
                "city": near.city,
                "postcode": near.postcode,
                "country": near.country,
                "lat": near.lat + rng.uniform(-0.05, 0.05),
                "lon": near.lon + rng.uniform(-0.05, 0.05),
            },
            customer=_customer(rng, rng.randint(0, network.orders // 2)),
            tenders=[{"type": "card", "amount": f"{total:.2f}", "reference": f"PAY-{n}"}],
        )
        try:
            order, _ = order_place(data=data)
        except DomainError:
            continue
        _advance(rng, order)
        placed.append(order)
    for order in rng.sample(placed, len(placed) // 10):
        order.refresh_from_db()
        if order.status in (Order.Status.SHIPPED, Order.Status.COMPLETED):
            _return_some(rng, order, stores)
    for order in placed:
        # Spread the history over the last 30 days; each order's own events keep their order.
        age = timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        Order.objects.filter(pk=order.pk).update(created_at=F("created_at") - age)
        Fulfilment.objects.filter(order=order).update(
            created_at=F("created_at") - age, ready_at=F("ready_at") - age, dispatched_at=F("dispatched_at") - age
        )
        Activity.objects.filter(order=order).update(at=F("at") - age)
        OutboxEvent.objects.filter(order=order).update(created=F("created") - age)
    network.out.write(f"  {len(placed)} orders placed and moved along")
