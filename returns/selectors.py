"""Return-side reads."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from inventory.models import Channel

from .models import Return, ReturnLine


def return_list(*, channel: Channel | None) -> QuerySet[Return]:
    """Returns with their lines: those of a channel's orders or requested through it, or every one."""
    returns = Return.objects.select_related("order", "channel").prefetch_related(
        Prefetch("lines", queryset=ReturnLine.objects.select_related("sku", "reason"))
    )
    return returns if channel is None else returns.filter(Q(order__channel=channel) | Q(channel=channel))


def return_get(*, pk: int, channel: Channel | None) -> Return:
    return return_list(channel=channel).get(pk=pk)
