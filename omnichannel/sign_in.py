"""Staff sign-in lock-out (django-axes): whose address a sign-in comes from, and the page a locked-out person sees."""

import math

from django.conf import settings
from django.shortcuts import render


def client_address(request) -> str | None:
    """Return the address a sign-in came from, as the outermost of OMS_TRUSTED_PROXIES proxies saw it.

    Behind a proxy every request comes from the proxy's address, so lock-outs would be per
    username alone; only the entries our own proxies appended to X-Forwarded-For are
    trusted, as anything before them is whatever the client chose to send.
    """
    proxies = settings.OMS_TRUSTED_PROXIES
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")


def sign_in_locked(request, original_response=None, credentials=None):
    """Tell a locked-out person why they cannot sign in and for how long."""
    context = {
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "minutes": max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60)),
    }
    return render(request, "registration/locked_out.html", context, status=429)
