"""The back office's forms: they check the shape of what an agent typed; the services check the rules."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from fulfilment.models import Fulfilment
from oms.models import Order
from oms.selectors import order_line_cancellable
from returns.models import GoodwillReason, Return, ReturnReason


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Order, customer name, phone, e-mail, member, tracking or pickup code", max_length=128, required=False
    )


class OrderForm(forms.Form):
    """A form about one order: the order shapes its choices."""

    def __init__(self, *args, order: Order, **kwargs):
        self.order = order
        super().__init__(*args, **kwargs)


class HoldForm(OrderForm):
    reason = forms.ChoiceField(label="Hold reason", choices=Order.HoldReason.choices)
    note = forms.CharField(label="Note", max_length=200, required=False)
    until = forms.DateTimeField(
        label="Release automatically at (optional)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )


class ReleaseForm(OrderForm):
    note = forms.CharField(label="Why release", max_length=200, required=False)


class CancelForm(OrderForm):
    reason = forms.CharField(label="Cancellation reason", max_length=200)


class CancelLinesForm(OrderForm):
    """A quantity to cancel per open line (after dispatch: per backordered line); at least one above zero."""

    reason = forms.CharField(label="Reason", max_length=200)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.order.lines.all():
            if most := order_line_cancellable(order=self.order, line=line):
                self.fields[f"line_{line.pk}"] = forms.IntegerField(
                    label=f"Cancel units of {line.sku.code}", min_value=0, max_value=most, required=False
                )

    def clean(self):
        data = super().clean()
        quantities = {
            int(name.removeprefix("line_")): value for name, value in data.items() if name.startswith("line_") and value
        }
        if not quantities:
            raise forms.ValidationError("Enter a quantity to cancel on at least one line.")
        data["lines"] = quantities
        return data


class AddressForm(OrderForm):
    line1 = forms.CharField(label="Address line 1", max_length=120)
    line2 = forms.CharField(label="Address line 2", max_length=120, required=False)
    city = forms.CharField(label="Town or city", max_length=80)
    postcode = forms.CharField(label="Postcode", max_length=12)
    country = forms.CharField(label="Country code", max_length=2, initial="GB")

    def clean_country(self):
        return self.cleaned_data["country"].upper()


class RerouteForm(OrderForm):
    location = forms.TypedChoiceField(label="Location to exclude", coerce=int)
    reason = forms.CharField(label="Why not there", max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        live = [f for f in self.order.fulfilments.all() if f.status not in Fulfilment.INACTIVE]
        self.fields["location"].choices = sorted({(f.location_id, f.location.code) for f in live})

    def clean_location(self):
        pk = self.cleaned_data["location"]
        return next(f.location for f in self.order.fulfilments.all() if f.location_id == pk)


class FulfilmentChoiceForm(OrderForm):
    """Pick one of the order's parcels waiting for collection."""

    fulfilment = forms.TypedChoiceField(label="Parcel", coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fulfilment"].choices = [
            (f.pk, f"{f.location.code} (F{f.pk})")
            for f in self.order.fulfilments.all()
            if f.status == Fulfilment.Status.READY_FOR_PICKUP
        ]

    def clean_fulfilment(self):
        return next(f for f in self.order.fulfilments.all() if f.pk == self.cleaned_data["fulfilment"])


class ReturnForm(OrderForm):
    """Units to return per returnable line, with one reason for the parcel."""

    reason = forms.ModelChoiceField(
        label="Return reason", queryset=ReturnReason.objects.filter(active=True), to_field_name="code", required=False
    )

    def __init__(self, *args, returnable: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        for line in self.order.lines.all():
            if returnable.get(line.pk):
                self.fields[f"line_{line.pk}"] = forms.IntegerField(
                    label=f"Return units of {line.sku.code}", min_value=0, max_value=returnable[line.pk], required=False
                )

    def clean(self):
        data = super().clean()
        codes = {line.pk: line.sku.code for line in self.order.lines.all()}
        data["lines"] = [
            (codes[int(name.removeprefix("line_"))], value)
            for name, value in data.items()
            if name.startswith("line_") and value
        ]
        if not data["lines"]:
            raise forms.ValidationError("Enter a quantity to return on at least one line.")
        return data


class ReturnChoiceForm(OrderForm):
    """Pick one of the order's returns."""

    ret = forms.ModelChoiceField(label="Return", queryset=Return.objects.none(), to_field_name="reference")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ret"].queryset = Return.objects.filter(order=self.order)


class RefundForm(ReturnChoiceForm):
    method = forms.ChoiceField(label="Refund to", choices=Return.RefundMethod.choices)
    amount = forms.DecimalField(
        label="Amount confirmed", max_digits=12, decimal_places=2, required=False, widget=forms.HiddenInput
    )


class RefundRequestForm(ReturnChoiceForm):
    method = forms.ChoiceField(label="Refund to", choices=Return.RefundMethod.choices)
    reason = forms.CharField(label="Why the refund is due (for the supervisor)", max_length=255, required=False)


class GoodwillForm(OrderForm):
    """Money back without a return: how much, why, and where it goes."""

    amount = forms.DecimalField(label="Amount", max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.ChoiceField(label="Goodwill reason", choices=GoodwillReason.choices)
    method = forms.ChoiceField(label="Refund to", choices=Return.RefundMethod.choices)
    note = forms.CharField(label="Details (on the timeline)", max_length=200, required=False)


class RefundDecisionForm(forms.Form):
    note = forms.CharField(label="Note", max_length=255, required=False)


class ExchangeForm(ReturnChoiceForm):
    sku = forms.CharField(label="Replacement SKU", max_length=64)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=99, initial=1)


class NoteForm(OrderForm):
    text = forms.CharField(
        label="Note (stores and channels see it too)", max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    internal = forms.BooleanField(label="Back office only: stores and channels do not see it", required=False)


class MergeForm(forms.Form):
    other = forms.CharField(label="Duplicate customer: e-mail, phone or member number", max_length=128)
