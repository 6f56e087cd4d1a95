"""Order-side writes: channels, customers, order intake, holds, cancellation, notes."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.credentials import hash_token
from inventory.models import Channel, Location

from .addresses import address_change_refusal, delivery_address
from .amounts import order_amounts
from .events import event_emit, events_together
from .exceptions import TransitionNotAllowed
from .identity import customer_resolve
from .intake import (
    MAX_ORDER_TOTAL,
    WHEN_SHORT,
    OrderInput,
    OrderLineInput,
    is_currency,
    order_lines_validated,
    repeat_check,
    tenders_check,
)
from .models import (
    Activity,
    ApiToken,
    Customer,
    IdempotencyKey,
    Note,
    Order,
    OrderLine,
    StaffProfile,
)
from .ports import order_router
from .promises import promises_refresh
from .selectors import order_by_external_id, order_line_cancellable
from .transitions import transition_apply

# --- channels --------------------------------------------------------------------------


@transaction.atomic
def channel_create(*, code: str, name: str, kind: str) -> tuple[Channel, str]:
    """Create a channel with its first API token; return both (the raw token is shown once)."""
    if kind not in Channel.Kind.values:
        raise InvalidInput(
            f"Unknown channel kind {kind!r}.", errors={"kind": [f"Use one of {', '.join(Channel.Kind.values)}."]}
        )
    if Channel.objects.filter(code=code).exists():
        raise InvalidInput(f"Channel {code} already exists.", errors={"code": ["Already exists."]})
    channel = Channel(code=code, name=name, kind=kind)
    channel.full_clean()
    channel.save()
    return channel, api_token_issue(channel=channel)


def api_token_issue(*, channel: Channel, name: str = "default") -> str:
    """Issue a new token for a channel (several may be live at once, for rotation)."""
    raw = ApiToken.generate()
    ApiToken.objects.create(channel=channel, name=name, prefix=raw[:12], digest=hash_token(raw))
    return raw


# --- staff -----------------------------------------------------------------------------


@transaction.atomic
def staff_create(*, username: str, password: str, role: str, store_codes: list[str] = ()) -> StaffProfile:
    """Create a person with a role; store staff must name at least one store and only they may.

    Agents, supervisors and admins get Django's ``is_staff`` (session access to the API and
    the back office); only admins get the Django admin's superuser rights.
    """
    User = get_user_model()
    if role not in StaffProfile.Role.values:
        raise InvalidInput(
            f"Unknown role {role!r}.", errors={"role": [f"Use one of {', '.join(StaffProfile.Role.values)}."]}
        )
    if not username or User.objects.filter(username=username).exists():
        raise InvalidInput(
            f"User {username!r} already exists or is empty.", errors={"username": ["Already exists or empty."]}
        )
    is_store_staff = role == StaffProfile.Role.STORE_STAFF
    if is_store_staff and not store_codes:
        raise InvalidInput("Store staff need at least one store.", errors={"store": ["Name one or more stores."]})
    if store_codes and not is_store_staff:
        raise InvalidInput("Only store staff are bound to stores.", errors={"store": ["Only for role store_staff."]})
    stores = list(Location.objects.filter(code__in=store_codes, active=True))
    unknown = sorted(set(store_codes) - {s.code for s in stores})
    if unknown:
        raise InvalidInput(f"Unknown or inactive location: {', '.join(unknown)}.", errors={"store": unknown})
    user = User(username=username, is_staff=not is_store_staff, is_superuser=role == StaffProfile.Role.ADMIN)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("Password refused: " + " ".join(exc.messages), errors={"password": exc.messages}) from exc
    user.set_password(password)
    user.save()
    profile = StaffProfile.objects.create(user=user, role=role)
    profile.stores.set(stores)
    return profile


# --- customers -------------------------------------------------------------------------


@transaction.atomic
def customers_merge(*, keep: Customer, merge: Customer, actor=None) -> Customer:
    """Fold ``merge`` into ``keep``: its orders move over and its identifiers fill gaps."""
    if keep.pk == merge.pk:
        raise InvalidInput("A customer cannot be merged into themselves.", errors={"merge": ["Same customer."]})
    if keep.merged_into_id or merge.merged_into_id:
        raise InvalidInput("Only live customers can be merged.", errors={"merge": ["Already merged."]})
    moved = list(Order.objects.filter(customer=merge).values_list("pk", flat=True))
    Activity.objects.bulk_create(
        Activity(order_id=pk, subject="order", action="customer_merge", reason=f"#{merge.pk} → #{keep.pk}", actor=actor)
        for pk in moved
    )
    Order.objects.filter(customer=merge).update(customer=keep)
    gaps = {
        k: getattr(merge, k) for k in ("email", "phone", "member_number") if getattr(merge, k) and not getattr(keep, k)
    }
    Customer.objects.filter(pk=merge.pk).update(merged_into=keep)
    if gaps:
        Customer.objects.filter(pk=keep.pk).update(**gaps)
    keep.refresh_from_db()
    return keep


# --- order intake ----------------------------------------------------------------------


def _destination(data: OrderInput) -> tuple[Location | None, dict, float | None, float | None]:
    if data.method == Order.Method.PICKUP:
        store = Location.objects.filter(code=data.pickup_store or "", active=True).first()
        if store is None:
            raise InvalidInput(f"Unknown store {data.pickup_store!r}.", errors={"fulfilment.store": ["Unknown store."]})
        if not store.pickup:
            raise InvalidInput(
                f"{store.code} does not offer collection.", errors={"fulfilment.store": ["Does not offer collection."]}
            )
        return store, {}, store.lat, store.lon
    if data.method != Order.Method.DELIVERY:
        raise InvalidInput("Unknown fulfilment method.", errors={"fulfilment.method": ["Use delivery or pickup."]})
    return (None, *delivery_address(data.address))


def order_place(*, data: OrderInput, actor=None) -> tuple[Order, bool]:
    """Capture, route and reserve an order in one transaction; return it and whether it is new.

    Idempotent per (channel, external id): a repeat returns the first order and changes
    nothing; a repeat whose body differs raises ExternalIdConflict. A shortfall raises
    InsufficientStock and leaves nothing behind.
    """
    existing = order_by_external_id(data.channel, data.external_id)
    if existing is None:
        try:
            return _order_place(data=data, actor=actor), True
        except IntegrityError:
            # The same external id won a race a moment ago: answer with that order.
            existing = order_by_external_id(data.channel, data.external_id)
            if existing is None:
                raise
    repeat_check(data=data, placed=existing)
    return existing, False


@transaction.atomic
def _order_place(*, data: OrderInput, actor) -> Order:
    # One transaction from customer to fulfilments: a failure anywhere (above all a stock
    # shortfall while reserving) must leave no order, no customer change and no reservation.
    # Its events (created, then held or allocated) are written together at the end.
    with events_together():
        return _order_capture_and_route(data=data, actor=actor)


def _order_capture_and_route(*, data: OrderInput, actor) -> Order:
    if not (data.external_id or "").strip():
        raise InvalidInput("external_id is required.", errors={"external_id": ["Required."]})
    if not is_currency(data.currency):
        raise InvalidInput("currency must be an ISO 4217 code.", errors={"currency": ["An ISO 4217 code, e.g. GBP."]})
    if data.payment_status not in Order.PaymentStatus.values:
        raise InvalidInput(
            "Unknown payment status.", errors={"payment.status": [f"One of {Order.PaymentStatus.values}."]}
        )
    if data.when_short and data.when_short not in WHEN_SHORT:
        raise InvalidInput("Unknown when_short.", errors={"when_short": [f"One of {', '.join(WHEN_SHORT)}."]})
    lines = order_lines_validated(data)
    total = sum((line.unit_price * line.quantity for line in lines), Decimal(0))
    if total >= MAX_ORDER_TOTAL:
        raise InvalidInput(
            "The order total is too large.", errors={"lines": [f"The total must be below {MAX_ORDER_TOTAL}."]}
        )
    tenders_check(payment_status=data.payment_status, tenders=data.tenders, total=total)
    store, address, lat, lon = _destination(data)
    customer = customer_resolve(
        email=data.customer.get("email"),
        phone=data.customer.get("phone"),
        member_number=data.customer.get("member_number"),
        name=data.customer.get("name", ""),
    )
    order = Order(
        channel=data.channel,
        external_id=data.external_id.strip(),
        customer=customer,
        currency=data.currency.upper(),
        total=total,
        payment_status=data.payment_status,
        tenders=data.tenders,
        method=data.method,
        pickup_location=store,
        address=address,
        lat=lat,
        lon=lon,
        placed_by=actor,
        when_short=data.when_short,
    )
    order.save()
    for line in lines:
        line.order = order
    OrderLine.objects.bulk_create(lines)
    event_emit("order.created", order=order, data={"order": order.pk, "number": order.number})
    if data.payment_status in (Order.PaymentStatus.PENDING, Order.PaymentStatus.FAILED):
        transition_apply(
            order, "hold", order=order, subject="order", actor=actor, reason="payment", reason_code="payment"
        )
    else:
        order_router().allocate(order=order, actor=actor, lines=lines)
    return order


# --- holds, cancellation, notes --------------------------------------------------------


def _locked(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


@transaction.atomic
def order_hold(*, order: Order, reason: str, actor=None, note: str = "", until=None) -> Order:
    """Put a placed order on hold before it is routed; with ``until`` the beat job lifts it then."""
    if reason not in Order.HoldReason.values:
        raise InvalidInput("Unknown hold reason.", errors={"reason": [f"One of {Order.HoldReason.values}."]})
    if until is not None and until <= timezone.now():
        raise InvalidInput("The time-out must be in the future.", errors={"until": ["Must be later than now."]})
    order = _locked(order)
    # The timeline tells the reason, the agent's note and when the hold lifts itself.
    said = Order.HoldReason(reason).label.lower() + (f" ({note.strip()})" if note.strip() else "")
    if until is not None:
        said += f"; released automatically at {timezone.localtime(until):%d %b %H:%M}"
    transition_apply(
        order, "hold", order=order, subject="order", actor=actor, reason=said, reason_code=reason, until=until
    )
    return order


@transaction.atomic
def order_release(*, order: Order, actor=None, note: str = "") -> Order:
    """Release a hold; the order is routed at once."""
    order = _locked(order)
    transition_apply(order, "release", order=order, subject="order", actor=actor, reason=note or "released")
    order_router().allocate(order=order, actor=actor)
    return order


def _cancellable(order: Order, order_lines: list[OrderLine], lines: dict[int, int] | None) -> dict[int, int]:
    """Order line id → units to cancel, or the refusal: after dispatch only backordered units can go."""
    dispatched = order.status not in Order.BEFORE_DISPATCH
    waiting = any(line.backordered for line in order_lines)
    if dispatched and (lines is None or not waiting or not all(lines.values())):
        what = "only backordered units" if waiting else "nothing"
        raise TransitionNotAllowed(
            f"Order {order.number} is already {order.status}; {what} can be cancelled.",
            current=order.status,
            allowed=sorted(t.name for t in order.get_available_status_transitions()),
        )
    if lines is None:
        return {line.pk: line.open_quantity for line in order_lines}
    known = {line.pk: line for line in order_lines}
    for line_id, quantity in lines.items():
        line = known.get(line_id)
        if dispatched and line is not None and quantity > order_line_cancellable(order=order, line=line):
            raise TransitionNotAllowed(
                f"Order {order.number} is already {order.status}; only the {line.backordered} backordered "
                f"unit(s) of {line.sku.code} can still be cancelled.",
                current=order.status,
                allowed=sorted(t.name for t in order.get_available_status_transitions()),
            )
        if line is None or quantity <= 0 or quantity > line.open_quantity:
            raise InvalidInput("Cannot cancel that quantity.", errors={f"lines.{line_id}": ["Not open on this order."]})
    return lines


@transaction.atomic
def order_cancel(*, order: Order, reason: str, actor=None, lines: dict[int, int] | None = None) -> Order:
    """Cancel the whole order, or some quantities of its lines, before they are dispatched.

    ``lines`` maps order line id → quantity to cancel; each cancelled line is audited. A
    line's backordered units go first, then its allocated ones, whose stock the fulfilment
    layer releases; backordered units can be cancelled even after other parts were
    dispatched. The order total drops by the cancelled units' value, and an order with
    nothing left open becomes cancelled.
    """
    order = _locked(order)
    order_lines = list(order.lines.select_related("sku"))
    todo = _cancellable(order, order_lines, lines)
    audit = []
    allocated: dict[int, int] = {}  # line id -> units to take out of fulfilments
    no_longer_waiting: set[int] = set()  # SKUs of the backordered units cancelled
    for line in order_lines:
        if todo.get(line.pk):
            # Who, which line, how many (open units before → after) and why: the timeline tells it.
            audit.append(
                Activity(
                    order=order,
                    subject=f"line:{line.pk}",
                    action="cancel_line",
                    from_state=str(line.open_quantity),
                    to_state=str(line.open_quantity - todo[line.pk]),
                    reason=reason[:255],
                    actor=actor,
                )
            )
            waiting = min(line.backordered, todo[line.pk])
            if todo[line.pk] > waiting:
                allocated[line.pk] = todo[line.pk] - waiting
            if waiting:
                no_longer_waiting.add(line.sku_id)
            line.cancelled_quantity += todo[line.pk]
            line.backordered -= waiting
            line.save(update_fields=["cancelled_quantity", "backordered"])
    if lines is not None:
        Activity.objects.bulk_create(audit)
    # After the lines: the fulfilment layer then sees what is still owed when it moves the order.
    order_router().cancel(order=order, actor=actor, reason=reason, lines=None if lines is None else allocated)
    # The supply these units were promised goes to the orders placed after it.
    promises_refresh(sku_ids=no_longer_waiting)
    order.total = order_amounts(order=order, lines=order_lines).total
    if all(line.open_quantity == 0 for line in order_lines):
        transition_apply(order, "cancel", order=order, subject="order", actor=actor, reason=reason, fields=["total"])
    else:
        order.save(update_fields=["total"])
    return order


@transaction.atomic
def order_change_address(*, order: Order, address: dict, actor=None) -> Order:
    """Change the delivery address before anything is dispatched; re-route when a better location now wins."""
    order = _locked(order)
    refusal = address_change_refusal(order)
    if refusal is not None:
        raise refusal
    order.address, order.lat, order.lon = delivery_address(address, field="address")
    order.save(update_fields=["address", "lat", "lon"])
    Activity.objects.create(
        order=order, subject="order", action="change_address", reason=order.address.get("postcode", ""), actor=actor
    )
    if order.status not in (Order.Status.ON_HOLD, Order.Status.PLACED):
        if order_router().reroute(order=order, actor=actor, reason="delivery address changed"):
            # The audit trail says where the order went and why, not only that it moved.
            reason = order.routing.get("summary", "delivery address changed")[:255]
            Activity.objects.create(order=order, subject="order", action="reroute", reason=reason, actor=actor)
    return order


def order_place_for_walk_in(
    *,
    store: Location,
    staff,
    lines: list[OrderLineInput],
    customer: dict,
    address: dict | None = None,
    currency: str = "GBP",
) -> Order:
    """Endless aisle: a store orders stock held elsewhere for a walk-in customer.

    The order belongs to the ``store`` channel and records the member of staff; with
    no address it is collected at the ordering store.
    """
    channel = Channel.objects.filter(kind=Channel.Kind.STORE, active=True).order_by("pk").first()
    if channel is None:
        raise InvalidInput("No active store channel is configured.", errors={"channel": ["Create a store channel."]})
    data = OrderInput(
        channel=channel,
        external_id=f"{store.code}-{uuid.uuid4().hex[:12].upper()}",
        lines=lines,
        currency=currency,
        method=Order.Method.DELIVERY if address else Order.Method.PICKUP,
        address=address or {},
        pickup_store=None if address else store.code,
        customer=customer,
    )
    order, _ = order_place(data=data, actor=staff)
    return order


def note_add(*, order: Order, text: str, author=None, internal: bool = False) -> Note:
    """Add a service note to the order: every channel and store sees it, unless it is ``internal``."""
    if not text.strip():
        raise InvalidInput("A note needs text.", errors={"text": ["Required."]})
    return Note.objects.create(order=order, text=text.strip(), author=author, internal=internal)


def orders_release_due_holds(*, now=None) -> int:
    """Release timed holds whose time has come, routing each order; safe to run twice."""
    now = now or timezone.now()
    due = Order.objects.filter(status=Order.Status.ON_HOLD, hold_until__lte=now).values_list("pk", flat=True)
    released = 0
    for pk in list(due):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.status == Order.Status.ON_HOLD and order.hold_until and order.hold_until <= now:
                transition_apply(order, "release", order=order, subject="order", reason="its time-out passed")
                order_router().allocate(order=order)
                released += 1
    return released


def orders_expire_unpaid(*, now=None) -> int:
    """Cancel orders still held for payment after the unpaid window; safe to run twice."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OMS_UNPAID_EXPIRY_HOURS)
    due = Order.objects.filter(
        status=Order.Status.ON_HOLD, hold_reason=Order.HoldReason.PAYMENT, created_at__lte=cutoff
    ).values_list("pk", flat=True)
    expired = 0
    for pk in list(due):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.status == Order.Status.ON_HOLD and order.hold_reason == Order.HoldReason.PAYMENT:
                # The one way to cancel: the lines say nothing is open, as after any other cancellation.
                order_cancel(order=order, reason="unpaid")
                expired += 1
    return expired


def idempotency_keys_expire(*, now=None) -> int:
    """Forget stored first responses older than OMS_IDEMPOTENCY_TTL_HOURS; a later repeat runs anew."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.OMS_IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
