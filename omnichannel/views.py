"""The start page: each person lands on the UI of their role; the sign-in lock-out page."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from oms.access import BACK_OFFICE_ROLES, Role, role_of


@login_required
def home(request):
    role = role_of(request.user)
    if role == Role.STORE_STAFF:
        return redirect("store:home")
    if role in BACK_OFFICE_ROLES:
        return redirect("backoffice:home")
    raise PermissionDenied("Your account has no role in the OMS yet; ask an administrator.")


def sign_in_locked(request, original_response=None, credentials=None):
    """Tell a locked-out person why they cannot sign in and for how long (django-axes' lock-out response)."""
    context = {
        "username": (credentials or {}).get("username") or request.POST.get("username", ""),
        "minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60),
    }
    return render(request, "registration/locked_out.html", context, status=429)
