"""The order-life model test: the network it starts from, its invariants, and the snapshot a refusal must keep.

The expectations here are written from the documented rules (docs/state-machines.md), not
read back from the services, so that a service drifting from the rules fails the model test.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import models
from django.db.models import Q

from fulfilment.actions import fulfilment_accept, fulfilment_pack, fulfilment_pick, fulfilment_ship
from fulfilment.deadlines import routing_unavailable
from fulfilment.models import Fulfilment, FulfilmentLine, RoutingPolicyVersion
from fulfilment.pickups import fulfilment_collect, fulfilment_ready
from fulfilment.routing.candidates import routing_policy_for
from inventory.availability import stock_availability
from inventory.models import (
    ChannelCap,
    InboundLine,
    InboundSupply,
    Location,
    Reservation,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)
from inventory.selectors import inventory_discrepancies
from oms.intake import OrderInput, OrderLineInput
from oms.models import Activity, Order, OrderLine, OutboxEvent
from oms.services import order_place
from returns.models import Refund, Return, ReturnLine
from tests.factories import ChannelFactory, LocationFactory

F, S = Fulfilment.Status, Order.Status
OPEN_ORDER = [S.PLACED, S.ON_HOLD, S.ALLOCATED, S.BACKORDERED, S.IN_FULFILMENT, S.PARTIALLY_SHIPPED, S.SHIPPED]
OPEN_ORDER += [S.READY_FOR_PICKUP]
# An order that says it is done must account for every unit: dispatched or cancelled.
SETTLED_ORDER = [S.SHIPPED, S.COMPLETED, S.CANCELLED]
# What store staff, carriers, customers and the expiry job can do to a fulfilment (cancel comes from the order).
MOVES_ON = {"accept", "decline", "pick", "pack", "ship", "deliver", "ready", "collect", "expire"}


def snapshot() -> tuple:
    """Every row a lifecycle service may write, in a comparable form."""
    return (
        list(Order.objects.order_by("pk").values_list("pk", "status", "hold_reason", "total", "address", "lat", "lon")),
        list(OrderLine.objects.order_by("pk").values_list("pk", "quantity", "cancelled_quantity", "backordered")),
        list(Fulfilment.objects.order_by("pk").values_list("pk", "status", "location_id", "pickup_code")),
        list(FulfilmentLine.objects.order_by("pk").values_list("pk", "quantity", "picked_quantity")),
        list(StockLevel.objects.order_by("pk").values_list("pk", "on_hand", "reserved")),
        list(Reservation.objects.order_by("pk").values_list("pk", "quantity", "status")),
        list(InboundSupply.objects.order_by("pk").values_list("pk", "status", "expected_on")),
        list(InboundLine.objects.order_by("pk").values_list("pk", "quantity", "received")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status", "source_id", "destination_id")),
        list(TransferLine.objects.order_by("pk").values_list("pk", "quantity")),
        list(Return.objects.order_by("pk").values_list("pk", "status", "received_location_id")),
        list(
            ReturnLine.objects.order_by("pk").values_list("pk", "quantity", "resellable_quantity", "damaged_quantity")
        ),
        Refund.objects.count(),
        StockMovement.objects.count(),
        Activity.objects.count(),
        OutboxEvent.objects.count(),
    )


def expected_order_status(live: list[str], backordered: int = 0) -> str | None:
    """The order status the documented rules give for its live (not declined, cancelled or expired) fulfilments.

    Backordered units are owed: with nothing live the order is backordered, and while any
    wait it is partially shipped (something dispatched) or in fulfilment, never done.
    """
    dispatched = {F.SHIPPED, F.DELIVERED, F.COLLECTED}
    if backordered and not live:
        return S.BACKORDERED
    if backordered and all(s in dispatched or s == F.READY_FOR_PICKUP for s in live):
        return S.PARTIALLY_SHIPPED if any(s in dispatched for s in live) else S.IN_FULFILMENT
    if not live:
        return None
    if all(s in (F.DELIVERED, F.COLLECTED) for s in live):
        return S.COMPLETED
    if all(s in dispatched for s in live):
        return S.SHIPPED
    if all(s in dispatched or s == F.READY_FOR_PICKUP for s in live):
        return S.READY_FOR_PICKUP
    if any(s in dispatched for s in live):
        return S.PARTIALLY_SHIPPED
    if any(s != F.PENDING for s in live):
        return S.IN_FULFILMENT
    return S.ALLOCATED


def _fulfilments_by_order() -> dict[int, list[Fulfilment]]:
    by_order = defaultdict(list)
    for f in Fulfilment.objects.prefetch_related("lines").order_by("pk"):
        by_order[f.order_id].append(f)
    return by_order


def problems(
    *, forgive_units_lost_in_rerouting: bool = False, forgive_status_after_line_cancel: bool = False
) -> list[str]:
    """Every broken invariant, each in one line naming the order and what is wrong.

    ``forgive_units_lost_in_rerouting``: do not report a settled order's unaccounted units when
    the order had a decline or a short pick, nor its status or being stuck while such units wait;
    ``forgive_status_after_line_cancel``: do not report an
    order whose status disagrees with its fulfilments once some of its units were cancelled
    (known defects, see the model test's flags).
    """
    found = [f"stock: {d}" for d in inventory_discrepancies()]
    found += [f"stock: {sku}@{loc} reserves {r} of {n} on hand" for sku, loc, n, r in _overreserved()]
    found += backorders_waiting_beside_stock()
    found += _rebalancing_unreserved()
    fulfilments = _fulfilments_by_order()
    returned = Counter()
    for line_id, quantity in ReturnLine.objects.exclude(ret__status__in=Return.VOID).values_list(
        "order_line_id", "quantity"
    ):
        returned[line_id] += quantity
    received = Counter()
    for rl in ReturnLine.objects.all():
        received[rl.order_line_id] += rl.received_quantity
    refunds = Counter()
    for event in OutboxEvent.objects.filter(type="refund.requested"):
        refunds[event.order_id] += Decimal(event.data["amount"])
    rerouted = set()
    if forgive_units_lost_in_rerouting:
        rerouted = set(
            Activity.objects.filter(Q(action="decline") | Q(action="pick", reason="short pick")).values_list(
                "order_id", flat=True
            )
        )
    for order in Order.objects.prefetch_related("lines").order_by("pk"):
        found += _order_problems(
            order,
            fulfilments[order.pk],
            returned,
            received,
            refunds[order.pk],
            rerouted=order.pk in rerouted,
            status_forgiven=forgive_status_after_line_cancel
            and any(line.cancelled_quantity for line in order.lines.all()),
        )
    return found


def _order_problems(
    order: Order,
    fulfilments,
    returned: Counter,
    received: Counter,
    refunded: Decimal,
    *,
    rerouted: bool,
    status_forgiven: bool,
) -> list[str]:
    found = []
    name = f"order {order.pk} ({order.status})"
    live = [f for f in fulfilments if f.status not in Fulfilment.INACTIVE]
    covered, dispatched = Counter(), Counter()
    for f in live:
        for fl in f.lines.all():
            covered[fl.order_line_id] += fl.quantity
            if f.status in Fulfilment.DISPATCHED:
                dispatched[fl.order_line_id] += fl.quantity
    waiting = backordered = 0
    routed = order.status not in (S.PLACED, S.ON_HOLD)
    for line in order.lines.all():
        left = line.quantity - line.cancelled_quantity - covered[line.pk]
        # Once routed every unit is cancelled, allocated (a live or dispatched fulfilment) or backordered;
        # before, nothing is allocated or backordered.
        accounted = line.cancelled_quantity + covered[line.pk] + line.backordered
        if routed and line.quantity != accounted and not rerouted:
            found.append(
                f"{name}: line {line.pk} has {line.quantity} ordered but {line.cancelled_quantity} cancelled "
                f"+ {covered[line.pk]} allocated + {line.backordered} backordered"
            )
        if not routed and (covered[line.pk] or line.backordered):
            found.append(
                f"{name}: unrouted, yet line {line.pk} has {covered[line.pk]} allocated, {line.backordered} backordered"
            )
        if left < 0:
            found.append(
                f"{name}: line {line.pk} has {line.quantity} ordered but {line.cancelled_quantity} cancelled "
                f"and {covered[line.pk]} in live fulfilments"
            )
        # Every routed unit is allocated, cancelled or backordered; an unrouted order backorders nothing yet.
        if line.backordered != (max(left, 0) if routed else 0) and not rerouted:
            found.append(f"{name}: line {line.pk} has {left} unit(s) uncovered but {line.backordered} backordered")
        waiting += max(left, 0)
        backordered += line.backordered
        if left > 0 and order.status in SETTLED_ORDER and not rerouted:
            found.append(f"{name}: line {line.pk} has {left} unit(s) neither dispatched nor cancelled")
        if returned[line.pk] > dispatched[line.pk] or received[line.pk] > dispatched[line.pk]:
            found.append(
                f"{name}: line {line.pk} returned {returned[line.pk]}, received back {received[line.pk]}, "
                f"but only {dispatched[line.pk]} were dispatched"
            )
    expected = expected_order_status([f.status for f in live], backordered)
    # Units a decline or short pick could not re-route leave the order where it was (known defect).
    status_forgiven |= rerouted and waiting > 0
    if status_forgiven and order.status != S.CANCELLED:
        pass
    elif order.status == S.CANCELLED:
        if live:
            found.append(f"{name}: cancelled but fulfilment(s) {[f.pk for f in live]} are live")
    elif expected is not None and order.status != expected:
        found.append(f"{name}: its live fulfilments {[f.status for f in live]} say {expected}")
    elif expected is None and order.status not in (S.ON_HOLD, S.BACKORDERED):
        found.append(f"{name}: no live fulfilment, no hold and nothing waiting for supply")
    if order.status in OPEN_ORDER and order.status != S.SHIPPED and not (rerouted and waiting):
        found += _stuck(order, name, live, backordered)
    paid = sum((Decimal(str(t["amount"])) for t in order.tenders), Decimal(0))
    if refunded > paid:
        found.append(f"{name}: {refunded} refunded but {paid} was paid")
    return found


def _stuck(order: Order, name: str, live: list[Fulfilment], backordered: int) -> list[str]:
    """An open order needs a way on: a fulfilment someone can move, a hold to lift, or units waiting for supply."""
    if order.status == S.ON_HOLD:
        return []
    if order.status == S.BACKORDERED and not backordered:
        return [f"{name}: backordered with nothing waiting for supply"]
    if backordered:
        return []
    movable = [f for f in live if MOVES_ON & {t.name for t in f.get_available_status_transitions()}]
    if not movable:
        return [f"{name}: open, but none of its fulfilments {[f.status for f in live]} can move on"]
    return []


# Orders whose backordered units routing may fill as stock arrives (docs/api.md, "Short orders").
WAITS_FOR_SUPPLY = {S.BACKORDERED, S.ALLOCATED, S.IN_FULFILMENT, S.PARTIALLY_SHIPPED}


def backorders_waiting_beside_stock() -> list[str]:
    """No backorder is left waiting while stock it may use is available.

    For every order line with backordered units, each active location its channel sells
    from that holds ATP of the line's SKU for that channel (``stock_availability``: safety
    stock, buffers and the channel's locations applied) must be one routing may not use for
    this order, by routing's own rules (``fulfilment.routing.engine._ruled_out``):

    * the order was declined there (a declined fulfilment at that location), or an agent
      re-routed it without that location (``order.routing["excluded"]``);
    * the store is paused or closed now, unless it is the order's own pickup store
      (``routing_unavailable``);
    * a delivery, and the location does not ship, or it is a store and the channel's
      routing policy does not ship from stores (a collection is a transfer: any may send);
    * the channel's cap on the SKU has nothing left.

    Daily capacity would also excuse a location, but a location whose capacity filled up
    today is only reached again by the sweep, not by a rise: the model's network keeps every
    location's capacity unlimited (asserted here), so it never excuses. No store is paused
    or closed in the model either, since a pause ending is not a rise.
    """
    lines = list(
        OrderLine.objects.filter(backordered__gt=0).select_related("order__channel", "sku").order_by("order_id", "pk")
    )
    if not lines:
        return []
    found = []
    locations = {loc.pk: loc for loc in Location.objects.all()}
    assert all(loc.daily_capacity is None for loc in locations.values()), "the model keeps capacity unlimited"
    orders = {line.order_id: line.order for line in lines}
    declined = defaultdict(set)
    for order_id, location_id in Fulfilment.objects.filter(order_id__in=list(orders), status=F.DECLINED).values_list(
        "order_id", "location_id"
    ):
        declined[order_id].add(location_id)
    channels = {o.channel_id: o.channel for o in orders.values()}
    sku_ids = {line.sku_id for line in lines}
    atp = {c: stock_availability(sku_ids=sku_ids, channel=channel) for c, channel in channels.items()}
    cap_left = {
        (c, s): q - u for c, s, q, u in ChannelCap.objects.values_list("channel_id", "sku_id", "quantity", "used")
    }
    for line in lines:
        order = line.order
        name = f"order {order.pk} ({order.status}): line {line.pk} waits for {line.backordered} × {line.sku.code}"
        if order.status not in WAITS_FOR_SUPPLY:
            found.append(f"{name}, but a {order.status} order waits for nothing")
            continue
        if cap_left.get((order.channel_id, line.sku_id), 1) <= 0:
            continue
        policy = routing_policy_for(channel=order.channel)
        unavailable = routing_unavailable(order)
        for (sku_id, location_id), units in sorted(atp[order.channel_id].items()):
            place = locations[location_id]
            if sku_id != line.sku_id or units <= 0:
                continue
            if location_id in declined[order.pk] or location_id in unavailable:
                continue
            if location_id in (order.routing or {}).get("excluded", ()):
                continue
            if order.method == Order.Method.DELIVERY and not (
                place.ships and (place.kind == Location.Kind.WAREHOUSE or policy.allow_ship_from_store)
            ):
                continue
            found.append(f"{name} while {place.code} has {units} it may use")
    return found


def _overreserved() -> list[tuple]:
    levels = StockLevel.objects.filter(reserved__gt=models.F("on_hand"))
    return list(levels.values_list("sku__code", "location__code", "on_hand", "reserved"))


def _rebalancing_unreserved() -> list[str]:
    """A rebalancing transfer not shipped yet holds its units reserved at its source."""
    requested = {
        t.owner_ref: t
        for t in Transfer.objects.filter(status=Transfer.Status.REQUESTED, supplies_ref="").prefetch_related("lines")
    }
    if not requested:
        return []
    held = defaultdict(Counter)
    reservations = Reservation.objects.filter(owner_ref__in=list(requested), status=Reservation.Status.ACTIVE)
    for owner_ref, location_id, sku_id, quantity in reservations.values_list(
        "owner_ref", "stock_level__location_id", "stock_level__sku_id", "quantity"
    ):
        if location_id == requested[owner_ref].source_id:
            held[owner_ref][sku_id] += quantity
    found = []
    for owner_ref, transfer in requested.items():
        wanted = Counter({line.sku_id: line.quantity for line in transfer.lines.all()})
        if held[owner_ref] != wanted:
            found.append(f"transfer {transfer.reference}: requested {dict(wanted)} but holds {dict(held[owner_ref])}")
    return found


# --- the network every example starts from -------------------------------------------

PRICES = [Decimal("4.00"), Decimal("7.50"), Decimal("12.00")]  # a whole order stays under the refund limit
CHANNELS = ["web", "app", "market"]  # fallbacks: reject, backorder, hold
STORES = ["ST-SOHO", "ST-CAMDEN", "ST-LEEDS", "ST-OUTLET"]  # the outlet offers no collection and takes no returns
LOCATIONS = ["WH-MID", *STORES]
ADDRESSES = {
    "near": {
        "line1": "1 Strand",
        "city": "London",
        "postcode": "WC2N 5DU",
        "country": "GB",
        "lat": 51.508,
        "lon": -0.128,
    },
    "leeds": {"line1": "2 Briggate", "city": "Leeds", "postcode": "LS1 6HD", "country": "GB"},
    "manchester": {"line1": "3 Market St", "city": "Manchester", "postcode": "M1 1AD", "country": "GB"},
    "unknown_postcode_known_town": {"line1": "4 Nowhere", "city": "London", "postcode": "ZZ9 9ZZ", "country": "GB"},
    "unknown": {"line1": "5 Nowhere", "city": "Atlantis", "postcode": "ZZ9 9ZZ", "country": "GB"},
    "incomplete": {"line1": "6 Strand", "city": "London", "country": "GB"},
}


@pytest.fixture
def retail_network(network):
    """The shared network, an outlet that neither collects nor takes returns, and three channels' policies."""
    LocationFactory(code="ST-OUTLET", lat=51.52, lon=-0.10, ships=True, pickup=False, accepts_returns=False)
    app, market = ChannelFactory(code="app"), ChannelFactory(code="market")
    RoutingPolicyVersion.objects.create(channel=app, version=1, data={"fallback": "backorder"})
    RoutingPolicyVersion.objects.create(channel=market, version=1, data={"fallback": "hold"})
    a, b, c = network.skus
    for location, sku, quantity in [
        (network.warehouse, a, 8),
        (network.warehouse, b, 5),
        (network.warehouse, c, 2),
        (network.soho, a, 3),
        (network.soho, c, 2),
        (network.camden, b, 3),
        (network.leeds, a, 1),
    ]:
        network.stock(location, sku, quantity)
    # Two orders already dispatched (one shipped, one collected), so returns happen from the first step.
    for external_id, method, store, lines in [
        ("SEED-1", Order.Method.DELIVERY, None, [(a, 2), (b, 1)]),
        ("SEED-2", Order.Method.PICKUP, "ST-SOHO", [(c, 1)]),
    ]:
        total = sum((PRICES[network.skus.index(sku)] * q for sku, q in lines), Decimal(0))
        order, _ = order_place(
            data=OrderInput(
                channel=network.web,
                external_id=external_id,
                lines=[OrderLineInput(sku.code, q, str(PRICES[network.skus.index(sku)])) for sku, q in lines],
                method=method,
                address={} if store else dict(ADDRESSES["near"]),
                pickup_store=store,
                tenders=[{"type": "card", "amount": str(total), "reference": external_id}],
            )
        )
        for f in order.fulfilments.all():
            fulfilment_accept(fulfilment=f)
            fulfilment_pick(fulfilment=f, picked={})
            fulfilment_pack(fulfilment=f)
            if f.is_pickup():
                f = fulfilment_ready(fulfilment=f)
                fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code)
            else:
                fulfilment_ship(fulfilment=f, carrier="DPD", tracking=external_id)
    return network
