"""Click and collect at the counter: the pickup shelf, finding a parcel, handing it over against
the customer's pickup code, and putting uncollected stock back on the shop floor."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from fulfilment.pickups import fulfilment_collect, fulfilment_put_back
from fulfilment.store_work import pickup_shelf, pickups_find, pickups_to_put_back

from .common import attempt, clock, duration, fulfilment_action, list_rows, store_page


class CollectForm(forms.Form):
    pickup_code = forms.CharField(label="Pickup code", max_length=6)


def _handover_url(store, query: str = "") -> str:
    url = reverse("store:handover", kwargs={"code": store.code})
    return f"{url}?{urlencode({'q': query})}" if query else url


@store_page
def pickups(request, store):
    """The parcels waiting on the shelf, longest first, and those to put back on the shop floor."""
    now, handover_url = timezone.now(), _handover_url(store)
    shelf = list_rows(store, pickup_shelf(store=store))
    for f in shelf:
        f.waiting = duration(now - f.ready_at)
        f.collect_by = clock(f.expires_at, store)
        f.handover_url = f"{handover_url}?{urlencode({'q': f.order.number})}"
    context = {"store": store, "shelf": shelf, "put_back": list(pickups_to_put_back(store=store))}
    return render(request, "store/work/pickups.html", context)


@store_page
def handover(request, store):
    """Find the customer's parcel by order number, name, phone or their scanned pickup code."""
    query = request.GET.get("q", "").strip()
    found = list(pickups_find(store=store, query=query)) if query else []
    context = {"store": store, "query": query, "found": found}
    return render(request, "store/work/handover.html", context)


@fulfilment_action
def collect(request, store, fulfilment):
    """Hand the parcel over once the pickup code the customer shows matches."""
    form = CollectForm(request.POST)
    query = request.POST.get("q", "").strip()
    if not form.is_valid():
        messages.error(request, "Enter the customer's 6-digit pickup code.")
        return redirect(_handover_url(store, query))
    code = form.cleaned_data["pickup_code"]
    if not attempt(request, fulfilment_collect, fulfilment=fulfilment, pickup_code=code):
        return redirect(_handover_url(store, query))
    customer = fulfilment.order.customer
    to_whom = f" to {customer.name}" if customer and customer.name else ""
    messages.success(request, f"Order {fulfilment.order.number} handed over{to_whom}: collected.")
    return redirect(_handover_url(store))


@fulfilment_action
def put_back(request, store, fulfilment):
    if attempt(request, fulfilment_put_back, fulfilment=fulfilment):
        messages.success(request, f"Order {fulfilment.order.number}: units put back on the shop floor.")
    return redirect("store:pickups", code=store.code)
