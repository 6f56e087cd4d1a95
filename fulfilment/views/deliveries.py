"""Deliveries due: what suppliers have announced for this store, and receiving it by scanning.

Each open document has its own receiving form: a scanner types the product's code into it
and presses Enter, so the quantity starts at 1 and a typed number receives several at once.
A refusal changes nothing and comes back to the same page with the typed values and a
sentence saying what to do; a receipt comes back to the page with what was booked.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.staff_messages import staff_message
from fulfilment.deliveries import SentTwice, delivery_receive, receipt_token
from inventory.inbound_selectors import inbound_open
from inventory.models import InboundSupply, Sku
from inventory.quantities import QuantityField
from inventory.selectors import sku_resolve

from .common import store_page

ECHO_MAX = 24  # characters of a refused value a message repeats: a stray scan is recognisable, not a wall of text


def _echo(value: object) -> str:
    text = str(value).strip()
    return text if len(text) <= ECHO_MAX else f"{text[:ECHO_MAX]}…"


class UnitsArrivedField(QuantityField):
    """How many units arrived: a whole number from 1 up to the stock bound, refused in plain words."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as exc:
            raise ValidationError(
                f"“{_echo(value)}” is not a number of units. Type how many arrived as a whole number, such as 2.",
                code="invalid",
            ) from exc


class ReceiveForm(forms.Form):
    code = forms.CharField(
        max_length=128,
        label="Scan or type a product",
        error_messages={
            "required": "Scan the product's barcode or type its SKU code.",
            "max_length": "That is too long for a barcode or SKU code. Scan the product again.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false"}),
    )
    quantity = UnitsArrivedField(
        min_value=1,
        initial=1,
        label="Quantity",
        error_messages={
            "required": "Type how many units arrived, such as 2.",
            "min_value": "Type how many units arrived: 1 or more.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def problems(self) -> str:
        """The form's errors as one message, the quantity's after the product's."""
        return " ".join(str(e) for name in ("code", "quantity") for e in self.errors.get(name, []))


def _unknown_product(code: str) -> str:
    if code.isdigit():
        return f"No product has the barcode {_echo(code)}. Scan it again, or type the SKU code."
    return f"No product matches “{_echo(code)}”. Check the SKU code, or scan the barcode."


def _deliveries_page(request, store, *, failed: tuple[int, ReceiveForm] | None = None, status: int = 200):
    """Every open document with its lines and a receiving form; ``failed`` keeps a refused form's values."""
    supplies = list(inbound_open(location=store))
    focus = failed[0] if failed else _int(request.GET.get("at"))
    if supplies and focus not in {s.pk for s in supplies}:
        focus = supplies[0].pk
    for supply in supplies:
        refused = failed[1] if failed and failed[0] == supply.pk else None
        supply.form = refused or ReceiveForm(auto_id=f"delivery-{supply.pk}-%s")
        supply.token = receipt_token()  # fresh on every drawing: sending this page's form again is deliberate
        supply.seen = sum(line.received for line in supply.lines.all())  # what another tablet's receipt changes
        if supply.pk == focus:  # where the next scan or keystroke goes: the refused quantity, else the product
            field = "quantity" if "quantity" in supply.form.errors else "code"
            supply.form.fields[field].widget.attrs["autofocus"] = True
    context = {"store": store, "supplies": supplies}
    return render(request, "store/stock/deliveries.html", context, status=status)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


@store_page
def deliveries(request, store):
    """Suppliers' deliveries due at this store, soonest first, each to receive by scanning."""
    return _deliveries_page(request, store)


def _booked(sku: Sku, quantity: int, supply: InboundSupply) -> str:
    line = supply.lines.get(sku=sku)
    return (
        f"Received {quantity} × {sku.code} ({sku.name}) from {supply.reference} into {supply.location.name}'s stock: "
        f"{line.received} of {line.quantity} in."
    )


@require_POST
@store_page
def receive(request, store, supply_id: int):
    """Book units of one product that arrived against one of this store's deliveries."""
    supply = get_object_or_404(InboundSupply.objects.select_related("location"), pk=supply_id, location=store)
    form = ReceiveForm(request.POST, auto_id=f"delivery-{supply.pk}-%s")
    if not form.is_valid():
        messages.error(request, form.problems())
        return _deliveries_page(request, store, failed=(supply.pk, form), status=400)
    code, quantity = form.cleaned_data["code"], form.cleaned_data["quantity"]
    sku = sku_resolve(code=code)
    if sku is None:
        messages.error(request, _unknown_product(code))
        form.add_error("code", "Unknown product.")
        return _deliveries_page(request, store, failed=(supply.pk, form), status=400)
    token, seen = request.POST.get("token", ""), _int(request.POST.get("seen"))
    try:
        over = delivery_receive(
            supply=supply, code=sku.code, quantity=quantity, token=token, actor=request.user, seen=seen
        )
    except SentTwice as exc:  # the page already shows what the first send booked
        messages.warning(request, staff_message(exc))
        return redirect(_page_url(store, supply))
    except DomainError as exc:
        messages.error(request, staff_message(exc))
        return _deliveries_page(request, store, failed=(supply.pk, form), status=400)
    messages.success(request, _booked(sku, quantity, supply))
    if extra := over.get(sku.code):
        messages.warning(
            request,
            f"{extra} more than expected of SKU {sku.code} ({sku.name}) on {supply.reference}: "
            "booked into stock all the same. Tell the back office if the supplier sent too many.",
        )
    return redirect(_page_url(store, supply))


def _page_url(store, supply: InboundSupply) -> str:
    url = reverse("store:deliveries", kwargs={"code": store.code})
    return f"{url}?{urlencode({'at': supply.pk})}#delivery-{supply.pk}"
