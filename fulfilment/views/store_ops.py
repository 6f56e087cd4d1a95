"""Store operations pages: pausing new work, the store's till sales and the SKUs it is asked to count."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from fulfilment.store_hours import pause_in_force
from fulfilment.store_ops import store_pause, store_resume
from inventory.till import count_flags_open, till_sales

from .common import store_page

PAUSE_CHOICES = [
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "1 hour"),
    (120, "2 hours"),
    (240, "4 hours"),
    (480, "8 hours"),
]


class PauseForm(forms.Form):
    minutes = forms.TypedChoiceField(label="Pause for", coerce=int)
    reason = forms.CharField(label="Why", max_length=255, help_text="E.g. two staff off sick, stock count.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        longest = settings.OMS_STORE_PAUSE_MAX_HOURS * 60
        self.fields["minutes"].choices = [(m, label) for m, label in PAUSE_CHOICES if m <= longest]


def pause_panel(*, store, now, form: PauseForm | None = None) -> dict:
    """What the queue page shows about pausing: the pause in force, or the form to start one."""
    paused = pause_in_force(location_id=store.pk, at=now)
    return {
        "paused_until": paused[0] if paused else None,
        "paused_reason": paused[1] if paused else "",
        "pause_form": form or PauseForm(),
    }


@require_POST
@store_page
def pause(request, store):
    """Stop new routed work for this store for the time chosen; it resumes by itself."""
    form = PauseForm(request.POST)
    if not form.is_valid():
        errors = " ".join(f"{form.fields[k].label}: {' '.join(v)}" for k, v in form.errors.items() if k in form.fields)
        messages.error(request, f"The store was not paused. {errors}")
        return redirect("store:queue", code=store.code)
    try:
        p = store_pause(
            store=store, minutes=form.cleaned_data["minutes"], reason=form.cleaned_data["reason"], actor=request.user
        )
    except DomainError as exc:
        messages.error(request, staff_message(exc))
    else:
        until = pause_in_force(location_id=store.pk, at=p.starts_at)
        messages.success(request, f"Paused: no new work comes to {store.name} until {until[0]:%H:%M}.")
    return redirect("store:queue", code=store.code)


@require_POST
@store_page
def resume(request, store):
    """End the pause now: new work is routed here again."""
    if store_resume(store=store, actor=request.user) is None:
        messages.info(request, f"{store.name} was not paused.")
    else:
        messages.success(request, f"Resumed: {store.name} receives new work again.")
    return redirect("store:queue", code=store.code)


@store_page
def sales_and_counts(request, store):
    """What the tills sold here, newest first, and the SKUs to count because a sale proved the books wrong."""
    context = {"store": store, "sales": till_sales(location=store), "flags": count_flags_open(location=store)}
    return render(request, "store/stock/sales.html", context)
