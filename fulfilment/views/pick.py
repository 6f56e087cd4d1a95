"""Picking by scanning, and the printed pick list.

Scanned units are kept per fulfilment line on the server (``fulfilment.picking``), so any
tablet of the store, and the same person after signing in again, carries on the same count;
the pick is confirmed with those counts in one call of the pick service.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from core.staff_messages import staff_message
from fulfilment import actions
from fulfilment.models import Fulfilment
from fulfilment.picking import ScanRefused, fulfilment_unit_scan, fulfilment_unit_unscan
from fulfilment.store_work import fulfilment_pick_list, order_live_fulfilment_ids
from inventory.selectors import sku_resolve
from oms.selectors import order_notes_for_stores

from .common import (
    DECLINE_REASONS,
    METHOD_LABELS,
    STATE_LABELS,
    attempt,
    fulfilment_action,
    fulfilment_of,
    store_page,
    to_fulfilment,
    where_the_work_went,
)

S = Fulfilment.Status


class PickConfirmForm(forms.Form):
    short_reason = forms.ChoiceField(label="Why are units short?", choices=DECLINE_REASONS, required=False)


def _pick_context(store, fulfilment: Fulfilment, pick_groups=None, *, scan: dict | None = None) -> dict:
    groups, total, done = [], 0, 0
    for group in pick_groups if pick_groups is not None else fulfilment_pick_list(fulfilment=fulfilment):
        items = []
        for item in group.items:
            n = min(item.scanned, item.quantity)
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
    fulfilment = fulfilment_of(store, pk)
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    context = _pick_context(store, fulfilment)
    context["notes"] = order_notes_for_stores(order_ids=[fulfilment.order_id]).get(fulfilment.order_id, [])
    return render(request, "store/work/pick.html", context)


def _count_scan(request, fulfilment: Fulfilment, code: str) -> dict:
    """Count one scanned unit if the code is one still wanted on this fulfilment; say what happened."""
    code = code.strip()
    if not code:
        return {"ok": False, "text": "Nothing was scanned."}
    sku = sku_resolve(code=code, channel=fulfilment.order.channel)
    if sku is None:
        return {"ok": False, "text": f"Unknown barcode {code}: nothing counted."}
    try:
        count = fulfilment_unit_scan(fulfilment=fulfilment, sku=sku, actor=request.user)
    except ScanRefused as exc:
        if exc.reason == "not_on_order":
            return {"ok": False, "text": f"Wrong item: {sku.code} {sku.name} is not on this order. Nothing counted."}
        if exc.reason == "all_scanned":
            return {"ok": False, "text": f"All {exc.quantity} of {sku.code} are already scanned: nothing counted."}
        return {"ok": False, "text": f"{staff_message(exc)} Nothing counted."}
    return {"ok": True, "text": f"{sku.code} {sku.name}: {count.scanned} of {count.quantity}."}


def _pick_answer(request, store, fulfilment: Fulfilment, scan: dict, groups=None):
    if request.htmx:
        return render(request, "store/work/_pick_panel.html", _pick_context(store, fulfilment, groups, scan=scan))
    (messages.success if scan["ok"] else messages.error)(request, scan["text"])
    return redirect("store:pick", code=store.code, pk=fulfilment.pk)


@fulfilment_action
def pick_scan(request, store, fulfilment):
    """Count one scanned (or typed) barcode; a wrong one is refused and counts nothing."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    scan = _count_scan(request, fulfilment, request.POST.get("code", ""))
    return _pick_answer(request, store, fulfilment, scan)


@fulfilment_action
def pick_undo(request, store, fulfilment):
    """Take back one scanned unit of a SKU (a miscount)."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    code = request.POST.get("sku", "").strip()
    sku = sku_resolve(code=code, channel=fulfilment.order.channel) if code else None
    try:
        if sku is None:
            raise ScanRefused(f"No {code} scanned to take off.", reason="none_scanned")
        count = fulfilment_unit_unscan(fulfilment=fulfilment, sku=sku, actor=request.user)
    except ScanRefused as exc:
        scan = {"ok": False, "text": staff_message(exc)}
    else:
        scan = {"ok": True, "text": f"One {sku.code} taken off the count: {count.scanned} scanned."}
    return _pick_answer(request, store, fulfilment, scan)


@fulfilment_action
def pick_confirm(request, store, fulfilment):
    """Record what was scanned; units not scanned are short and re-routed, for the reason given."""
    if (redirect_to := _pickable(request, store, fulfilment)) is not None:
        return redirect_to
    form = PickConfirmForm(request.POST)
    context = _pick_context(store, fulfilment)
    if not form.is_valid() or (context["short"] and not form.cleaned_data["short_reason"]):
        messages.error(request, f"{context['short']} unit(s) not scanned: say why they are short.")
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    picked = {i["item"].sku.code: i["scanned"] for g in context["groups"] for i in g["items"]}
    reason = form.cleaned_data["short_reason"] or Fulfilment.DeclineReason.NOT_IN_STOCK
    before = order_live_fulfilment_ids(order=fulfilment.order)
    if not attempt(request, actions.fulfilment_pick, fulfilment=fulfilment, picked=picked, short_reason=reason):
        return redirect("store:pick", code=store.code, pk=fulfilment.pk)
    number = fulfilment.order.number
    if not context["done"]:
        messages.warning(request, f"Nothing picked: order {number} declined and re-routed.")
        return redirect("store:queue", code=store.code)
    if context["short"]:
        short = "1 unit" if context["short"] == 1 else f"{context['short']} units"
        where = where_the_work_went(fulfilment.order, before=before, store=store)
        messages.warning(request, f"{short} short: {where}. The rest of {number} is picked.")
    else:
        messages.success(request, f"All {context['done']} unit(s) of {number} picked.")
    return to_fulfilment(store, fulfilment)


@store_page
def pick_list(request, store, pk: int):
    """The pick list on paper, in walking order."""
    fulfilment = fulfilment_of(store, pk)
    context = {
        "store": store,
        "f": fulfilment,
        "method_label": METHOD_LABELS.get(fulfilment.method, fulfilment.get_method_display()),
        "groups": fulfilment_pick_list(fulfilment=fulfilment),
        "notes": order_notes_for_stores(order_ids=[fulfilment.order_id]).get(fulfilment.order_id, []),
    }
    return render(request, "store/work/pick_list.html", context)
