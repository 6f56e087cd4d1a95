"""The store's work: the queue, ship-from-store (accept or decline, pick by scanning, pack,
ship) and click-and-collect (ready, the shelf, handover, putting uncollected stock back).

Every view reaches a fulfilment through ``store_fulfilments(store=…)``, so another store's
work is a 404 before anything runs. Views parse a form, call one fulfilment service and
redirect; a refusal becomes one message and changes nothing. Scanned units are page state:
they are counted in the session, per fulfilment and SKU, until the pick is confirmed in
one call of the pick service.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import wraps
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from fulfilment import services
from fulfilment.models import Fulfilment
from fulfilment.selectors import (
    OPEN_WORK,
    fulfilment_pick_list,
    order_live_fulfilment_ids,
    order_locations_now,
    pickup_shelf,
    pickups_find,
    pickups_to_put_back,
    store_fulfilments,
    store_work_counts,
    store_work_queue,
)
from inventory.exceptions import DomainError
from inventory.selectors import sku_resolve

from .common import refusal_message, store_page

S = Fulfilment.Status
M = Fulfilment.Method
# What a state means to the person doing the work.
STATE_LABELS = {
    S.PENDING: "New",
    S.ACCEPTED: "Accepted",
    S.PICKING: "Picked",
    S.PACKED: "Packed",
    S.READY_FOR_PICKUP: "On the shelf",
    S.SHIPPED: "Shipped",
    S.DELIVERED: "Delivered",
    S.COLLECTED: "Collected",
    S.EXPIRED: "Expired",
    S.DECLINED: "Declined",
    S.CANCELLED: "Cancelled",
}
METHOD_LABELS = {M.SHIP_FROM_STORE: "Ship from store", M.CLICK_AND_COLLECT: "Click & collect"}
DECLINE_REASONS = [
    (Fulfilment.DeclineReason.NOT_IN_STOCK, "Not in stock (cannot be found)"),
    (Fulfilment.DeclineReason.DAMAGED, "Damaged"),
    (Fulfilment.DeclineReason.MISMATCH, "Stock mismatch (count needed)"),
]
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


class PickConfirmForm(forms.Form):
    short_reason = forms.ChoiceField(label="Why are units short?", choices=DECLINE_REASONS, required=False)


class PackForm(forms.Form):
    parcels = forms.IntegerField(label="Parcels", min_value=1, max_value=99, initial=1)
    weight_kg = forms.DecimalField(
        label="Total weight (kg)", min_value=Decimal("0.001"), max_value=Decimal("9999.999"), decimal_places=3
    )


class ShipForm(forms.Form):
    carrier = forms.CharField(label="Carrier", max_length=64)
    tracking = forms.CharField(label="Tracking number", max_length=64)


class CollectForm(forms.Form):
    pickup_code = forms.CharField(label="Pickup code", max_length=6)


# --- helpers -----------------------------------------------------------------------------


def _fulfilment_of(store, pk: int) -> Fulfilment:
    return get_object_or_404(store_fulfilments(store=store), pk=pk)


def fulfilment_action(view):
    """Decorate ``view(request, store, fulfilment)`` as a POST on one of the store's fulfilments."""

    @store_page
    @require_POST
    @wraps(view)
    def wrapped(request, store, pk: int):
        return view(request, store, _fulfilment_of(store, pk))

    return wrapped


def _attempt(request, call, **kwargs) -> bool:
    """Run one service call; a refusal becomes the page's error message. True if it went through."""
    try:
        call(actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, refusal_message(exc))
        return False
    return True


def _to_fulfilment(store, fulfilment: Fulfilment):
    return redirect("store:fulfilment", code=store.code, pk=fulfilment.pk)


def _pick_key(fulfilment: Fulfilment) -> str:
    return f"pick:{fulfilment.pk}"


def _scanned(request, fulfilment: Fulfilment) -> dict[str, int]:
    return dict(request.session.get(_pick_key(fulfilment), {}))


def _duration(delta: timedelta) -> str:
    """A short duration for a busy screen: "45 min", "3 h 5 min", "2 d 4 h"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _clock(moment: datetime, store) -> str:
    """A moment in the store's own time, e.g. "Mon 14 Dec 09:30"."""
    local = timezone.localtime(moment, ZoneInfo(store.timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def _rows(store, fulfilments) -> list[Fulfilment]:
    """The fulfilments with what a list row shows, worked out here once rather than per row in the template.

    A long queue or shelf renders in a fraction of the time of template filters and url tags.
    """
    rows = list(fulfilments)
    for f in rows:
        f.url = reverse("store:fulfilment", kwargs={"code": store.code, "pk": f.pk})
        f.state_label = STATE_LABELS.get(f.status, f.status)
        f.method_label = METHOD_LABELS.get(f.method, f.get_method_display())
    return rows


def _handover_url(store, query: str = "") -> str:
    url = reverse("store:handover", kwargs={"code": store.code})
    return f"{url}?{urlencode({'q': query})}" if query else url


def _partial_or_page(request, partial: str, page: str, context: dict):
    """The partial for htmx's own requests (polling, filters), the whole page otherwise."""
    wants_partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, partial if wants_partial else page, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


# --- the queue ---------------------------------------------------------------------------


@store_page
def queue(request, store):
    """The store's open work, soonest due first; overdue rows stand out. Polls itself."""
    now = timezone.now()
    filters = QueueFilter(request.GET, queryset=store_work_queue(store=store, now=now))
    chosen = filters.form.cleaned_data if filters.is_valid() else {}
    method, status = chosen.get("method", ""), chosen.get("status", "")
    counts = store_work_counts(store=store, now=now, method=method)
    rows = _rows(store, filters.qs[:QUEUE_LIMIT])
    for f in rows:
        f.due_clock = _clock(f.due_at, store)
        f.due_text = f"Overdue by {_duration(now - f.due_at)}" if f.overdue else f"in {_duration(f.due_at - now)}"
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
        "poll_seconds": settings.OMS_STORE_QUEUE_POLL_SECONDS,
        "updated": timezone.localtime(now, ZoneInfo(store.timezone)).strftime("%H:%M:%S"),
    }
    return _partial_or_page(request, "store/work/_queue_table.html", "store/work/queue.html", context)


# --- one fulfilment ----------------------------------------------------------------------


def _fulfilment_page(request, store, fulfilment: Fulfilment, *, status: int = 200, **forms_):
    allowed = {t.name for t in fulfilment.get_available_status_transitions()} & STAFF_ACTIONS
    context = {
        "store": store,
        "f": fulfilment,
        "state_label": STATE_LABELS.get(fulfilment.status, fulfilment.status),
        "method_label": METHOD_LABELS.get(fulfilment.method, fulfilment.get_method_display()),
        "lines": list(fulfilment.lines.select_related("sku")),
        "allowed": allowed,
        "decline_form": forms_.get("decline_form") or DeclineForm(),
        "pack_form": forms_.get("pack_form") or PackForm(),
        "ship_form": forms_.get("ship_form") or ShipForm(),
        "carriers": ["Royal Mail", "DPD", "Evri", "DHL", "UPS", "Parcelforce"],
    }
    return render(request, "store/work/fulfilment.html", context, status=status)


@store_page
def fulfilment_detail(request, store, pk: int):
    """One fulfilment: its lines and the actions its state allows now."""
    return _fulfilment_page(request, store, _fulfilment_of(store, pk))


@fulfilment_action
def accept(request, store, fulfilment):
    if _attempt(request, services.fulfilment_accept, fulfilment=fulfilment):
        messages.success(request, f"Order {fulfilment.order.number} accepted: pick it now.")
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    return _to_fulfilment(store, fulfilment)


@fulfilment_action
def decline(request, store, fulfilment):
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, decline_form=form)
    reason, note = form.cleaned_data["reason"], form.cleaned_data["note"]
    before = order_live_fulfilment_ids(order=fulfilment.order)
    if not _attempt(request, services.fulfilment_decline, fulfilment=fulfilment, reason_code=reason, note=note):
        return _to_fulfilment(store, fulfilment)
    request.session.pop(_pick_key(fulfilment), None)
    elsewhere = order_locations_now(order=fulfilment.order, besides=before)
    where = f"re-routed to {', '.join(elsewhere)}" if elsewhere else "no other location has it now: backordered"
    messages.success(request, f"Order {fulfilment.order.number} declined ({reason.replace('_', ' ')}); {where}.")
    return redirect("store:queue", code=store.code)


@fulfilment_action
def pack(request, store, fulfilment):
    form = PackForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, pack_form=form)
    if _attempt(request, services.fulfilment_pack, fulfilment=fulfilment, **form.cleaned_data):
        messages.success(request, f"Packed in {form.cleaned_data['parcels']} parcel(s): print the slip and ship it.")
    return _to_fulfilment(store, fulfilment)


@fulfilment_action
def ship(request, store, fulfilment):
    form = ShipForm(request.POST)
    if not form.is_valid():
        return _fulfilment_page(request, store, fulfilment, status=400, ship_form=form)
    if _attempt(request, services.fulfilment_ship, fulfilment=fulfilment, **form.cleaned_data):
        messages.success(request, f"Order {fulfilment.order.number} shipped with {form.cleaned_data['carrier']}.")
        return redirect("store:queue", code=store.code)
    return _to_fulfilment(store, fulfilment)


@fulfilment_action
def ready(request, store, fulfilment):
    if _attempt(request, services.fulfilment_ready, fulfilment=fulfilment):
        messages.success(
            request, f"Order {fulfilment.order.number} is on the pickup shelf; the customer has been sent their code."
        )
        return redirect("store:pickups", code=store.code)
    return _to_fulfilment(store, fulfilment)


# --- picking by scanning -----------------------------------------------------------------


def _pick_context(request, store, fulfilment: Fulfilment, pick_groups=None, *, scan: dict | None = None) -> dict:
    scanned = _scanned(request, fulfilment)
    groups, total, done = [], 0, 0
    for group in pick_groups if pick_groups is not None else fulfilment_pick_list(fulfilment=fulfilment):
        items = []
        for item in group.items:
            n = min(scanned.get(item.sku.code, 0), item.quantity)
            items.append({"item": item, "scanned": n, "complete": n == item.quantity})
            total, done = total + item.quantity, done + n
        groups.append({"category": group.category or "Other", "items": items})
    return {
        "store": store,
        "f": fulfilment,
        "groups": groups,
        "total": total,
        "done": done,
        "short": total - done,
        "scan": scan,
        "confirm_form": PickConfirmForm(),
    }


def _pickable(request, store, fulfilment: Fulfilment):
    """None when the fulfilment is waiting to be picked, else where to send the person instead."""
    if fulfilment.status == S.ACCEPTED:
        return None
    if fulfilment.status == S.PENDING:
        messages.warning(request, "Accept the order before picking it.")
    else:
        messages.warning(request, f"This order is {STATE_LABELS.get(fulfilment.status, fulfilment.status).lower()}.")
    url = reverse("store:fulfilment", kwargs={"code": store.code, "pk": fulfilment.pk})
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@store_page
def pick(request, store, pk: int):
    """Scan each unit off the shelf, walking the store in pick-list order; then confirm."""
    fulfilment = _fulfilment_of(store, pk)
    return _pickable(request, store, fulfilment) or render(
        request, "store/work/pick.html", _pick_context(request, store, fulfilment)
    )


def _count_scan(request, fulfilment: Fulfilment, groups, code: str) -> dict:
    """Count one scanned unit if the code is one still wanted on this fulfilment; say what happened."""
    code = code.strip()
    if not code:
        return {"ok": False, "text": "Nothing was scanned."}
    sku = sku_resolve(code=code, channel=fulfilment.order.channel)
    wanted = {item.sku.code: item for group in groups for item in group.items}
    if sku is None:
        return {"ok": False, "text": f"Unknown barcode {code}: nothing counted."}
    if sku.code not in wanted:
        return {"ok": False, "text": f"Wrong item: {sku.code} {sku.name} is not on this order. Nothing counted."}
    scanned = _scanned(request, fulfilment)
    quantity = wanted[sku.code].quantity
    if scanned.get(sku.code, 0) >= quantity:
        return {"ok": False, "text": f"All {quantity} of {sku.code} are already scanned: nothing counted."}
    scanned[sku.code] = scanned.get(sku.code, 0) + 1
    request.session[_pick_key(fulfilment)] = scanned
    return {"ok": True, "text": f"{sku.code} {sku.name}: {scanned[sku.code]} of {quantity}."}


def _pick_answer(request, store, fulfilment: Fulfilment, scan: dict, groups=None):
    if request.htmx:
        context = _pick_context(request, store, fulfilment, groups, scan=scan)
        return render(request, "store/work/_pick_panel.html", context)
    (messages.success if scan["ok"] else messages.error)(request, scan["text"])
    return redirect("store:pick", code=store.code, pk=fulfilment.pk)


@fulfilment_action
def pick_scan(request, store, fulfilment):
    """Count one scanned (or typed) barcode; a wrong one is refused and counts nothing."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    groups = fulfilment_pick_list(fulfilment=fulfilment)
    scan = _count_scan(request, fulfilment, groups, request.POST.get("code", ""))
    return _pick_answer(request, store, fulfilment, scan, groups)


@fulfilment_action
def pick_undo(request, store, fulfilment):
    """Take back one scanned unit of a SKU (a miscount)."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    code, scanned = request.POST.get("sku", ""), _scanned(request, fulfilment)
    if scanned.get(code, 0) > 0:
        scanned[code] -= 1
        request.session[_pick_key(fulfilment)] = scanned
        scan = {"ok": True, "text": f"One {code} taken off the count: {scanned[code]} scanned."}
    else:
        scan = {"ok": False, "text": f"No {code} scanned to take off."}
    return _pick_answer(request, store, fulfilment, scan)


@fulfilment_action
def pick_confirm(request, store, fulfilment):
    """Record what was scanned; units not scanned are short and re-routed, for the reason given."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    form = PickConfirmForm(request.POST)
    context = _pick_context(request, store, fulfilment)
    if not form.is_valid() or (context["short"] and not form.cleaned_data["short_reason"]):
        messages.error(request, f"{context['short']} unit(s) not scanned: say why they are short.")
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    scanned = _scanned(request, fulfilment)
    picked = {i["item"].sku.code: scanned.get(i["item"].sku.code, 0) for g in context["groups"] for i in g["items"]}
    reason = form.cleaned_data["short_reason"] or Fulfilment.DeclineReason.NOT_IN_STOCK
    if not _attempt(request, services.fulfilment_pick, fulfilment=fulfilment, picked=picked, short_reason=reason):
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    request.session.pop(_pick_key(fulfilment), None)
    number = fulfilment.order.number
    if not context["done"]:
        messages.warning(request, f"Nothing picked: order {number} declined and re-routed.")
        return redirect("store:queue", code=store.code)
    if context["short"]:
        messages.warning(request, f"{context['short']} unit(s) short: re-routed. The rest of {number} is picked.")
    else:
        messages.success(request, f"All {context['done']} unit(s) of {number} picked.")
    return _to_fulfilment(store, fulfilment)


# --- printables --------------------------------------------------------------------------


@store_page
def pick_list(request, store, pk: int):
    """The pick list on paper, in walking order."""
    fulfilment = _fulfilment_of(store, pk)
    context = {
        "store": store,
        "f": fulfilment,
        "method_label": METHOD_LABELS.get(fulfilment.method, fulfilment.get_method_display()),
        "groups": fulfilment_pick_list(fulfilment=fulfilment),
    }
    return render(request, "store/work/pick_list.html", context)


@store_page
def packing_slip(request, store, pk: int):
    """What goes in the parcel, for the customer, once it is picked."""
    fulfilment = _fulfilment_of(store, pk)
    if fulfilment.status in (S.PENDING, S.ACCEPTED, S.DECLINED):
        raise Http404("Nothing is picked for this order yet.")
    context = {
        "store": store,
        "f": fulfilment,
        "lines": list(fulfilment.lines.select_related("sku")),
        "return_days": settings.OMS_RETURN_WINDOW_DAYS,
    }
    return render(request, "store/work/packing_slip.html", context)


# --- click and collect -------------------------------------------------------------------


@store_page
def pickups(request, store):
    """The parcels waiting on the shelf, longest first, and those to put back on the shop floor."""
    now, handover_url = timezone.now(), _handover_url(store)
    shelf = _rows(store, pickup_shelf(store=store))
    for f in shelf:
        f.waiting = _duration(now - f.ready_at)
        f.collect_by = _clock(f.expires_at, store)
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
    if not _attempt(request, services.fulfilment_collect, fulfilment=fulfilment, pickup_code=code):
        return redirect(_handover_url(store, query))
    customer = fulfilment.order.customer
    to_whom = f" to {customer.name}" if customer and customer.name else ""
    messages.success(request, f"Order {fulfilment.order.number} handed over{to_whom}: collected.")
    return redirect(_handover_url(store))


@fulfilment_action
def put_back(request, store, fulfilment):
    if _attempt(request, services.fulfilment_put_back, fulfilment=fulfilment):
        messages.success(request, f"Order {fulfilment.order.number}: units put back on the shop floor.")
    return redirect("store:pickups", code=store.code)
