"""Rotating API tokens without a gap: a new token now, the old ones refused from a time given.

A channel's system (or a location's) swaps in the new token while the old one still
works; after ``old_valid_until`` the old one gets 401. An earlier deadline is never
extended, so rotating twice cannot revive a token that was being retired.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput
from inventory.credentials import live_at, location_credential_issue
from inventory.models import Channel, LocationCredential

from .models import ApiToken
from .services import api_token_issue

DEFAULT_OLD_VALID_FOR = timedelta(hours=24)
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "": "hours"}


def duration_parse(text: str) -> timedelta:
    """``90m``, ``24h``, ``2d``, ``30s`` or a bare number of hours (``0``: at once)."""
    match = _DURATION.match(text or "")
    if match is None:
        raise InvalidInput(
            f"{text!r} is not a duration.", errors={"old_valid_for": ["A number with s, m, h or d, e.g. 24h."]}
        )
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@transaction.atomic
def api_token_rotate(*, channel: Channel, old_valid_until: datetime, name: str = "default") -> str:
    """Issue a new token named ``name`` for ``channel``; its live tokens of that name end at ``old_valid_until``."""
    retiring = ApiToken.objects.filter(live_at(old_valid_until), channel=channel, name=name)
    retiring.filter(live_at(timezone.now())).update(revoked_at=old_valid_until)
    return api_token_issue(channel=channel, name=name)


@transaction.atomic
def location_credential_rotate(*, name: str, old_valid_until: datetime) -> tuple[LocationCredential, str]:
    """Issue a successor of the live credential ``name`` with its scope; the old ones end at ``old_valid_until``."""
    live = LocationCredential.objects.filter(live_at(timezone.now()), name=name).order_by("-created_at", "-pk")
    newest = live.first()
    if newest is None:
        raise InvalidInput(f"No live location credential {name!r}.", errors={"credential": ["Unknown or revoked."]})
    successor, raw = location_credential_issue(
        name=name, location_codes=list(newest.locations.values_list("code", flat=True))
    )
    live.exclude(pk=successor.pk).filter(live_at(old_valid_until)).update(revoked_at=old_valid_until)
    return successor, raw
