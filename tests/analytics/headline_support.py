"""Two days of orders and the headline figures computed straight from the order tables."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import F, Sum
from django.utils import timezone

from fulfilment.models import Fulfilment
from omnichannel.analytics.selectors import day_bounds
from oms.models import Activity, Order, OrderLine
from returns.models import Return

from .shop import build_shop, ship

LIVE_EXCLUDED = [Fulfilment.Status.DECLINED, Fulfilment.Status.CANCELLED]


def two_days_of_orders(network):
    """Today: the collection and the split order (shipped on time); yesterday: the store and warehouse orders,
    the warehouse one shipped a day late and returned."""
    shop = build_shop(network)
    for part in shop.orders["split"].fulfilments.all():
        ship(part, 2)
    yesterday = timezone.now() - timedelta(days=1)
    moved = [shop.orders["near"].pk, shop.orders["warehouse"].pk]
    Order.objects.filter(pk__in=moved).update(created_at=yesterday)
    Fulfilment.objects.filter(order_id__in=moved).update(
        created_at=yesterday, due_by=F("due_by") - timedelta(days=1)
    )  # accepted yesterday, so due a day earlier
    Activity.objects.filter(order_id__in=moved).update(at=yesterday)
    return shop


def figures_from_the_database(day: date) -> dict:
    start, end = day_bounds(day)
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    revenue = OrderLine.objects.filter(order__in=orders).aggregate(
        v=Sum(F("unit_price") * (F("quantity") - F("cancelled_quantity")))
    )["v"] or Decimal(0)
    live = list(Fulfilment.objects.filter(order__in=orders).exclude(status__in=LIVE_EXCLUDED))
    by_order: dict[int, int] = {}
    for f in live:
        by_order[f.order_id] = by_order.get(f.order_id, 0) + 1
    done = [f for f in Fulfilment.objects.filter(order__in=orders) if f.ready_at or f.dispatched_at]
    on_time = [
        f
        for f in done
        if (f.ready_at or f.dispatched_at) <= (f.due_by or f.ready_by or f.created_at + timedelta(hours=4))
    ]
    returned = {r.order_id for r in Return.objects.filter(order__in=orders).exclude(status__in=Return.VOID)}

    def rate(part, whole):
        return part / whole if whole else None

    return {
        "orders": orders.count(),
        "revenue": revenue,
        "ship_from_store": rate(sum(f.method == "ship_from_store" for f in live), len(live)),
        "click_and_collect": rate(sum(f.method == "click_and_collect" for f in live), len(live)),
        "split_rate": rate(sum(n > 1 for n in by_order.values()), len(by_order)),
        "on_time": rate(len(on_time), len(done)),
        "return_rate": rate(len(returned), orders.count()),
    }


def expected_change(kind: str, now, before):
    if now is None or before is None:
        return None
    if kind == "rate":
        return now - before
    return float(now - before) / float(before) if before else None
