from django.contrib import admin

from .models import Fulfilment, FulfilmentLine, RoutingPolicyVersion


@admin.register(RoutingPolicyVersion)
class RoutingPolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["channel", "version", "active", "note", "created_at"]
    list_filter = ["channel", "active"]


class FulfilmentLineInline(admin.TabularInline):
    model = FulfilmentLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "sku", "quantity", "picked_quantity"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Fulfilment)
class FulfilmentAdmin(admin.ModelAdmin):
    """Fulfilments move only through their services (store UI, API); here they are read."""

    list_display = ["pk", "order", "location", "source_location", "method", "status", "ready_by", "created_at"]
    list_filter = ["status", "method", "location"]
    search_fields = ["order__number", "tracking", "pickup_code"]
    list_select_related = ["order", "location", "source_location"]
    inlines = [FulfilmentLineInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
