"""Integration credentials of the locations' own systems, and the one rule for who may set stock.

Stock is counted where the goods are: a store's tills, a warehouse's WMS. Those systems,
each with a credential scoped to the locations it speaks for, and operators (the
administrators, by session or the ``import_stock`` command) set stock; a sales channel
only ever sells it. A feed naming any location outside the credential's scope is refused
whole, so a misconfigured system cannot half-apply a file.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import InvalidInput, NotPermitted

from .feeds import ImportResult
from .models import Location, LocationCredential
from .stock_feed import stock_feed_apply

CREDENTIAL_TOKEN_PREFIX = "oml_"  # channel tokens start "oms_": the header alone tells which kind it is


def hash_token(raw: str) -> str:
    """The SHA-256 stored for a token; the token itself is shown once and never kept."""
    return hashlib.sha256(raw.encode()).hexdigest()


def token_new(prefix: str) -> str:
    return f"{prefix}{secrets.token_urlsafe(32)}"


def live_at(now: datetime) -> Q:
    """Tokens not revoked, or revoked from a time still ahead (the old token during a rotation)."""
    return Q(revoked_at__isnull=True) | Q(revoked_at__gt=now)


@transaction.atomic
def location_credential_issue(*, name: str, location_codes: Iterable[str]) -> tuple[LocationCredential, str]:
    """Create a credential for the system of ``location_codes``; return it and its token (shown once)."""
    name = (name or "").strip()
    codes = sorted({code.strip() for code in location_codes if code.strip()})
    errors = {}
    if not name or len(name) > LocationCredential._meta.get_field("name").max_length:
        errors["name"] = ["Give the system a name of up to 64 characters."]
    locations = list(Location.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {loc.code for loc in locations})
    if not codes:
        errors["location"] = ["Name at least one location."]
    elif unknown:
        errors["location"] = [f"Unknown location {code}." for code in unknown]
    if errors:
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors=errors)
    raw = token_new(CREDENTIAL_TOKEN_PREFIX)
    credential = LocationCredential.objects.create(name=name, prefix=raw[:12], digest=hash_token(raw))
    credential.locations.set(locations)
    return credential, raw


def location_credential_live(*, raw: str) -> LocationCredential | None:
    """The credential of this token, while it is not revoked."""
    return LocationCredential.objects.filter(live_at(timezone.now()), digest=hash_token(raw)).first()


def stock_write_refusal(*, credential: LocationCredential, location_codes: Iterable[str]) -> None:
    """Raise NotPermitted naming every location ``credential`` may not write (unknown ones included)."""
    wanted = set(location_codes)
    allowed = set(credential.locations.filter(code__in=wanted).values_list("code", flat=True))
    outside = sorted(wanted - allowed)
    if outside:
        raise NotPermitted(
            f"The credential {credential.name!r} may not write stock at {', '.join(outside)}; nothing was changed.",
            errors={"location": outside},
        )


def stock_feed_write(
    *,
    rows: Sequence[Sequence],
    mode: str,
    credential: LocationCredential | None = None,
    actor: AbstractBaseUser | None = None,
    first_row: int = 2,
) -> ImportResult:
    """Apply a stock feed sent by a location's system (``credential``) or an operator (``actor``).

    The caller has checked that ``actor`` may set stock; a credential is checked here,
    before anything is written, against every location the feed names.
    """
    if credential is not None:
        stock_write_refusal(credential=credential, location_codes={str(row[0]).strip() for row in rows if row})
        sender = f"cred:{credential.name}"
    else:
        sender = actor.get_username() if actor is not None else "unknown"
    return stock_feed_apply(
        rows=rows, mode=mode, reference=f"feed:api:{sender}", actor=actor, credential=credential, first_row=first_row
    )
