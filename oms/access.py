"""Who may see and do what in the staff web UIs: a person's role and, for store staff, their stores.

Every staff view goes through ``role_required``; store pages also resolve the store from
the URL with ``store_for``, so another store's URL is a 404 and nothing runs.
"""

from __future__ import annotations

from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from inventory.models import Location

from .models import StaffProfile

Role = StaffProfile.Role
BACK_OFFICE_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def role_of(user) -> str | None:
    """The user's role; a superuser without a profile counts as an admin."""
    if not user.is_authenticated or not user.is_active:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is not None:
        return profile.role
    return Role.ADMIN if user.is_superuser else None


def stores_of(user) -> QuerySet[Location]:
    """The active stores a person may work in: their own for store staff, every one for admins."""
    role = role_of(user)
    if role == Role.ADMIN:
        return Location.objects.filter(active=True)
    if role == Role.STORE_STAFF:
        return user.staff_profile.stores.filter(active=True)
    return Location.objects.none()


def store_for(user, code: str) -> Location:
    """The store named in a URL, if the user works there; any other store is a 404."""
    return get_object_or_404(stores_of(user), code=code)


def role_required(*roles: str):
    """Sign-in required, then 403 unless the user has one of ``roles`` (admins pass everywhere)."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            role = role_of(request.user)
            if role is None or (role not in roles and role != Role.ADMIN):
                raise PermissionDenied("Your role does not give access to this page.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def is_supervisor(user) -> bool:
    """Supervisors and admins approve what an agent may not do alone (large refunds, customer merges)."""
    return role_of(user) in SUPERVISOR_ROLES


def may_set_stock(user) -> bool:
    """Administrators set stock by hand or by feed; everyone else sells, moves or counts it.

    Location systems set their own stock with their integration credential (see
    ``inventory.credentials``); agents and supervisors correct orders, not stock figures.
    """
    return role_of(user) == Role.ADMIN


def refund_limit(user) -> Decimal | None:
    """The largest refund ``user`` may pay out alone, in the order's currency; None means no limit.

    Supervisors and admins approve any amount. Agents and store staff are capped at
    ``OMS_REFUND_APPROVAL_LIMIT``, so one person cannot pay out a large sum unchecked; so is
    work done without a person (channel systems, jobs), which never approves anything.
    Anyone else signed in refunds nothing.
    """
    if user is None:
        return settings.OMS_REFUND_APPROVAL_LIMIT
    role = role_of(user)
    if role in SUPERVISOR_ROLES:
        return None
    if role in (Role.AGENT, Role.STORE_STAFF):
        return settings.OMS_REFUND_APPROVAL_LIMIT
    return Decimal(0)


def refund_refusal(user, amount: Decimal) -> str | None:
    """Why ``user`` may not refund ``amount`` alone, or None when they may."""
    limit = refund_limit(user)
    if limit is None or amount <= limit:
        return None
    if limit:
        return f"Refunds above {limit:.2f} need a supervisor: this one is {amount:.2f}."
    return "Your role cannot issue refunds."
