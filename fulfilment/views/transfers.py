"""Transfers at a store: ship what the store was asked to send, receive what comes in by scanning.

The source's staff see requested transfers on their work queue and press "Ship to
<store>"; the destination's staff scan the transfer's reference (or a product on it) on
the stock page, or press its Receive button. A collection stocked by the transfer is then
picked: the page goes to it, for the pickup shelf. A refusal is one message, nothing changed.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from fulfilment.store_transfers import store_transfer_receive, store_transfer_ship, transfer_scanned
from inventory.models import Transfer

from .common import store_page


class ShipTransferForm(forms.Form):
    carrier = forms.CharField(max_length=64, required=False)
    tracking = forms.CharField(max_length=64, required=False)


@require_POST
@store_page
def ship(request, store, transfer_id: int):
    """Send a requested transfer from this store (or warehouse) on its way."""
    transfer = Transfer.objects.filter(pk=transfer_id, source=store).select_related("destination").first()
    if transfer is None:
        raise Http404("No such transfer from this location.")
    form = ShipTransferForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Carrier and tracking number are at most 64 characters each; nothing shipped.")
        return redirect("store:queue", code=store.code)
    try:
        store_transfer_ship(transfer=transfer, store=store, actor=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
    else:
        messages.success(request, f"Transfer {transfer.reference} shipped to {transfer.destination.name}.")
    return redirect("store:queue", code=store.code)


def _received(request, store, transfer: Transfer):
    """Receive ``transfer`` here; to the collection it stocks when there is one, else back to stock."""
    try:
        fulfilment = store_transfer_receive(transfer=transfer, store=store, actor=request.user)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return redirect("store:stock", code=store.code)
    if fulfilment is None:
        messages.success(request, f"Transfer {transfer.reference} received into {store.name}'s stock.")
        return redirect("store:stock", code=store.code)
    messages.success(
        request,
        f"Transfer {transfer.reference} received: order {fulfilment.order.number} is here, put it on the pickup shelf.",
    )
    return redirect("store:fulfilment", code=store.code, pk=fulfilment.pk)


@require_POST
@store_page
def receive(request, store, transfer_id: int):
    """Book an inbound transfer into this store's stock, once."""
    transfer = Transfer.objects.filter(pk=transfer_id, destination=store).first()
    if transfer is None:
        raise Http404("No such transfer to this store.")
    return _received(request, store, transfer)


@require_POST
@store_page
def receive_scan(request, store):
    """Receive the transfer a scan names: its reference, or the one product on its way here."""
    try:
        transfer = transfer_scanned(code=request.POST.get("code", "")[:128], store=store)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return redirect("store:stock", code=store.code)
    return _received(request, store, transfer)
