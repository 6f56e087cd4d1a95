"""Who is calling: a channel system by its API token, a location's system by its integration
credential, or a staff user by their session.

A channel token sees only its own channel's orders, fulfilments and returns; a location
credential may only send stock feeds for its locations; staff users see everything and
are recorded as the actor of what they do.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.throttling import SimpleRateThrottle

from inventory.credentials import CREDENTIAL_TOKEN_PREFIX, hash_token, location_credential_live
from inventory.models import Channel, LocationCredential
from oms.access import may_set_stock
from oms.models import ApiToken
from oms.selectors import api_token_live

# last_used_at is for operators spotting idle tokens; a minute's precision saves a statement per request.
LAST_USED_PRECISION = timedelta(minutes=1)


class ChannelTokenAuthentication(BaseAuthentication):
    """``Authorization: Token <token>``, looked up by its SHA-256; revoked tokens are refused.

    Channel tokens start ``oms_``; location credentials' tokens start ``oml_`` and
    authenticate as a ``LocationCredential``.
    """

    keyword = b"token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Authorization header must be 'Token <token>'.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed("The token is not valid.") from exc
        if raw.startswith(CREDENTIAL_TOKEN_PREFIX):
            token = location_credential_live(raw=raw)
        else:
            token = api_token_live(digest=hash_token(raw))
        if token is None:
            raise AuthenticationFailed("The token is not valid or was revoked.")
        now = timezone.now()
        if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
        return AnonymousUser(), token

    def authenticate_header(self, request) -> str:
        return 'Token realm="api"'


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = ChannelTokenAuthentication
    name = "channelToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: a channel's token (`manage.py create_channel`, `rotate_token`), "
            "or for stock feeds a location system's token (`manage.py create_location_credential`).",
        }


def caller_channel(request) -> Channel | None:
    """The calling channel, or None for a staff user (who sees every channel)."""
    return request.auth.channel if isinstance(request.auth, ApiToken) else None


def caller_actor(request):
    """The user to record as the actor, or None for a channel system."""
    return request.user if request.user.is_authenticated else None


class IsChannelOrStaff(BasePermission):
    message = "A channel token or a staff session is needed."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return isinstance(request.auth, ApiToken) or bool(user and user.is_active and user.is_staff)


class ChannelRequired(BasePermission):
    """For reads and writes that only make sense for one channel (its ATP, its orders)."""

    message = "This operation needs a channel token."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiToken)


def caller_credential(request) -> LocationCredential | None:
    """The location system's credential the request came with, if any."""
    return request.auth if isinstance(request.auth, LocationCredential) else None


class MaySetStock(BasePermission):
    """Stock feeds: a location system's credential (scope checked with the rows) or an administrator."""

    message = (
        "Stock is set by a location's own system with its integration credential, or by an administrator; "
        "sales-channel tokens and other staff roles may not set stock."
    )

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, LocationCredential) or may_set_stock(request.user)


class TokenRateThrottle(SimpleRateThrottle):
    """OMS_API_RATE requests per token (staff: per user; anyone else: per address)."""

    scope = "token"

    def get_rate(self) -> str:
        return settings.OMS_API_RATE

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif isinstance(request.auth, LocationCredential):
            ident = f"credential-{request.auth.pk}"
        elif request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
