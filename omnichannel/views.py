"""The start page: each person lands on the UI of their role."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from oms.access import BACK_OFFICE_ROLES, Role, role_of


@login_required
def home(request):
    role = role_of(request.user)
    if role == Role.STORE_STAFF:
        return redirect("store:home")
    if role in BACK_OFFICE_ROLES:
        return redirect("backoffice:home")
    raise PermissionDenied("Your account has no role in the OMS yet; ask an administrator.")
