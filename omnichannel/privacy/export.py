"""Everything held about one person, as one JSON-ready document (right of access and portability)."""

from __future__ import annotations

from django.db.models import Prefetch

from core.errors import InvalidInput
from fulfilment.models import Fulfilment, FulfilmentLine
from oms.models import Activity, Customer, CustomerAccess, Note, Order, OrderLine, OutboxEvent
from oms.selectors import customer_ids_matching, customer_merged_records
from returns.models import RefundRequest, Return, ReturnException, ReturnLine


def customer_find(*, identifier: str) -> Customer | None:
    """The live customer an e-mail, phone number (any format) or member number belongs to, or None.

    A merged record's identifier answers with the customer it was merged into.
    """
    ids = customer_ids_matching(query=identifier or "")
    if len(ids) > 1:
        raise InvalidInput(
            f"{identifier!r} matches {len(ids)} customers; use an identifier only one of them has.",
            errors={"identifier": ["Matches more than one customer."]},
        )
    return Customer.objects.filter(pk__in=ids).first()


def customer_records(*, customer: Customer) -> list[Customer]:
    """The customer and every record merged into them: one person's identities."""
    return [customer, *customer_merged_records(customer=customer)]


def customer_orders(*, customer: Customer) -> list[Order]:
    """Every order of the person in every channel, merged records' included, oldest first."""
    ids = [c.pk for c in customer_records(customer=customer)]
    return list(Order.objects.filter(customer__in=ids).select_related("channel").order_by("created_at", "pk"))


def _identity(record: Customer) -> dict:
    return {
        "id": record.pk,
        "name": record.name,
        "email": record.email,
        "phone": record.phone,
        "member_number": record.member_number,
        "created_at": record.created_at.isoformat(),
        "erased_at": record.erased_at.isoformat() if record.erased_at else None,
    }


def _money(value) -> str:
    return f"{value:.2f}"


def _return(ret: Return) -> dict:
    refund = getattr(ret, "refund_record", None)
    return {
        "reference": ret.reference,
        "status": ret.status,
        "created_at": ret.created_at.isoformat(),
        "received_at": ret.received_at.isoformat() if ret.received_at else None,
        "refund_method": ret.refund_method,
        "lines": [
            {
                "sku": rl.sku.code,
                "quantity": rl.quantity,
                "reason": rl.reason.label if rl.reason else None,
                "resellable": rl.resellable_quantity,
                "damaged": rl.damaged_quantity,
            }
            for rl in ret.lines.all()
        ],
        "exceptions": [{"sku": ex.sku_code, "kind": ex.kind, "note": ex.note} for ex in ret.exceptions.all()],
        "refund": (
            {
                "amount": _money(refund.amount),
                "currency": refund.currency,
                "method": refund.method,
                "at": refund.created_at.isoformat(),
            }
            if refund
            else None
        ),
        "refund_requests": [
            {
                "amount": _money(rr.amount),
                "currency": rr.currency,
                "status": rr.status,
                "reason": rr.reason,
                "decision_note": rr.decision_note,
                "requested_at": rr.requested_at.isoformat(),
                "decided_at": rr.decided_at.isoformat() if rr.decided_at else None,
            }
            for rr in ret.refund_requests.all()
        ],
    }


def _order(order: Order) -> dict:
    return {
        "number": order.number,
        "external_id": order.external_id,
        "channel": order.channel.code,
        "status": order.status,
        "method": order.method,
        "currency": order.currency,
        "total": _money(order.total),
        "payment_status": order.payment_status,
        "created_at": order.created_at.isoformat(),
        "pickup_store": order.pickup_location.code if order.pickup_location else None,
        "address": order.address or None,
        "anonymised_at": order.anonymised_at.isoformat() if order.anonymised_at else None,
        "lines": [
            {
                "sku": line.sku.code,
                "name": line.sku.name,
                "quantity": line.quantity,
                "cancelled": line.cancelled_quantity,
                "unit_price": _money(line.unit_price),
            }
            for line in order.lines.all()
        ],
        "fulfilments": [
            {
                "location": f.location.code,
                "method": f.method,
                "status": f.status,
                "carrier": f.carrier,
                "tracking": f.tracking,
                "created_at": f.created_at.isoformat(),
                "dispatched_at": f.dispatched_at.isoformat() if f.dispatched_at else None,
                "lines": [{"sku": fl.sku.code, "quantity": fl.quantity} for fl in f.lines.all()],
            }
            for f in order.fulfilments.all()
        ],
        "returns": [_return(ret) for ret in order.returns.all()],
        "notes": [{"at": n.at.isoformat(), "text": n.text, "internal": n.internal} for n in order.notes.all()],
        "activity": [
            {
                "at": a.at.isoformat(),
                "subject": a.subject,
                "action": a.action,
                "from": a.from_state,
                "to": a.to_state,
                "reason": a.reason,
            }
            for a in order.activities.all()
        ],
        "events": [
            {"id": str(e.id), "type": e.type, "created": e.created.isoformat(), "data": e.data}
            for e in order.events.all()
        ],
    }


def customer_export(*, customer: Customer) -> dict:
    """The person's identity, merged identities, and every order with its lines, addresses, fulfilments,
    returns and refunds, notes, activity and the events sent about it. Read in a fixed number of queries."""
    records = customer_records(customer=customer)
    orders = (
        Order.objects.filter(customer__in=[c.pk for c in records])
        .select_related("channel", "pickup_location")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.select_related("sku").order_by("pk")),
            Prefetch(
                "fulfilments",
                queryset=Fulfilment.objects.select_related("location")
                .prefetch_related(Prefetch("lines", queryset=FulfilmentLine.objects.select_related("sku")))
                .order_by("pk"),
            ),
            Prefetch(
                "returns",
                queryset=Return.objects.select_related("refund_record")
                .prefetch_related(
                    Prefetch("lines", queryset=ReturnLine.objects.select_related("sku", "reason").order_by("pk")),
                    Prefetch("exceptions", queryset=ReturnException.objects.order_by("pk")),
                    Prefetch("refund_requests", queryset=RefundRequest.objects.order_by("pk")),
                )
                .order_by("created_at", "pk"),
            ),
            Prefetch("notes", queryset=Note.objects.order_by("at", "pk")),
            Prefetch("activities", queryset=Activity.objects.order_by("at", "pk")),
            Prefetch("events", queryset=OutboxEvent.objects.order_by("created")),
        )
        .order_by("created_at", "pk")
    )
    accesses = CustomerAccess.objects.filter(customer__in=[c.pk for c in records]).select_related("actor")
    return {
        "customer": _identity(customer),
        "merged_identities": [_identity(record) for record in records[1:]],
        "orders": [_order(order) for order in orders],
        "access_log": [
            {"at": a.at.isoformat(), "action": a.action, "by": a.actor.get_username() if a.actor else None}
            for a in accesses.order_by("at", "pk")
        ],
    }


def customer_access_record(*, customer: Customer, actor, action: str, reason: str = "") -> CustomerAccess:
    """Record that ``actor`` viewed, exported or erased the customer's data."""
    return CustomerAccess.objects.create(customer=customer, actor=actor, action=action, reason=reason[:255])
