"""Stock at this store and around it, counts and adjustments, inbound transfers (received in
``transfers``), and the endless aisle.

A scanner types the code and presses Enter, so every page starts from one autofocused
code field; every change goes through an inventory or order service and comes back to
the same SKU with a message saying what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from inventory.exceptions import CountNeedsConfirmation
from inventory.models import AdjustmentReason, Channel, Sku
from inventory.quantities import QuantityField, max_quantity
from inventory.selectors import StockPicture, sku_resolve, skus_search, stock_picture, store_channel, transfers_inbound
from inventory.services import stock_adjust, stock_count
from oms.intake import OrderLineInput
from oms.models import Order
from oms.services import order_place_for_walk_in

from .common import store_page

COUNT_REASONS = [("count", "Routine count"), *AdjustmentReason.choices]


class AdjustForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    delta = QuantityField(signed=True, label="Change on hand by", help_text="Negative takes units out, e.g. -2.")
    reason = forms.ChoiceField(choices=AdjustmentReason.choices)
    note = forms.CharField(max_length=64, required=False, label="Note (optional)")


class CountForm(forms.Form):
    sku = forms.CharField(max_length=64, widget=forms.HiddenInput)
    counted = QuantityField(label="Counted on the shelf")
    reason = forms.ChoiceField(choices=COUNT_REASONS, label="Reason for any difference")
    # The number the person confirmed when asked; it confirms only that same count.
    confirm = QuantityField(required=False, widget=forms.HiddenInput)

    def confirmed(self) -> bool:
        return self.cleaned_data["confirm"] == self.cleaned_data["counted"]


@dataclass
class Lookup:
    """What a scanned or typed code found: one SKU's stock picture, several candidates, or nothing."""

    query: str = ""
    picture: StockPicture | None = None
    matches: list[Sku] = field(default_factory=list)
    problem: str = ""


def _look_up(query: str, store, channel: Channel | None = None) -> Lookup:
    """Resolve a SKU code, barcode or alias; otherwise search names; say plainly when nothing fits."""
    if not query:
        return Lookup()
    sku = sku_resolve(code=query)
    matches = [] if sku or query.isdigit() else skus_search(query=query)
    if sku is None and len(matches) == 1:
        sku = matches[0]
    if sku is not None:
        return Lookup(query, stock_picture(sku=sku, location=store, channel=channel))
    if matches:
        return Lookup(query, matches=matches)
    if query.isdigit():
        problem = f"No product has the barcode {query}. Scan it again, or type the SKU code or the product's name."
    else:
        problem = f"No product matches “{query}”. Check the SKU code, or scan the barcode."
    return Lookup(query, problem=problem)


def _stock_url(store, sku_code: str) -> str:
    return f"{reverse('store:stock', kwargs={'code': store.code})}?{urlencode({'sku': sku_code})}"


def _stock_page(request, store, query: str, *, status: int = 200, **forms_given):
    lookup = _look_up(query, store)
    sku_code = lookup.picture.sku.code if lookup.picture else ""
    context = {
        "store": store,
        "lookup": lookup,
        "adjust_form": forms_given.get("adjust_form") or AdjustForm(initial={"sku": sku_code}),
        "count_form": forms_given.get("count_form") or CountForm(initial={"sku": sku_code}),
        "count_question": forms_given.get("count_question", ""),
        "transfers": transfers_inbound(location=store),
    }
    return render(request, "store/stock/stock.html", context, status=status)


@store_page
def stock(request, store):
    """Scan or search a SKU: here, the nearest stores and the warehouses, then adjust or count it."""
    return _stock_page(request, store, request.GET.get("sku", "").strip())


def _change_stock(request, store, form_class, change) -> HttpResponse:
    """Validate a stock form, apply ``change(sku, form)`` and come back to the SKU with the new on-hand."""
    form = form_class(request.POST)
    sku = sku_resolve(code=request.POST.get("sku", ""))
    if sku is None:
        raise Http404("No such SKU.")
    if form.is_valid():
        try:
            level = change(sku, form)
        except CountNeedsConfirmation as exc:
            # Ask once, showing both numbers; the same count sent back with the confirmation applies.
            question = f"This count changes on hand from {exc.on_hand:,} to {exc.counted:,} — confirm?"
            asked = CountForm({**request.POST.dict(), "confirm": exc.counted})
            return _stock_page(request, store, sku.code, count_form=asked, count_question=question)
        except DomainError as exc:
            messages.error(request, staff_message(exc))
        else:
            messages.success(request, f"{sku.code}: {level.on_hand} on hand at {store.name} now.")
            return redirect(_stock_url(store, sku.code))
    key = "adjust_form" if form_class is AdjustForm else "count_form"
    return _stock_page(request, store, sku.code, status=400, **{key: form})


@require_POST
@store_page
def adjust(request, store):
    """Correct on-hand by a signed amount with a reason (damage, loss, found, …)."""
    return _change_stock(
        request,
        store,
        AdjustForm,
        lambda sku, form: stock_adjust(
            sku=sku,
            location=store,
            delta=form.cleaned_data["delta"],
            reason=form.cleaned_data["reason"],
            reference=form.cleaned_data["note"],
            actor=request.user,
        ),
    )


@require_POST
@store_page
def count(request, store):
    """Set on-hand to what is on the shelf; the ledger keeps the difference and why."""
    return _change_stock(
        request,
        store,
        CountForm,
        lambda sku, form: stock_count(
            sku=sku,
            location=store,
            counted=form.cleaned_data["counted"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
            confirmed=form.confirmed(),
        ),
    )


# --- endless aisle ---------------------------------------------------------------------


class CustomerForm(forms.Form):
    DELIVERY, COLLECT = "delivery", "collect"
    name = forms.CharField(max_length=255, label="Customer name")
    email = forms.EmailField(required=False, label="E-mail")
    phone = forms.CharField(max_length=32, required=False, label="Phone")
    method = forms.ChoiceField(
        choices=[(DELIVERY, "Delivered home"), (COLLECT, "Collected here")],
        widget=forms.RadioSelect,
        initial=COLLECT,
        label="How the customer gets it",
    )
    line1 = forms.CharField(max_length=255, required=False, label="Address")
    city = forms.CharField(max_length=128, required=False, label="Town or city")
    postcode = forms.CharField(max_length=16, required=False, label="Postcode")

    def clean(self):
        data = super().clean()
        if not (data.get("email") or data.get("phone")):
            self.add_error("email", "Give an e-mail or a phone number so we can tell the customer.")
        if data.get("method") == self.DELIVERY:
            for name in ("line1", "city", "postcode"):
                if not data.get(name):
                    self.add_error(name, "Needed for home delivery.")
        return data

    def customer(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("name", "email", "phone") if self.cleaned_data[k]}

    def address(self) -> dict | None:
        if self.cleaned_data["method"] != self.DELIVERY:
            return None
        return {**{k: self.cleaned_data[k] for k in ("line1", "city", "postcode")}, "country": "GB"}


class AisleLineForm(forms.Form):
    """One product for the endless-aisle basket: held to the stock bound and an order line's price."""

    sku = forms.CharField(max_length=128)
    quantity = QuantityField(min_value=1)
    price = forms.DecimalField(min_value=0, max_digits=12, decimal_places=2)


def _basket_key(store) -> str:
    return f"aisle-basket-{store.pk}"


def _catalogue_price(sku: Sku) -> str:
    try:
        return str(Decimal(str(sku.attributes.get("price", ""))))
    except InvalidOperation:
        return ""


@store_page
def aisle(request, store):
    """Build a basket from stock held anywhere and order it for the customer at the counter."""
    basket = request.session.get(_basket_key(store), [])
    customer_form = CustomerForm()
    status = 200
    action = request.POST.get("action")
    if action == "add":
        line = AisleLineForm(request.POST)
        sku = sku_resolve(code=line.cleaned_data["sku"]) if line.is_valid() else None
        if sku is not None:
            basket = [item for item in basket if item["sku"] != sku.code]
            quantity, price = line.cleaned_data["quantity"], str(line.cleaned_data["price"])
            basket.append({"sku": sku.code, "name": sku.name, "quantity": quantity, "price": price})
            request.session[_basket_key(store)] = basket
            return redirect("store:aisle", code=store.code)
        most = f"{max_quantity():,}"
        messages.error(request, f"Give a quantity of at least 1 (at most {most}) and a price of 0 or more.")
        status = 400
    elif action == "remove":
        request.session[_basket_key(store)] = [line for line in basket if line["sku"] != request.POST.get("sku")]
        return redirect("store:aisle", code=store.code)
    elif action == "place":
        customer_form = CustomerForm(request.POST)
        if not basket:
            messages.error(request, "Add at least one product to the order first.")
        elif customer_form.is_valid():
            lines = [OrderLineInput(line["sku"], line["quantity"], line["price"]) for line in basket]
            try:
                placed = order_place_for_walk_in(
                    store=store,
                    staff=request.user,
                    lines=lines,
                    customer=customer_form.customer(),
                    address=customer_form.address(),
                )
            except DomainError as exc:
                messages.error(request, staff_message(exc))
            else:
                del request.session[_basket_key(store)]
                return redirect("store:aisle_placed", code=store.code, number=placed.number)
        status = 400
    lookup = _look_up(request.GET.get("sku", "").strip(), store, channel=store_channel())
    context = {
        "store": store,
        "lookup": lookup,
        "basket": basket,
        "customer_form": customer_form,
        "price": _catalogue_price(lookup.picture.sku) if lookup.picture else "",
    }
    return render(request, "store/stock/aisle.html", context, status=status)


@store_page
def aisle_placed(request, store, number: str):
    """Confirm an endless-aisle order this store placed: its number and where it comes from."""
    placed = (
        Order.objects.filter(
            number=number,
            external_id__regex=rf"^{re.escape(store.code)}-[0-9A-F]{{12}}$",
            channel__kind=Channel.Kind.STORE,
        )
        .select_related("customer")
        .prefetch_related("fulfilments__location", "fulfilments__source_location", "lines__sku")
        .first()
    )
    if placed is None:
        raise Http404("No such order from this store.")
    return render(request, "store/stock/aisle_placed.html", {"store": store, "order": placed})
