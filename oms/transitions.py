"""The one way any state machine here changes state: check, apply, save, audit, announce."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import models
from django_fsm import can_proceed

from .events import event_emit, events_flush, order_events_emit
from .exceptions import TransitionNotAllowed
from .models import Activity, Order


def transition_apply(
    obj: models.Model,
    action: str,
    *,
    order: Order,
    subject: str,
    actor=None,
    reason: str = "",
    fields: Iterable[str] = (),
    **kwargs,
) -> None:
    """Run transition ``action`` on ``obj`` and persist it with who, why, from and to.

    Only what changed is written: the fields the transition set, and ``fields`` the
    caller changed beforehand. A whole-row save re-sent every column (the order has
    twenty, three of them JSON) on the hottest write of placement.
    Refused transitions raise TransitionNotAllowed naming the actions allowed now, so
    APIs and pages can answer precisely. Callers lock ``obj`` first when they may race.
    """
    method = getattr(obj, action, None)
    if method is None or not can_proceed(method):
        allowed = sorted(t.name for t in obj.get_available_status_transitions())
        meta = getattr(method, "_django_fsm", None)
        targets = {str(t.target) for t in meta.transitions.values()} if meta is not None else set()
        raise TransitionNotAllowed(
            f"Cannot {action} {subject} while it is {obj.status}; allowed now: {', '.join(allowed) or 'nothing'}.",
            current=obj.status,
            allowed=allowed,
            target=targets.pop() if len(targets) == 1 else "",
        )
    source = obj.status
    before = obj.__dict__.copy()
    method(**kwargs)
    changed = {
        f.attname
        for f in obj._meta.concrete_fields
        if f.attname in obj.__dict__ and (f.attname not in before or obj.__dict__[f.attname] != before[f.attname])
    }
    update_fields = changed.union(fields)
    if update_fields:
        obj.save(update_fields=update_fields)
    kind = subject.split(":", 1)[0]
    # The event, with any an ``events_together`` block holds, is written before the audit row:
    # the order's timeline puts rows in the order of their times.
    event_emit(f"{kind}.status_changed", order=order, data=_changed(order, subject, source, obj.status, action, reason))
    events_flush()
    Activity.objects.create(
        order=order,
        subject=subject,
        action=action,
        from_state=source,
        to_state=obj.status,
        reason=reason,
        actor_id=actor.pk if actor is not None else None,
    )


def _changed(order: Order, subject: str, source: str, target: str, action: str, reason: str) -> dict:
    """What a ``*.status_changed`` event says."""
    return {
        "order": order.pk,
        "order_number": order.number,
        "subject": subject,
        "from": source,
        "to": target,
        "action": action,
        "reason": reason,
    }


def transitions_apply(orders: Sequence[Order], action: str, *, actor=None, reason: str = "") -> None:
    """``transition_apply`` for many orders taking the same status-only transition (backorders filled at
    once): one UPDATE, one INSERT of their audit rows and one of their events, whatever their number.

    Every order is checked first; one refusal raises and changes nothing.
    """
    if not orders:
        return
    refused = [o for o in orders if not can_proceed(getattr(o, action))]
    if refused:
        o = refused[0]
        raise TransitionNotAllowed(
            f"Cannot {action} order {o.number} while it is {o.status}.", current=o.status, allowed=[]
        )
    sources = [o.status for o in orders]
    for order in orders:
        getattr(order, action)()
    targets = {o.status for o in orders}
    if len(targets) != 1:
        raise ValueError(f"{action} is not a status-only transition with one target")
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(status=targets.pop())
    actor_id = actor.pk if actor is not None else None
    Activity.objects.bulk_create(
        Activity(
            order=o, subject="order", action=action, from_state=source, to_state=o.status, reason=reason,
            actor_id=actor_id,
        )
        for o, source in zip(orders, sources, strict=True)
    )  # fmt: skip
    order_events_emit(
        "order.status_changed",
        [
            (o, _changed(o, "order", source, o.status, action, reason))
            for o, source in zip(orders, sources, strict=True)
        ],
    )
