"""The one way any state machine here changes state: check, apply, save, audit, announce."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone
from django_fsm import can_proceed

from inventory.sql import send, update_statement

from .exceptions import TransitionNotAllowed
from .models import Activity, Order, OutboxEvent
from .webhooks import outbox_kick

# The audit row and the outbox event of every transition, written by hand: two ORM
# creates cost twice the Python of the statements themselves, on every state change.
# With the changed fields they go in one round trip on PostgreSQL.
_ACTIVITY_SQL = (
    f"INSERT INTO {Activity._meta.db_table} (order_id, subject, action, from_state, to_state, reason, actor_id, at)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_EVENT_SQL = (
    f"INSERT INTO {OutboxEvent._meta.db_table} (id, type, channel_id, order_id, data, created)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)


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
        raise TransitionNotAllowed(
            f"Cannot {action} {subject} while it is {obj.status}; allowed now: {', '.join(allowed) or 'nothing'}.",
            current=obj.status,
            allowed=allowed,
        )
    source = obj.status
    before = obj.__dict__.copy()
    method(**kwargs)
    changed = {
        f.attname
        for f in obj._meta.concrete_fields
        if f.attname in obj.__dict__ and (f.attname not in before or obj.__dict__[f.attname] != before[f.attname])
    }
    kind = subject.split(":", 1)[0]
    data = {
        "order": order.pk,
        "order_number": order.number,
        "subject": subject,
        "from": source,
        "to": obj.status,
        "action": action,
        "reason": reason,
    }
    meta, at = OutboxEvent._meta, connection.ops.adapt_datetimefield_value(timezone.now())
    activity = [order.pk, subject, action, source, obj.status, reason, actor.pk if actor is not None else None, at]
    event = [
        meta.pk.get_db_prep_value(uuid.uuid4(), connection),
        f"{kind}.status_changed",
        order.channel_id,
        order.pk,
        meta.get_field("data").get_db_prep_save(data, connection),
        at,
    ]
    update = update_statement(obj, changed.union(fields))
    with connection.cursor() as cursor:
        send(cursor, [*filter(None, [update]), (_ACTIVITY_SQL, activity), (_EVENT_SQL, event)])
    outbox_kick()  # also carries any other event written in this transaction
