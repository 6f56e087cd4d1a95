from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Fulfilment, FulfilmentLine, RoutingPolicyVersion


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
