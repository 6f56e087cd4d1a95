"""Filter and policy forms of the analytics pages: every bad input gets a message naming the field."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from fulfilment.routing.policy import FALLBACKS, MAX_LEAD_HOURS, MAX_SPLITS, RoutingPolicy
from fulfilment.routing.terms import MAX_WEIGHT, TERMS, Term
from inventory.models import Channel, Location

from .selectors import AnalyticsFilters

DEFAULT_DAYS = 30
DATE_MESSAGE = "Enter a date as YYYY-MM-DD, for example 2026-11-01."


def _date_field(label: str) -> forms.DateField:
    # A date input takes ISO dates whatever the page's language; typed-in British dates are accepted too.
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(label=label, widget=widget, error_messages={"invalid": DATE_MESSAGE})


class PeriodForm(forms.Form):
    """A period of whole days (both included) and an optional channel, read from the query string."""

    max_days = 366

    start = _date_field("From")
    end = _date_field("To")
    channel = forms.ModelChoiceField(
        Channel.objects.filter(active=True), to_field_name="code", required=False, empty_label="All channels"
    )

    def __init__(self, query=None, **kwargs):
        today = timezone.localdate()
        defaults = {"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today}
        data = {**defaults, **{k: v for k, v in (query or {}).items() if v != ""}}
        super().__init__(data, label_suffix="", **kwargs)

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "“To” is before “From”.")
            elif (end - start).days + 1 > self.max_days:
                self.add_error("end", f"Choose at most {self.max_days} days.")
        return data

    def query(self) -> dict[str, str]:
        """The cleaned filters as query-string values, for links to the same view of the data."""
        data = self.cleaned_data
        values = {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
        for name in ("channel", "location"):
            if data.get(name) is not None:
                values[name] = data[name].code
        return values


class AnalyticsFilterForm(PeriodForm):
    location = forms.ModelChoiceField(
        Location.objects.filter(active=True), to_field_name="code", required=False, empty_label="All locations"
    )

    def filters(self) -> AnalyticsFilters:
        data = self.cleaned_data
        return AnalyticsFilters(data["start"], data["end"], data["channel"], data["location"])


def _weight(term: Term) -> forms.FloatField:
    """The lab's field for one score term's weight, as the term declares it; an optional one left empty weighs 0."""
    return forms.FloatField(
        label=term.label,
        help_text=term.help,
        min_value=term.form_min,
        max_value=MAX_WEIGHT,
        required=term.form_required,
        widget=forms.NumberInput(attrs={"step": "any"}),
    )


def _lead_hours(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=MAX_LEAD_HOURS)


class PolicyLabForm(PeriodForm):
    """The period to replay and the candidate policy's settings, prefilled with the current policy.

    One weight field per score term of the registry (fulfilment/routing/terms.py).
    """

    max_days = 92

    max_splits = forms.IntegerField(label="Most fulfilments per order", min_value=1, max_value=MAX_SPLITS)
    fallback = forms.ChoiceField(label="When nothing fits", choices=[(f, f) for f in FALLBACKS])
    allow_ship_from_store = forms.BooleanField(label="Stores may ship to customers", required=False)
    transfer_lead_hours_warehouse = _lead_hours("Transfer from warehouse (hours)")
    transfer_lead_hours_store = _lead_hours("Transfer from a store (hours)")

    POLICY_FIELDS = (
        "max_splits",
        "fallback",
        *(t.weight_field for t in TERMS),
        "allow_ship_from_store",
        "transfer_lead_hours_warehouse",
        "transfer_lead_hours_store",
    )

    def __init__(self, query=None, *, policy: RoutingPolicy, **kwargs):
        """Until the simulation is run, the candidate is a copy of ``policy``, the chosen channel's current one."""
        if query is None or "run" not in query:
            query = {**dict((query or {}).items()), **{name: getattr(policy, name) for name in self.POLICY_FIELDS}}
        self.base_policy = policy
        super().__init__(query, **kwargs)
        self.fields.update({t.weight_field: _weight(t) for t in TERMS})

    def policy_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.POLICY_FIELDS]

    def candidate(self) -> RoutingPolicy:
        settings = {name: self.cleaned_data[name] for name in self.POLICY_FIELDS}
        settings |= {t.weight_field: 0.0 for t in TERMS if settings[t.weight_field] is None}
        return RoutingPolicy(**{**self.base_policy.to_dict(), **settings, "version": 0})
