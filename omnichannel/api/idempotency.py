"""``Idempotency-Key`` on POST: the first successful response is stored and replayed for repeats.

The key row is inserted in the same transaction as the operation, so the unique
(channel, key) constraint makes a concurrent repeat wait for the first request and then
replay its response. A failed operation stores nothing (it changed nothing), so a retry
runs again. Staff sessions have no channel to scope keys by and run without them.
"""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from oms.models import IdempotencyKey

from .auth import caller_channel
from .errors import IdempotencyKeyReused

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = IdempotencyKey._meta.get_field("key").max_length
KEY_PATTERN = "^[ -~]*$"  # printable ASCII; blank means no key


def request_hash(request) -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.path}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def _replay(row: IdempotencyKey, fingerprint: str) -> Response:
    if row.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    return Response(row.body, status=row.status_code, headers={"Idempotent-Replayed": "true"})


def idempotent(post):
    """Decorate an APIView's ``post`` so that a repeated Idempotency-Key replays the first response."""

    @wraps(post)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        channel = caller_channel(request)
        if not key or channel is None:
            return post(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or not (key.isascii() and key.isprintable()):
            raise ValidationError({HEADER: [f"Use at most {MAX_KEY_LENGTH} printable ASCII characters."]})
        fingerprint = request_hash(request)
        try:  # insert first: a new key, the usual case, then costs no look-up
            with transaction.atomic():
                claim = IdempotencyKey.objects.create(channel=channel, key=key, request_hash=fingerprint)
                response = post(view, request, *args, **kwargs)
                if not 200 <= response.status_code < 300:
                    transaction.set_rollback(True)
                    return response
                claim.status_code = response.status_code
                claim.body = json.loads(JSONRenderer().render(response.data))
                claim.save(update_fields=["status_code", "body"])
                return response
        except IntegrityError:
            # The key was used before, or by a concurrent request that committed first: answer as it did.
            stored = IdempotencyKey.objects.filter(channel=channel, key=key).first()
            if stored is None or stored.status_code is None:
                raise
            return _replay(stored, fingerprint)

    return wrapper
