"""The back office's data-rights pages: export a customer's data, and erase it after a confirmation.

Supervisors and admins only: agents see neither button and get a 403 at the URLs.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.staff_messages import staff_message
from oms.access import Role, role_required
from oms.models import Customer, CustomerAccess

from .erasure import ErasureRefused, customer_erase, erasure_preview
from .export import customer_access_record, customer_export

supervisor = role_required(Role.SUPERVISOR)


class EraseForm(forms.Form):
    reason = forms.CharField(
        label="Why (the request's reference; do not repeat the person's details)", max_length=200, strip=True
    )


def _live(pk: int) -> Customer:
    return get_object_or_404(Customer, pk=pk, merged_into__isnull=True)


@supervisor
def customer_export_download(request, pk: int):
    """The person's data as one JSON file, the same document ``customer_export`` prints."""
    customer = _live(pk)
    document = customer_export(customer=customer)
    customer_access_record(customer=customer, actor=request.user, action=CustomerAccess.Action.EXPORTED)
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response


@supervisor
def customer_erase_confirm(request, pk: int):
    """GET: what an erasure would anonymise; POST: erase, refused while an order is open."""
    customer = _live(pk)
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_erase(customer=customer, reason=form.cleaned_data["reason"], actor=request.user)
        except ErasureRefused as exc:
            messages.error(request, staff_message(exc))
        else:
            messages.success(request, "The customer's personal data has been erased; their orders are kept.")
            return redirect("backoffice:customer", pk=customer.pk)
    return render(
        request,
        "backoffice/customer_erase.html",
        {"customer": customer, "form": form, **erasure_preview(customer=customer)},
    )
