from django.contrib import admin

from .models import Refund, Return, ReturnException, ReturnLine, ReturnPolicy, ReturnReason


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "active"]
    list_filter = ["active"]
    search_fields = ["code", "label"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "category", "window_days"]
    list_filter = ["channel"]


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    readonly_fields = ["order_line", "sku", "quantity", "reason", "resellable_quantity", "damaged_quantity"]

    def has_add_permission(self, request, obj=None):
        return False


class ReturnExceptionInline(admin.TabularInline):
    model = ReturnException
    extra = 0
    can_delete = False
    readonly_fields = ["sku_code", "kind", "expected", "received", "note", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Return)
class ReturnAdmin(admin.ModelAdmin):
    """Returns move only through their services (store desk, back office, API); here they are read."""

    list_display = ["reference", "order", "channel", "status", "received_location", "created_at"]
    list_filter = ["status", "channel", "received_location"]
    search_fields = ["reference", "order__number", "order__external_id"]
    list_select_related = ["order", "channel", "received_location"]
    inlines = [ReturnLineInline, ReturnExceptionInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Refund)
class RefundAdmin(admin.ModelAdmin):
    list_display = ["ret", "amount", "currency", "method", "created_at"]
    list_filter = ["method"]
    search_fields = ["ret__reference", "ret__order__number"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
