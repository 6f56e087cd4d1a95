"""The store's work: the queue and one fulfilment (accept or decline, pack, ship, ready for
pickup, the packing slip). Picking has its own module (``pick``), and so has the pickup
counter (``pickup``).

Every view reaches a fulfilment through ``store_fulfilments(store=…)``, so another store's
work is a 404 before anything runs. Views parse a form, call one fulfilment service and
redirect; a refusal becomes one message and changes nothing.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from fulfilment import actions, pickups
from fulfilment.collection_transfers import transfer_supplying, transfer_wait_words
from fulfilment.deadline_reminders import deadline_badge, deadline_words, reminder_sent
from fulfilment.models import Fulfilment
from fulfilment.store_ops import fulfilment_taken_away
from fulfilment.store_work import (
    OPEN_WORK,
    fulfilment_lines_to_send,
    order_live_fulfilment_ids,
    store_work_counts,
    store_work_queue,
)
from inventory.selectors import transfers_to_ship
from oms.selectors import order_notes_for_stores

from .common import (
    DECLINE_REASONS,
    METHOD_LABELS,
    STATE_LABELS,
    attempt,
    clock,
    duration,
    fulfilment_action,
    fulfilment_of,
    list_rows,
    store_page,
    to_fulfilment,
    where_the_work_went,
)
from .store_ops import pause_panel

S = Fulfilment.Status
# The transitions the fulfilment page offers as forms when the state allows them. Cancel and
# deliver are not the store's; picking has its own page, and collecting happens at the
# handover counter against the pickup code.
STAFF_ACTIONS = {"accept", "decline", "pack", "ship", "ready"}
# Staff work the queue top-down; the rest is counted and reached with the filters.
QUEUE_LIMIT = 100


# --- forms -------------------------------------------------------------------------------


class QueueFilter(django_filters.FilterSet):
    method = django_filters.ChoiceFilter(choices=list(METHOD_LABELS.items()), empty_label="All methods")
    status = django_filters.ChoiceFilter(
        label="State", choices=[(s, STATE_LABELS[s]) for s in OPEN_WORK], empty_label="All open work"
    )

    class Meta:
        model = Fulfilment
        fields = ["method", "status"]


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label="Reason", choices=[("", "Choose a reason…"), *DECLINE_REASONS])
    note = forms.CharField(label="Note (optional)", max_length=255, required=False)


class PackForm(forms.Form):
    parcels = forms.IntegerField(label="Parcels", min_value=1, max_value=99, initial=1)
    weight_kg = forms.DecimalField(
        label="Total weight (kg)", min_value=Decimal("0.001"), max_value=Decimal("9999.999"), decimal_places=3
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(label="Carrier", max_length=64)
    tracking = forms.CharField(label="Tracking number", max_length=64)


# --- helpers -----------------------------------------------------------------------------


def _partial_or_page(request, partial: str, page: str, context: dict):
    """The partial for htmx's own requests (polling, filters), the whole page otherwise."""
    wants_partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, partial if wants_partial else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the queue ---------------------------------------------------------------------------


@store_page
def queue(request, store):
    """The store's open work: late and near-deadline rows first and standing out, then soonest due. Polls itself."""
    now = timezone.now()
    filters = QueueFilter(request.GET, queryset=store_work_queue(store=store, now=now))
    chosen = filters.form.cleaned_data if filters.is_valid() else {}
    method, status = chosen.get("method", ""), chosen.get("status", "")
    counts = store_work_counts(store=store, now=now, method=method)
    rows = list_rows(store, filters.qs[:QUEUE_LIMIT])
    notes = order_notes_for_stores(order_ids=[f.order_id for f in rows])
    for f in rows:
        f.notes = notes.get(f.order_id, [])
        f.due_clock = clock(f.due_at, store)
        f.due_text = f"Overdue by {duration(now - f.due_at)}" if f.overdue else f"in {duration(f.due_at - now)}"
        f.deadline_badge, f.reminder_sent = deadline_badge(f, now=now), reminder_sent(f)
    open_total = sum(counts[s]["n"] for s in OPEN_WORK)
    states = [
        {
            "status": s,
            "label": STATE_LABELS[s],
            "n": counts[s]["n"],
            "overdue": counts[s]["overdue"],
            "query": urlencode({k: v for k, v in (("method", method), ("status", s)) if v}),
        }
        for s in OPEN_WORK
    ]
    context = {
        "store": store,
        "filters": filters,
        "rows": rows,
        "total": counts[status]["n"] if status else open_total,
        "open_total": open_total,
        "states": states,
        "status": status,
        "all_query": urlencode({"method": method} if method else {}),
        "overdue": sum(counts[s]["overdue"] for s in OPEN_WORK),
        "on_shelf": counts[S.READY_FOR_PICKUP]["n"],
        # Read only when the whole page is drawn (the template calls it), not on every poll.
        "transfers_to_ship": partial(transfers_to_ship, location=store),
        "poll_seconds": settings.OMS_STORE_QUEUE_POLL_SECONDS,
        "updated": timezone.localtime(now, ZoneInfo(store.timezone)).strftime("%H:%M:%S"),
        **pause_panel(store=store, now=now),
    }
    return _partial_or_page(request, "store/work/_queue_table.html", "store/work/queue.html", context)


# --- one fulfilment ----------------------------------------------------------------------


def _fulfilment_page(request, store, fulfilment: Fulfilment, *, status: int = 200, **forms_):
    awaiting = transfer_supplying(fulfilment) if fulfilment.status in (S.PENDING, S.ACCEPTED) else None
    # Nothing to do here until the transfer brings the stock (the services refuse it with the
    # same words): receiving it picks the parcel.
    allowed = set() if awaiting else {t.name for t in fulfilment.get_available_status_transitions()} & STAFF_ACTIONS
    lines = list(fulfilment.lines.select_related("sku"))
    context = {
        "store": store,
        "f": fulfilment,
        "state_label": STATE_LABELS.get(fulfilment.status, fulfilment.status),
        "method_label": METHOD_LABELS.get(fulfilment.method, fulfilment.get_method_display()),
        "lines": fulfilment_lines_to_send(fulfilment=fulfilment, lines=lines),
        "notes": order_notes_for_stores(order_ids=[fulfilment.order_id]).get(fulfilment.order_id, []),
        "taken_away": fulfilment_taken_away(fulfilment=fulfilment, lines=lines),
        "ready_deadline": deadline_words(fulfilment, now=timezone.now()) if fulfilment.due_by else ("", None),
        "now": timezone.now(),
        "allowed": allowed,
        "awaiting": transfer_wait_words(awaiting) if awaiting else "",
        "decline_form": forms_.get("decline_form") or DeclineForm(),
        "pack_form": forms_.get("pack_form") or PackForm(),
        "ship_form": forms_.get("ship_form") or ShipForm(),
        "carriers": ["Royal Mail", "DPD", "Evri", "DHL", "UPS", "Parcelforce"],
    }
    return render(request, "store/work/fulfilment.html", context, status=status)


@store_page
def fulfilment_detail(request, store, pk: int):
    """One fulfilment: its lines and the actions its state allows now."""
    return _fulfilment_page(request, store, fulfilment_of(store, pk))


@fulfilment_action
def accept(request, store, fulfilment):
    if attempt(request, actions.fulfilment_accept, fulfilment=fulfilment):
        messages.success(request, f"Order {fulfilment.order.number} accepted: pick it now.")
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    return to_fulfilment(store, fulfilment)


@fulfilment_action
def decline(request, store, fulfilment):
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, decline_form=form)
    reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
    before = order_live_fulfilment_ids(order=fulfilment.order)
    if not attempt(request, actions.fulfilment_decline, fulfilment=fulfilment, reason_code=reason, note=note):
        return to_fulfilment(store, fulfilment)
    where = where_the_work_went(fulfilment.order, before=before, store=store)
    messages.success(request, f"Order {fulfilment.order.number} declined ({reason.replace('_', ' ')}); {where}.")
    return redirect("store:queue", code=store.code)


@fulfilment_action
def pack(request, store, fulfilment):
    form = PackForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, pack_form=form)
    if attempt(request, actions.fulfilment_pack, fulfilment=fulfilment, **form.cleaned_data):
        messages.success(request, f"Packed in {form.cleaned_data['parcels']} parcel(s): print the slip and ship it.")
    return to_fulfilment(store, fulfilment)


@fulfilment_action
def ship(request, store, fulfilment):
    form = ShipForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, ship_form=form)
    if attempt(request, actions.fulfilment_ship, fulfilment=fulfilment, **form.cleaned_data):
        messages.success(request, f"Order {fulfilment.order.number} shipped with {form.cleaned_data['carrier']}.")
        return redirect("store:queue", code=store.code)
    return to_fulfilment(store, fulfilment)


@fulfilment_action
def ready(request, store, fulfilment):
    if attempt(request, pickups.fulfilment_ready, fulfilment=fulfilment):
        messages.success(
            request, f"Order {fulfilment.order.number} is on the pickup shelf; the customer has been sent their code."
        )
        return redirect("store:pickups", code=store.code)
    return to_fulfilment(store, fulfilment)


# --- printables --------------------------------------------------------------------------


@store_page
def packing_slip(request, store, pk: int):
    """What goes in the parcel, for the customer, once it is picked."""
    fulfilment = fulfilment_of(store, pk)
    if fulfilment.status in (S.PENDING, S.ACCEPTED, S.DECLINED):
        raise Http404("Nothing is picked for this order yet.")
    context = {
        "store": store,
        "f": fulfilment,
        "lines": fulfilment_lines_to_send(fulfilment=fulfilment),
        "return_days": settings.OMS_RETURN_WINDOW_DAYS,
    }
    return render(request, "store/work/packing_slip.html", context)
