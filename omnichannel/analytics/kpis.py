"""Cross-channel measures: what each channel contributes, what customers are worth across channels,
whether they cross from online to the store and back, and how often a store serves an order it did not sell.

These read the order tables (on the replica, like the rest of the analytics pages), not the
daily roll-ups: they follow customers across days and channels, which a per-day, per-channel
row cannot hold. "Online" is every channel that is not a store (web, app, marketplace,
social, live stream); "in a store" is an order through a store channel (till or endless aisle).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from fulfilment.models import Fulfilment
from inventory.models import Channel, Location
from oms.models import Customer, Order, OrderLine

from .selectors import AnalyticsFilters, day_bounds, share

MONEY = DecimalField(max_digits=14, decimal_places=2)
STORE = Channel.Kind.STORE


def _period_orders(filters: AnalyticsFilters, *, by_channel: bool = True):
    start, _ = day_bounds(filters.start)
    _, end = day_bounds(filters.end)
    orders = Order.objects.filter(created_at__gte=start, created_at__lt=end)
    if by_channel and filters.channel is not None:
        orders = orders.filter(channel=filters.channel)
    return orders


def _line_value():
    return ExpressionWrapper(F("unit_price") * (F("quantity") - F("cancelled_quantity")), output_field=MONEY)


@dataclass(frozen=True)
class Contribution:
    code: str
    orders: int
    revenue: Decimal
    revenue_share: float | None
    costed_revenue: Decimal  # revenue of the units whose cost is known
    margin: Decimal | None  # on the costed revenue; None when no cost is known
    margin_rate: float | None
    cost_coverage: float | None  # costed revenue over revenue


def channel_contribution(*, filters: AnalyticsFilters) -> list[Contribution]:
    """Per channel: revenue and its share of all revenue, and the margin of the units whose cost is known."""
    costed = Q(sku__unit_cost__isnull=False)
    units = F("quantity") - F("cancelled_quantity")
    rows = list(
        OrderLine.objects.filter(order__in=_period_orders(filters))
        .values("order__channel__code")
        .annotate(
            orders=Count("order", distinct=True),
            revenue=Coalesce(Sum(_line_value()), Value(Decimal(0)), output_field=MONEY),
            costed_revenue=Coalesce(Sum(_line_value(), filter=costed), Value(Decimal(0)), output_field=MONEY),
            cost=Sum(ExpressionWrapper(F("sku__unit_cost") * units, output_field=MONEY), filter=costed),
        )
        .order_by("order__channel__code")
    )
    total = sum((r["revenue"] for r in rows), Decimal(0))
    result = []
    for r in rows:
        margin = r["costed_revenue"] - r["cost"] if r["cost"] is not None else None
        result.append(
            Contribution(
                code=r["order__channel__code"],
                orders=r["orders"],
                revenue=r["revenue"],
                revenue_share=share(r["revenue"], total),
                costed_revenue=r["costed_revenue"],
                margin=margin,
                margin_rate=share(margin, r["costed_revenue"]) if margin is not None else None,
                cost_coverage=share(r["costed_revenue"], r["revenue"]),
            )
        )
    return result


@dataclass(frozen=True)
class LifetimeBand:
    label: str
    customers: int
    share: float | None
    mean_value: Decimal | None


@dataclass(frozen=True)
class CrossChannelCustomers:
    bands: list[LifetimeBand]  # by the number of channels a customer bought through
    first_online: int
    online_then_store: int
    first_store: int
    store_then_online: int
    multi_channel_mean: Decimal | None  # mean lifetime value of customers of two or more channels

    @property
    def online_to_store_rate(self) -> float | None:
        return share(self.online_then_store, self.first_online)

    @property
    def store_to_online_rate(self) -> float | None:
        return share(self.store_then_online, self.first_store)


def cross_channel_customers(*, filters: AnalyticsFilters) -> CrossChannelCustomers:
    """Customers who ordered in the period, over their whole history with us, in one query.

    Lifetime value is what they ordered (not cancelled) through every channel. A customer
    "first online, later in a store" placed their first order online and has a store order
    since; the reverse likewise. The channel filter does not apply: these are across channels.
    """
    mine = Order.objects.filter(customer=OuterRef("pk"))
    first_kind = Subquery(mine.order_by("created_at", "pk").values("channel__kind")[:1])
    value = (
        OrderLine.objects.filter(order__customer=OuterRef("pk"))
        .order_by()
        .values("order__customer")
        .annotate(v=Sum(_line_value()))
        .values("v")
    )
    channels = mine.order_by().values("customer").annotate(n=Count("channel", distinct=True)).values("n")
    rows = (
        Customer.objects.filter(
            merged_into__isnull=True, pk__in=_period_orders(filters, by_channel=False).values("customer")
        )
        .annotate(
            first_kind=first_kind,
            in_store=Exists(mine.filter(channel__kind=STORE)),
            online=Exists(mine.exclude(channel__kind=STORE)),
            lifetime=Coalesce(Subquery(value, output_field=MONEY), Value(Decimal(0)), output_field=MONEY),
            channels=Subquery(channels),
        )
        .values_list("first_kind", "in_store", "online", "lifetime", "channels")
    )
    bands: dict[str, list[Decimal]] = {"1 channel": [], "2 channels": [], "3 or more channels": []}
    first_online = online_then_store = first_store = store_then_online = 0
    for kind, in_store, online, lifetime, n in rows:
        label = "1 channel" if n <= 1 else "2 channels" if n == 2 else "3 or more channels"
        bands[label].append(lifetime)
        if kind == STORE:
            first_store += 1
            store_then_online += bool(online)
        else:
            first_online += 1
            online_then_store += bool(in_store)
    everyone = sum(len(values) for values in bands.values())
    many = bands["2 channels"] + bands["3 or more channels"]
    return CrossChannelCustomers(
        bands=[
            LifetimeBand(
                label,
                len(values),
                share(len(values), everyone),
                (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01")) if values else None,
            )
            for label, values in bands.items()
        ],
        first_online=first_online,
        online_then_store=online_then_store,
        first_store=first_store,
        store_then_online=store_then_online,
        multi_channel_mean=(sum(many, Decimal(0)) / len(many)).quantize(Decimal("0.01")) if many else None,
    )


@dataclass(frozen=True)
class StoreService:
    code: str
    orders: int
    served_by_store: int
    rate: float | None


def served_by_another_channels_store(*, filters: AnalyticsFilters) -> list[StoreService]:
    """Per channel: orders placed in the period that a store served (shipped from it or handed over there)
    although the order was not bought through a store channel."""
    served = Fulfilment.objects.filter(order=OuterRef("pk"), location__kind=Location.Kind.STORE).exclude(
        status__in=[Fulfilment.Status.DECLINED, Fulfilment.Status.CANCELLED]
    )
    rows = (
        _period_orders(filters)
        .order_by()
        .values("channel__code")
        .annotate(
            n=Count("pk"),
            by_store=Count("pk", filter=Q(Exists(served)) & ~Q(channel__kind=STORE)),
        )
        .order_by("channel__code")
    )
    return [StoreService(r["channel__code"], r["n"], r["by_store"], share(r["by_store"], r["n"])) for r in rows]
