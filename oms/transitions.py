"""The one way any state machine here changes state: check, apply, save, audit, announce."""

from __future__ import annotations

from django.db import models
from django_fsm import can_proceed

from .exceptions import TransitionNotAllowed
from .models import Activity, Order, OutboxEvent
from .webhooks import outbox_kick


def transition_apply(
    obj: models.Model,
    action: str,
    *,
    order: Order,
    subject: str,
    actor=None,
    reason: str = "",
    **kwargs,
) -> None:
    """Run transition ``action`` on ``obj`` and persist it with who, why, from and to.

    Refused transitions raise TransitionNotAllowed naming the actions allowed now, so
    APIs and pages can answer precisely. Callers lock ``obj`` first when they may race.
    """
    method = getattr(obj, action, None)
    if method is None or not can_proceed(method):
        allowed = sorted(t.name for t in obj.get_available_status_transitions())
        raise TransitionNotAllowed(
            f"Cannot {action} {subject} while it is {obj.status}; allowed now: {', '.join(allowed) or 'nothing'}.",
            current=obj.status,
            allowed=allowed,
        )
    source = obj.status
    method(**kwargs)
    obj.save()
    Activity.objects.create(
        order=order, subject=subject, action=action, from_state=source, to_state=obj.status, reason=reason, actor=actor
    )
    kind = subject.split(":", 1)[0]
    OutboxEvent.objects.create(
        type=f"{kind}.status_changed",
        channel_id=order.channel_id,
        order=order,
        data={
            "order": order.pk,
            "order_number": order.number,
            "subject": subject,
            "from": source,
            "to": obj.status,
            "action": action,
            "reason": reason,
        },
    )
    outbox_kick()  # also carries any other event written in this transaction
