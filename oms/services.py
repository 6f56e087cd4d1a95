"""Order-side writes."""

from __future__ import annotations

from django.db import transaction

from inventory.exceptions import InvalidInput
from inventory.models import Channel

from .models import ApiToken, hash_token


@transaction.atomic
def channel_create(*, code: str, name: str, kind: str) -> tuple[Channel, str]:
    """Create a channel with its first API token; return both (the raw token is shown once)."""
    if kind not in Channel.Kind.values:
        raise InvalidInput(f"Unknown channel kind {kind!r}.", errors={"kind": [f"Use one of {', '.join(Channel.Kind.values)}."]})
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
