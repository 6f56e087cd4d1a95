from django.contrib import admin
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import (
    ClosedDay,
    Fulfilment,
    FulfilmentLine,
    OpeningHours,
    RoutingPolicyVersion,
    ShippingCost,
    Store,
    StorePause,
)


@admin.register(RoutingPolicyVersion)
class RoutingPolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["channel", "version", "active", "note", "created_at"]
    list_filter = ["channel", "active"]


class FulfilmentLineInline(ReadOnlyInline):
    model = FulfilmentLine


@admin.register(Fulfilment)
class FulfilmentAdmin(ReadOnlyAdmin):
    """Fulfilments move only through their services (store UI, API); here they are read."""

    list_display = ["pk", "order", "location", "source_location", "method", "status", "ready_by", "created_at"]
    list_filter = ["status", "method", "location"]
    search_fields = ["order__number", "tracking", "pickup_code"]
    list_select_related = ["order", "location", "source_location"]
    inlines = [FulfilmentLineInline]


class OpeningHoursFormSet(BaseInlineFormSet):
    """Refuse spans of one weekday that overlap each other, among the rows saved together."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        # The rows are checked against each other below: each row's own check against the
        # database would see the old times of rows this same save changes.
        form.instance.overlaps_checked_together = True
        return form

    def clean(self):
        super().clean()
        spans: dict[int, list[tuple]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE") or data.get("opens") is None or data.get("closes") is None:
                continue
            spans.setdefault(data["weekday"], []).append((data["opens"], data["closes"]))
        for weekday, day in spans.items():
            day.sort()
            for (opens, closes), (next_opens, next_closes) in zip(day, day[1:], strict=False):
                if next_opens < closes:
                    name = OpeningHours.Weekday(weekday).label
                    raise ValidationError(
                        f"{name}: {opens:%H:%M}–{closes:%H:%M} overlaps {next_opens:%H:%M}–{next_closes:%H:%M}."
                    )


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    formset = OpeningHoursFormSet
    extra = 0


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 0


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    """Opening hours (in the store's time zone) and closed days of each store."""

    list_display = ["code", "name", "kind", "timezone"]
    list_filter = ["kind"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "timezone"]
    readonly_fields = ["code", "name"]
    inlines = [OpeningHoursInline, ClosedDayInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StorePause)
class StorePauseAdmin(admin.ModelAdmin):
    list_display = ["location", "starts_at", "ends_at", "reason", "created_by"]
    list_filter = ["location"]
    list_select_related = ["location", "created_by"]


@admin.register(ShippingCost)
class ShippingCostAdmin(admin.ModelAdmin):
    """Shipping costs routing weighs: a location's cost to any destination, and per country or postcode area."""

    list_display = ["location", "zone", "cost"]
    list_filter = ["location__kind", "zone"]
    search_fields = ["location__code", "zone"]
    list_select_related = ["location"]
    autocomplete_fields = ["location"]
