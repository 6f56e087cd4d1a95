"""Returns: request with eligibility rules, receive at any location, refund once, or exchange."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from fulfilment.models import Fulfilment
from fulfilment.services import (
    fulfilment_accept,
    fulfilment_collect,
    fulfilment_pick,
    fulfilment_ready,
)
from inventory.exceptions import DomainError, InvalidInput
from inventory.models import AdjustmentReason, Channel, Location, StockMovement
from inventory.services import stock_receive, stock_write_off
from oms.access import refund_limit, refund_refusal
from oms.intake import OrderInput, OrderLineInput
from oms.models import Activity, Order, OutboxEvent
from oms.services import order_place
from oms.transitions import transition_apply

from .models import Refund, RefundRequest, Return, ReturnException, ReturnLine, ReturnPolicy, ReturnReason
from .spread import Receipt, spread

Condition = ReturnLine.Condition


class ReturnNotAllowed(DomainError):
    """A return rule refuses the request; ``errors`` names the line and the rule."""


@dataclass(frozen=True)
class ReturnLineInput:
    sku: str
    quantity: int
    reason: str = ""


@dataclass(frozen=True)
class ReceivedLine:
    sku: str
    quantity: int
    condition: str = Condition.RESELLABLE


# --- eligibility -----------------------------------------------------------------------


def returnable_quantities(*, order: Order) -> dict[int, int]:
    """Units per order line that may still be returned: dispatched or collected, less open and done returns."""
    dispatched = Counter()
    for line_id, quantity in (
        Fulfilment.objects.filter(order=order, status__in=Fulfilment.DISPATCHED)
        .values_list("lines__order_line_id")
        .annotate(n=Sum("lines__quantity"))
    ):
        dispatched[line_id] += quantity or 0
    # A return takes the units it asked for, or those that arrived if the parcel held more:
    # units booked in (and refunded) once can never be returned again.
    taken = dict(
        ReturnLine.objects.filter(ret__order=order)
        .exclude(ret__status__in=Return.VOID)
        .values_list("order_line_id")
        .annotate(n=Sum(Greatest("quantity", F("resellable_quantity") + F("damaged_quantity"))))
    )
    return {line_id: max(0, n - taken.get(line_id, 0)) for line_id, n in dispatched.items()}


def _window_days(channel: Channel, category: str) -> int:
    windows = dict(
        ReturnPolicy.objects.filter(channel=channel, category__in=[category, ""]).values_list("category", "window_days")
    )
    return windows.get(category, windows.get("", settings.OMS_RETURN_WINDOW_DAYS))


def _dispatched_at(order: Order) -> dict[int, object]:
    """When each order line last left (shipped or collected): its return window starts there."""
    return dict(
        Fulfilment.objects.filter(order=order, dispatched_at__isnull=False)
        .values_list("lines__order_line_id")
        .annotate(at=Max("dispatched_at"))
    )


@transaction.atomic
def return_request(*, order: Order, lines: list[ReturnLineInput], channel: Channel | None = None, actor=None) -> Return:
    """Open a return for an order of any channel; it is authorised at once when every rule passes.

    Refusals name the line and the rule: not on the order, final sale, outside the
    return window, or more than was dispatched and not yet returned.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)  # one return decision per order at a time
    if not lines:
        raise InvalidInput("A return needs at least one line.", errors={"lines": ["Required."]})
    order_lines = defaultdict(list)  # a SKU may be on several lines: its units fill them in line order
    for line in order.lines.select_related("sku").order_by("pk"):
        order_lines[line.sku.code].append(line)
    returnable = returnable_quantities(order=order)
    dispatched_at = _dispatched_at(order)
    reasons = ReturnReason.objects.in_bulk([ln.reason for ln in lines if ln.reason], field_name="code")
    now = timezone.now()
    errors: dict[str, list[str]] = {}
    room, chunks = dict(returnable), []
    for i, ln in enumerate(lines):
        field = f"lines[{i}]"
        sku_lines = order_lines.get(str(ln.sku).strip())
        if not sku_lines:
            errors[f"{field}.sku"] = [f"not_on_order: {ln.sku} is not on order {order.number}."]
            continue
        if not isinstance(ln.quantity, int) or isinstance(ln.quantity, bool) or ln.quantity <= 0:
            errors[f"{field}.quantity"] = ["Must be a whole number above zero."]
            continue
        if ln.reason and ln.reason not in reasons:
            errors[f"{field}.reason"] = [f"Unknown return reason {ln.reason!r}."]
        if sku_lines[0].sku.final_sale:
            errors[f"{field}.sku"] = [f"final_sale: {ln.sku} was sold as final sale and cannot be returned."]
            continue
        window = _window_days(order.channel, sku_lines[0].sku.category)
        days = {ol.pk: (now - dispatched_at[ol.pk]).days for ol in sku_lines if ol.pk in dispatched_at}
        if days and min(days.values()) > window:
            errors[f"{field}.sku"] = [
                f"window: {ln.sku} left {min(days.values())} days ago; the window is {window} days."
            ]
            continue
        open_lines = [ol for ol in sku_lines if days.get(ol.pk, 0) <= window]
        taken = spread(ln.quantity, ((ol, room.get(ol.pk, 0)) for ol in open_lines))
        if sum(n for _, n in taken) < ln.quantity:
            left = sum(returnable.get(ol.pk, 0) for ol in open_lines)
            errors[f"{field}.quantity"] = [
                f"over_quantity: {left} of {ln.sku} can be returned "
                "(dispatched, less what is already returned or in an open return)."
            ]
            continue
        for ol, n in taken:
            room[ol.pk] -= n
            chunks.append(ReturnLine(order_line=ol, sku=ol.sku, quantity=n, reason=reasons.get(ln.reason)))
    if errors:
        raise ReturnNotAllowed("The return breaks a return rule.", errors=errors)
    ret = Return.objects.create(order=order, channel=channel or order.channel, created_by=actor)
    for chunk in chunks:
        chunk.ret = ret
    ReturnLine.objects.bulk_create(chunks)
    Activity.objects.create(
        order=order,
        subject=ret.subject,
        action="request",
        to_state=ret.status,
        actor=actor,
        reason=f"via {ret.channel.code}",
    )
    transition_apply(ret, "authorise", order=order, subject=ret.subject, actor=actor, reason="within the return rules")
    return ret


# --- receiving -------------------------------------------------------------------------


def _locked(ret: Return) -> Return:
    """Lock the return only: the order and channel joined for reading stay free for checkouts."""
    return Return.objects.select_for_update(of=("self",)).select_related("order", "order__channel").get(pk=ret.pk)


@transaction.atomic
def return_receive(*, ret: Return, location: Location, lines: list[ReceivedLine], actor=None) -> Return:
    """Book the goods in where they arrived: resellable units straight into that location's stock,
    damaged ones into the ledger as written off. Surprises are recorded as exceptions.

    The return row is locked, so the same parcel booked twice at once restocks once.
    """
    if not location.accepts_returns or not location.active:
        raise InvalidInput(
            f"{location.code} does not accept returns.", errors={"location": ["Does not accept returns."]}
        )
    if not lines:
        raise InvalidInput("Nothing received.", errors={"lines": ["Required."]})
    ret = _locked(ret)
    return_lines = defaultdict(list)
    for rl in ret.lines.select_related("sku", "order_line").order_by("order_line_id", "pk"):
        return_lines[rl.sku.code].append(rl)
    returnable = returnable_quantities(order=ret.order)
    same_sku = defaultdict(list)
    for ol in ret.order.lines.select_related("sku").filter(sku__code__in=return_lines).order_by("pk"):
        same_sku[ol.sku.code].append(ol)
    receipts = {code: Receipt(ret, rls, same_sku[code], returnable) for code, rls in return_lines.items()}
    received = Counter()
    errors: dict[str, list[str]] = {}
    for i, ln in enumerate(lines):
        if ln.condition not in Condition.values:
            errors[f"lines[{i}].condition"] = [f"One of {', '.join(Condition.values)}."]
        if not isinstance(ln.quantity, int) or isinstance(ln.quantity, bool) or ln.quantity <= 0:
            errors[f"lines[{i}].quantity"] = ["Must be a whole number above zero."]
        elif ln.sku in receipts and ln.condition in (Condition.RESELLABLE, Condition.DAMAGED):
            received[ln.sku] += ln.quantity
    for code, quantity in received.items():
        sold = receipts[code].sold  # this return's units plus any still returnable
        if quantity > sold:
            errors[f"lines.{code}"] = [f"Received {quantity} but only {sold} were sold and not yet returned."]
    if errors:
        raise ReturnNotAllowed("The received goods do not fit the return.", errors=errors)
    transition_apply(
        ret,
        "receive",
        order=ret.order,
        subject=ret.subject,
        actor=actor,
        reason=f"at {location.code}",
        location=location,
        at=timezone.now(),
    )
    for ln in lines:
        receipt = receipts.get(ln.sku)
        if receipt is None or ln.condition in (Condition.WRONG_ITEM, Condition.MISSING):
            ReturnException.objects.create(
                ret=ret,
                sku_code=ln.sku,
                kind=ln.condition if receipt else Condition.WRONG_ITEM,
                received=ln.quantity,
                expected=receipt.expected if receipt else 0,
                note="not on the return" if receipt is None else "",
            )
            continue
        sku = receipt.lines[0].sku
        stock_receive(
            sku=sku,
            location=location,
            quantity=ln.quantity,
            kind=StockMovement.Kind.RETURN_RESTOCK,
            reference=ret.reference,
            actor=actor,
        )
        if ln.condition == Condition.DAMAGED:
            stock_write_off(
                sku=sku,
                location=location,
                quantity=ln.quantity,
                reason=AdjustmentReason.DAMAGED,
                reference=ret.reference,
                actor=actor,
            )
        receipt.book(ln.quantity, damaged=ln.condition == Condition.DAMAGED)
    for code, receipt in receipts.items():
        receipt.save()
        if receipt.received != receipt.expected:
            ReturnException.objects.create(
                ret=ret, sku_code=code, kind="quantity_mismatch", expected=receipt.expected, received=receipt.received
            )
    return ret


@transaction.atomic
def return_inspect(*, ret: Return, actor=None, note: str = "") -> Return:
    ret = _locked(ret)
    transition_apply(ret, "inspect", order=ret.order, subject=ret.subject, actor=actor, reason=note)
    return ret


# --- money -----------------------------------------------------------------------------


def return_value(ret: Return) -> Decimal:
    """What the received units were sold for."""
    return sum(
        (rl.order_line.unit_price * rl.received_quantity for rl in ret.lines.select_related("order_line")), Decimal(0)
    )


def _allocate(order: Order, amount: Decimal) -> list[dict]:
    """Split a refund across the order's tenders in their order, less what earlier refunds took."""
    used = Counter()
    for refund in Refund.objects.filter(order=order, method=Return.RefundMethod.ORIGINAL_TENDERS):
        for part in refund.allocations:
            used[part.get("reference") or part.get("type")] += Decimal(part["amount"])
    allocations, left = [], amount
    for tender in order.tenders or []:
        key = tender.get("reference") or tender.get("type")
        room = Decimal(str(tender.get("amount", "0"))) - used[key]
        take = min(room, left)
        if take > 0:
            allocations.append(
                {"type": tender.get("type", ""), "reference": tender.get("reference", ""), "amount": str(take)}
            )
            left -= take
    if left > 0:
        allocations.append({"type": "store_credit", "reference": "", "amount": str(left)})
    return allocations


def refund_room(*, order: Order, ret: Return | None = None) -> Decimal:
    """What may still go back on an order: what was paid, less refunds made and refunds awaiting approval.

    Goodwill refunds (no return) count like any other: the money is the order's.

    What was paid is the sum of the order's tenders (its total when the channel sent none).
    ``ret``'s own pending request is not counted: it is the one being decided.
    """
    tenders = order.tenders or []
    paid = sum((Decimal(str(t.get("amount", "0"))) for t in tenders), Decimal(0)) if tenders else order.total
    refunded = Refund.objects.filter(order=order).aggregate(n=Sum("amount"))["n"] or Decimal(0)
    pending = RefundRequest.objects.filter(order=order, status=RefundRequest.Status.PENDING)
    if ret is not None:
        pending = pending.exclude(ret=ret)
    return paid - refunded - (pending.aggregate(n=Sum("amount"))["n"] or Decimal(0))


class RefundNotAllowed(DomainError):
    """The refund is not due as asked: more than is left to refund, awaiting approval, or changed since shown."""


class RefundNeedsApproval(DomainError):
    """The amount is above what this person may refund alone; a supervisor must approve it."""

    def __init__(self, message: str, *, amount: Decimal, limit: Decimal):
        super().__init__(message, errors={"amount": [message]})
        self.amount, self.limit = amount, limit


@dataclass(frozen=True)
class RefundQuote:
    """What a refund of a return would pay, where it would go, and whether this person may pay it alone."""

    ret: Return | None  # None: a goodwill refund
    method: str
    amount: Decimal
    currency: str
    allocations: list[dict]
    limit: Decimal | None  # None: no limit
    refusal: str | None  # why nothing can be refunded as asked, whoever asks

    @property
    def needs_approval(self) -> bool:
        return self.limit is not None and self.amount > self.limit

    @property
    def summary(self) -> str:
        """E.g. "Refund 214.00 GBP: 200.00 to card, 14.00 to gift card"."""
        parts = ", ".join(f"{Decimal(a['amount']):.2f} to {a['type'].replace('_', ' ')}" for a in self.allocations)
        return f"Refund {self.amount:.2f} {self.currency}" + (f": {parts}" if parts else "")


def refund_quote(*, ret: Return, actor=None, method: str | None = None, shipping: Decimal = Decimal(0)) -> RefundQuote:
    """Work out the refund of ``ret`` as ``actor`` would make it, without paying anything.

    The pages show it before anyone confirms, and ``return_refund`` checks the same figures
    under lock, so what was shown is what is paid or refused.
    """
    method = method or ret.refund_method
    if method not in Return.RefundMethod.values:
        raise InvalidInput("Unknown refund method.", errors={"method": [f"One of {Return.RefundMethod.values}."]})
    order = ret.order
    amount = return_value(ret) + Decimal(shipping)
    room = refund_room(order=order, ret=ret)
    refusal = None
    if ret.status not in (Return.Status.RECEIVED, Return.Status.INSPECTED):
        refusal = f"Return {ret.reference} is {ret.get_status_display().lower()}; no refund is due."
    elif ret.refund_requests.filter(status=RefundRequest.Status.PENDING).exists():
        refusal = f"A refund of return {ret.reference} is waiting for a supervisor's approval."
    elif amount < 0:
        refusal = f"A refund cannot be negative ({amount:.2f} {order.currency})."
    else:
        refusal = over_room(order=order, amount=amount, room=room)
    return RefundQuote(ret, method, amount, order.currency, split(order, amount, method), refund_limit(actor), refusal)


def over_room(*, order: Order, amount: Decimal, room: Decimal) -> str | None:
    """Why ``amount`` cannot be refunded when only ``room`` is left of what was paid, or None."""
    if amount <= room:
        return None
    return (
        f"A refund of {amount:.2f} {order.currency} is more than the {max(room, Decimal(0)):.2f} "
        f"{order.currency} paid and not yet refunded."
    )


def split(order: Order, amount: Decimal, method: str) -> list[dict]:
    """Where a refund of ``amount`` goes: back over the order's tenders, or all to store credit."""
    if method == Return.RefundMethod.ORIGINAL_TENDERS:
        return _allocate(order, amount)
    return [{"type": "store_credit", "reference": "", "amount": str(amount)}]


@transaction.atomic
def return_refund(
    *,
    ret: Return,
    actor=None,
    method: str | None = None,
    shipping: Decimal = Decimal(0),
    expected_amount: Decimal | None = None,
) -> Refund:
    """Refund the received units (and optionally shipping) once, to the original tenders or as store credit.

    Every surface refunds through here, so the rule holds everywhere: never more than was paid
    less what was refunded, and above the actor's limit (``oms.access.refund_limit``) only a
    supervisor pays; others ask for approval (``returns.approvals``). ``expected_amount`` is
    the figure the person confirmed; a refund that no longer matches it is refused.
    The order row is locked so that two returns of one order cannot both take the same money.
    """
    Order.objects.select_for_update().filter(pk=ret.order_id).first()
    ret = _locked(ret)
    quote = refund_quote(ret=ret, actor=actor, method=method, shipping=shipping)
    # The transition refuses a settled return by its state before any other check speaks.
    transition_apply(ret, "refund", order=ret.order, subject=ret.subject, actor=actor, reason=quote.method)
    if quote.refusal:
        raise RefundNotAllowed(quote.refusal)
    if expected_amount is not None and Decimal(expected_amount) != quote.amount:
        raise RefundNotAllowed(
            f"The refund due is now {quote.amount:.2f} {quote.currency}, not {Decimal(expected_amount):.2f}; "
            "check it and confirm again."
        )
    refusal = refund_refusal(actor, quote.amount)
    if refusal:
        raise RefundNeedsApproval(refusal, amount=quote.amount, limit=quote.limit)
    refund = Refund.objects.create(
        order=ret.order,
        ret=ret,
        amount=quote.amount,
        currency=quote.currency,
        method=quote.method,
        allocations=quote.allocations,
        created_by=actor,
    )
    OutboxEvent.objects.create(
        type="refund.requested",
        channel=ret.order.channel,
        order=ret.order,
        data={
            "order": ret.order.pk,
            "order_number": ret.order.number,
            "return": ret.reference,
            "amount": str(quote.amount),
            "currency": quote.currency,
            "allocations": quote.allocations,
        },
    )
    return refund


@transaction.atomic
def return_exchange(
    *, ret: Return, lines: list[OrderLineInput], actor=None, hand_over_at: Location | None = None
) -> Return:
    """Replace the returned goods with a new order; the price difference is recorded either way.

    With ``hand_over_at`` (the store at the desk) the replacement is collected there and,
    when that store has it all, handed over at once.
    """
    ret = _locked(ret)
    if ret.refund_requests.filter(status=RefundRequest.Status.PENDING).exists():
        raise RefundNotAllowed(f"A refund of return {ret.reference} is waiting for a supervisor's approval.")
    order = ret.order
    data = OrderInput(
        channel=ret.channel or order.channel,
        external_id=f"{ret.reference}-X",
        lines=lines,
        currency=order.currency,
        # A till sale's replacement is collected at the store that sold it, unless handed over here.
        method=Order.Method.PICKUP if hand_over_at or order.method == Order.Method.IN_STORE else order.method,
        address={**order.address, "lat": order.lat, "lon": order.lon} if not hand_over_at else {},
        pickup_store=hand_over_at.code
        if hand_over_at
        else (order.pickup_location.code if order.pickup_location else None),
        customer={"email": order.customer.email, "phone": order.customer.phone} if order.customer else {},
    )
    replacement, _ = order_place(data=data, actor=actor)
    difference = replacement.total - return_value(ret)
    transition_apply(
        ret,
        "exchange",
        order=order,
        subject=ret.subject,
        actor=actor,
        reason=f"replacement {replacement.number}",
        replacement=replacement,
        difference=difference,
    )
    if hand_over_at is not None:
        for f in replacement.fulfilments.filter(source_location=hand_over_at, location=hand_over_at):
            fulfilment_accept(fulfilment=f, actor=actor)
            fulfilment_pick(
                fulfilment=f, picked={fl.sku.code: fl.quantity for fl in f.lines.select_related("sku")}, actor=actor
            )
            f = fulfilment_ready(fulfilment=f, actor=actor)
            fulfilment_collect(fulfilment=f, pickup_code=f.pickup_code, actor=actor)
    return ret


@transaction.atomic
def return_cancel(*, ret: Return, actor=None, reason: str = "") -> Return:
    ret = _locked(ret)
    transition_apply(ret, "cancel", order=ret.order, subject=ret.subject, actor=actor, reason=reason)
    return ret


@transaction.atomic
def return_reject(*, ret: Return, actor=None, reason: str) -> Return:
    ret = _locked(ret)
    transition_apply(ret, "reject", order=ret.order, subject=ret.subject, actor=actor, reason=reason)
    return ret
