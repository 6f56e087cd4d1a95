"""The back office's worklists: the exceptions an agent or supervisor must act on, oldest first.

Each worklist is one definition — which rows belong, how they may be filtered and sorted —
and both its page and its count on the home page read that one definition, so a count
never disagrees with its list. The counts of every list come from four queries (one per
table the lists start from), whatever the number of rows.

Where a notion already exists it is reused, not restated: "overdue" store work is the
store queue's own (``fulfilment.store_work.fulfilments_overdue``), a pickup expires after
``OMS_PICKUP_EXPIRY_DAYS`` as the expiry job says, a refund waiting for approval is what
the approvals page lists (``returns.approvals.refund_requests_pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from fulfilment.models import Fulfilment
from fulfilment.store_work import fulfilments_overdue
from inventory.models import Channel, Location
from oms.models import Activity, Order, OrderLine, WebhookDelivery, WebhookEndpoint
from returns.approvals import refund_requests_pending
from returns.models import RefundRequest, Return

PAGE_SIZE = 25
# A parcel is "about to expire" in its last day on the shelf.
PICKUP_EXPIRY_WARNING = timedelta(hours=24)
# A store that declined the order this often means the network cannot serve it as routed.
DECLINES_TO_FLAG = 2
# Webhook failures older than this are history, not today's work.
WEBHOOK_FAILURE_WINDOW = timedelta(days=7)
# Orders still being worked: a store's lateness or declines matter only until they are.
IN_PROGRESS = [Order.Status.ALLOCATED, Order.Status.BACKORDERED, Order.Status.IN_FULFILMENT]


@dataclass(frozen=True)
class Filter:
    """One drop-down above a list: its query parameter, label, choices and the lookup it sets."""

    param: str
    label: str
    lookup: str
    choices: Callable[[], list[tuple[str, str]]]


@dataclass(frozen=True)
class Worklist:
    slug: str
    title: str
    explains: str
    rows: Callable[[datetime], QuerySet]  # every row, annotated with what the columns show
    sorts: dict[str, tuple]  # sort key → order_by; the first one is the default
    filters: tuple[Filter, ...] = field(default=())


# --- annotations ---------------------------------------------------------------------------


def _last_activity(*actions: str):
    """When the order last went through one of ``actions`` (e.g. when it was put on hold)."""
    rows = Activity.objects.filter(order=OuterRef("pk"), subject="order", action__in=actions).order_by("-at", "-pk")
    return Subquery(rows.values("at")[:1], output_field=DateTimeField())


def _declines():
    declined = Fulfilment.objects.filter(order=OuterRef("pk"), status=Fulfilment.Status.DECLINED).order_by()
    return Coalesce(
        Subquery(declined.values("order").annotate(n=Count("pk")).values("n"), output_field=IntegerField()), Value(0)
    )


def _expiring_pickups(now: datetime) -> QuerySet[Fulfilment]:
    shelf_life = timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
    return Fulfilment.objects.filter(
        status=Fulfilment.Status.READY_FOR_PICKUP, ready_at__lte=now - shelf_life + PICKUP_EXPIRY_WARNING
    )


def _orders():
    return Order.objects.select_related("channel", "customer").defer("routing")


# --- the order-based lists: one condition each, shared by the list and the count ----------


def _order_conditions(now: datetime) -> dict[str, Q]:
    return {
        "holds": Q(status=Order.Status.ON_HOLD),
        "backorders": Q(status=Order.Status.BACKORDERED) | Q(has_backordered_units=True),
        "store-work": Q(status__in=IN_PROGRESS) & (Q(has_overdue_work=True) | Q(declines__gte=DECLINES_TO_FLAG)),
        "pickups": Q(has_expiring_pickup=True),
    }


def _order_aliases(now: datetime) -> dict:
    return {
        "has_overdue_work": Exists(fulfilments_overdue(now=now).filter(order=OuterRef("pk"))),
        "declines": _declines(),
        "has_expiring_pickup": Exists(_expiring_pickups(now).filter(order=OuterRef("pk"))),
        # Units waiting for supply on an order whose other units are allocated or on their way.
        "has_backordered_units": Exists(OrderLine.objects.filter(order=OuterRef("pk"), backordered__gt=0)),
    }


def _order_rows(slug: str):
    def rows(now: datetime) -> QuerySet[Order]:
        aliases = _order_aliases(now)
        return _orders().alias(**aliases).filter(_order_conditions(now)[slug])

    return rows


def _holds(now: datetime) -> QuerySet[Order]:
    return _order_rows("holds")(now).annotate(since=Coalesce(_last_activity("hold"), F("created_at")))


def _backorders(now: datetime) -> QuerySet[Order]:
    # Orders backordered whole, and orders with some units waiting for supply; the list shows
    # how long each has waited since it was backordered (else since it was placed).
    # Promised: the day the last waiting unit is expected, unless a waiting line has no date.
    waiting = OrderLine.objects.filter(order=OuterRef("pk"), backordered__gt=0)
    return (
        _order_rows("backorders")(now)
        .annotate(since=Coalesce(_last_activity("backorder"), F("created_at")))
        .annotate(
            promised=Subquery(waiting.order_by("-promised_on").values("promised_on")[:1]),
            unpromised=Exists(waiting.filter(promised_on__isnull=True)),
        )
    )


def _store_work(now: datetime) -> QuerySet[Order]:
    first_due = fulfilments_overdue(now=now).filter(order=OuterRef("pk")).order_by("due_at", "pk")
    return _order_rows("store-work")(now).annotate(
        due_at=Subquery(first_due.values("due_at")[:1], output_field=DateTimeField()),
        late_at=Subquery(first_due.values("location__name")[:1]),
        declined=F("declines"),
    )


def _pickups(now: datetime) -> QuerySet[Order]:
    parcel = _expiring_pickups(now).filter(order=OuterRef("pk")).order_by("ready_at", "pk")
    shelf_life = timedelta(days=settings.OMS_PICKUP_EXPIRY_DAYS)
    return _order_rows("pickups")(now).annotate(
        expires_at=ExpressionWrapper(
            Subquery(parcel.values("ready_at")[:1], output_field=DateTimeField()) + shelf_life,
            output_field=DateTimeField(),
        ),
        parcel_id=Subquery(parcel.values("pk")[:1]),
        pickup_store=Subquery(parcel.values("location__name")[:1]),
    )


# --- returns, refund requests, webhook endpoints -----------------------------------------


def _unrefunded_returns() -> QuerySet[Return]:
    """Received (and perhaps inspected) but not settled, and not already waiting for a supervisor."""
    pending = RefundRequest.objects.filter(ret=OuterRef("pk"), status=RefundRequest.Status.PENDING)
    return Return.objects.filter(status__in=[Return.Status.RECEIVED, Return.Status.INSPECTED]).exclude(Exists(pending))


def _returns(now: datetime) -> QuerySet[Return]:
    return _unrefunded_returns().select_related("order", "received_location")


def _approvals(now: datetime) -> QuerySet[RefundRequest]:
    return refund_requests_pending()


def _failing_endpoints_condition(now: datetime) -> Q:
    since = now - WEBHOOK_FAILURE_WINDOW
    return Q(deliveries__status=WebhookDelivery.Status.FAILED, deliveries__created_at__gte=since) | Q(
        deliveries__status=WebhookDelivery.Status.PENDING, deliveries__attempts__gt=0
    )


def _webhooks(now: datetime) -> QuerySet[WebhookEndpoint]:
    since = now - WEBHOOK_FAILURE_WINDOW
    given_up = Q(deliveries__status=WebhookDelivery.Status.FAILED, deliveries__created_at__gte=since)
    retrying = Q(deliveries__status=WebhookDelivery.Status.PENDING, deliveries__attempts__gt=0)
    return (
        WebhookEndpoint.objects.filter(active=True)
        .select_related("channel")
        .annotate(
            given_up=Count("deliveries", filter=given_up),
            retrying=Count("deliveries", filter=retrying),
            oldest_failure=Min("deliveries__created_at", filter=given_up | retrying),
            last_try=Max("deliveries__log__at", filter=given_up | retrying),
        )
        .filter(Q(given_up__gt=0) | Q(retrying__gt=0))
    )


def _channels() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in Channel.objects.order_by("name")]


def _stores() -> list[tuple[str, str]]:
    return [(loc.code, loc.name or loc.code) for loc in Location.objects.order_by("name")]


WORKLISTS: dict[str, Worklist] = {
    w.slug: w
    for w in (
        Worklist(
            "holds",
            "Orders on hold",
            "Stopped before routing; released by hand or when their time-out passes.",
            _holds,
            {"since": ("since", "pk"), "-since": ("-since", "-pk"), "until": ("hold_until", "pk")},
            (Filter("reason", "Reason", "hold_reason", lambda: list(Order.HoldReason.choices)),),
        ),
        Worklist(
            "backorders",
            "Backorders waiting",
            "Waiting for stock, and by when known supply covers them; they fill on arrival, or re-route or cancel.",
            _backorders,
            {"since": ("since", "pk"), "-since": ("-since", "-pk"), "-total": ("-total", "pk")},
            (Filter("channel", "Channel", "channel__code", _channels),),
        ),
        Worklist(
            "store-work",
            "Store work late or declined",
            f"A store is past its deadline, or {DECLINES_TO_FLAG} or more stores declined the order.",
            _store_work,
            {
                "due": (F("due_at").asc(nulls_last=True), "pk"),
                "-declined": ("-declined", "pk"),
                "placed": ("created_at", "pk"),
            },
        ),
        Worklist(
            "pickups",
            "Pickups about to expire",
            "Parcels in their last day on the shelf; remind the customer or extend by re-sending the code.",
            _pickups,
            {"expires": ("expires_at", "pk"), "-expires": ("-expires_at", "-pk")},
        ),
        Worklist(
            "returns",
            "Returns received, not refunded",
            "Goods are back; the customer is still waiting for their money.",
            _returns,
            {"received": ("received_at", "pk"), "-received": ("-received_at", "-pk")},
            (Filter("store", "Received at", "received_location__code", _stores),),
        ),
        Worklist(
            "approvals",
            "Refunds waiting for approval",
            "Refunds above the requester's limit; only a supervisor decides.",
            _approvals,
            {"requested": ("requested_at", "pk"), "-amount": ("-amount", "pk")},
        ),
        Worklist(
            "webhooks",
            "Webhook endpoints failing",
            "Deliveries given up in the last week, or failing and being retried now.",
            _webhooks,
            {"oldest": ("oldest_failure", "pk"), "-given-up": ("-given_up", "pk")},
        ),
    )
}


@dataclass
class WorklistPage:
    worklist: Worklist
    page: Page
    sort: str
    selected: dict[str, str]


def worklist_page(*, slug: str, now: datetime, params, page_number=1) -> WorklistPage | None:
    """One page of a worklist, filtered and sorted by the request's parameters (unknown ones ignored)."""
    worklist = WORKLISTS.get(slug)
    if worklist is None:
        return None
    rows = worklist.rows(now)
    selected = {}
    for f in worklist.filters:
        value = (params.get(f.param) or "").strip()
        if value and value in dict(f.choices()):
            rows = rows.filter(**{f.lookup: value})
            selected[f.param] = value
    sort = params.get("sort") if params.get("sort") in worklist.sorts else next(iter(worklist.sorts))
    rows = rows.order_by(*worklist.sorts[sort])
    page = Paginator(rows, PAGE_SIZE).get_page(page_number)
    return WorklistPage(worklist=worklist, page=page, sort=sort, selected=selected)


def worklist_counts(*, now: datetime) -> dict[str, int]:
    """How many rows each worklist has, in four queries: orders, returns, refund requests, endpoints."""
    conditions = _order_conditions(now)
    counts = (
        Order.objects.alias(**_order_aliases(now))
        .order_by()
        .aggregate(**{slug: Count("pk", filter=condition) for slug, condition in conditions.items()})
    )
    counts["returns"] = _unrefunded_returns().count()
    counts["approvals"] = refund_requests_pending().count()
    counts["webhooks"] = (
        WebhookEndpoint.objects.filter(active=True).filter(_failing_endpoints_condition(now)).distinct().count()
    )
    return {slug: counts[slug] for slug in WORKLISTS}
