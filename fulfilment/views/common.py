"""What every store page shares: the store picker, the store named in the URL, the words for a
fulfilment's state and method, and how a POST on one fulfilment is run and answered."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from fulfilment.models import Fulfilment
from fulfilment.store_work import order_work_now, store_fulfilments
from oms.access import Role, role_required, store_for, stores_of

STORE_ROLES = (Role.STORE_STAFF,)

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
# The methods of a store's own work, as the queue filter offers them (labels from the model, one wording everywhere).
METHOD_LABELS = {m: m.label for m in (M.SHIP_FROM_STORE, M.CLICK_AND_COLLECT, M.IN_STORE)}
DECLINE_REASONS = [
    (Fulfilment.DeclineReason.NOT_IN_STOCK, "Not in stock (cannot be found)"),
    (Fulfilment.DeclineReason.DAMAGED, "Damaged"),
    (Fulfilment.DeclineReason.MISMATCH, "Stock mismatch (count needed)"),
]


@role_required(*STORE_ROLES)
def store_home(request):
    """One store: straight to its queue; several: let the person choose."""
    stores = stores_of(request.user)
    if len(stores) == 1:
        return redirect("store:queue", code=stores[0].code)
    return render(request, "store/choose_store.html", {"stores": stores})


def store_page(view):
    """Decorate a store view ``view(request, store, ...)``: role checked, ``code`` resolved to a store of theirs."""

    @role_required(*STORE_ROLES)
    def wrapped(request, code, *args, **kwargs):
        store = store_for(request.user, code)
        request.store = store
        request.stores = stores_of(request.user)  # for the switcher; read only if the page shows it
        return view(request, store, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def where_the_work_went(order, *, before: set[int], store) -> str:
    """Say where a decline or short pick at ``store`` sent the work (``before``: the live fulfilments before it)."""
    moved = order_work_now(order=order, besides=before)
    elsewhere = list(dict.fromkeys(code for code, _ in moved if code != store.code))
    sources = list(dict.fromkeys(source for code, source in moved if code == store.code))
    said = [f"re-routed to {', '.join(elsewhere)}"] if elsewhere else []
    if sources:  # a collection here, now from another store's stock
        said.append(f"the customer still collects here, with the stock sent from {', '.join(sources)}")
    return "; ".join(said) or "no other location has it now: backordered"


# --- one fulfilment of the store's --------------------------------------------------------


def fulfilment_of(store, pk: int) -> Fulfilment:
    return get_object_or_404(store_fulfilments(store=store), pk=pk)


def fulfilment_action(view):
    """Decorate ``view(request, store, fulfilment)`` as a POST on one of the store's fulfilments."""

    @store_page
    @require_POST
    @wraps(view)
    def wrapped(request, store, pk: int):
        return view(request, store, fulfilment_of(store, pk))

    return wrapped


def attempt(request, call, **kwargs) -> bool:
    """Run one service call; a refusal becomes the page's error message. True if it went through."""
    try:
        call(actor=request.user, **kwargs)
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return False
    return True


def to_fulfilment(store, fulfilment: Fulfilment):
    return redirect("store:fulfilment", code=store.code, pk=fulfilment.pk)


def duration(delta: timedelta) -> str:
    """A short duration for a busy screen: "45 min", "3 h 5 min", "2 d 4 h"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def clock(moment: datetime, store) -> str:
    """A moment in the store's own time, e.g. "Mon 14 Dec 09:30"."""
    local = timezone.localtime(moment, ZoneInfo(store.timezone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def list_rows(store, fulfilments) -> list[Fulfilment]:
    """The fulfilments with what a list row shows, worked out here once rather than per row in the template.

    A long queue or shelf renders in a fraction of the time of template filters and url tags.
    """
    rows = list(fulfilments)
    for f in rows:
        f.url = reverse("store:fulfilment", kwargs={"code": store.code, "pk": f.pk})
        f.state_label = STATE_LABELS.get(f.status, f.status)
        f.method_label = METHOD_LABELS.get(f.method, f.get_method_display())
    return rows
