from django.contrib import admin

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Refund, RefundRequest, Return, ReturnException, ReturnLine, ReturnPolicy, ReturnReason


@admin.register(ReturnReason)
class ReturnReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "active"]
    list_filter = ["active"]
    search_fields = ["code", "label"]


@admin.register(ReturnPolicy)
class ReturnPolicyAdmin(admin.ModelAdmin):
    list_display = ["channel", "category", "window_days"]
    list_filter = ["channel"]


class ReturnLineInline(ReadOnlyInline):
    model = ReturnLine


class ReturnExceptionInline(ReadOnlyInline):
    model = ReturnException


@admin.register(Return)
class ReturnAdmin(ReadOnlyAdmin):
    """Returns move only through their services (store desk, back office, API); here they are read."""

    list_display = ["reference", "order", "channel", "status", "received_location", "created_at"]
    list_filter = ["status", "channel", "received_location"]
    search_fields = ["reference", "order__number", "order__external_id"]
    list_select_related = ["order", "channel", "received_location"]
    inlines = [ReturnLineInline, ReturnExceptionInline]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["order", "ret", "goodwill_reason", "amount", "currency", "method", "created_at"]
    list_filter = ["method", "goodwill_reason"]
    search_fields = ["ret__reference", "order__number"]


@admin.register(RefundRequest)
class RefundRequestAdmin(ReadOnlyAdmin):
    """Requests are decided in the back office, where approval pays through the refund service."""

    list_display = ["order", "ret", "goodwill_reason", "amount", "currency", "status", "requested_by", "decided_by"]
    list_filter = ["status", "goodwill_reason"]
    search_fields = ["ret__reference", "order__number"]
    list_select_related = ["order", "ret", "requested_by", "decided_by"]
