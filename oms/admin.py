from django.contrib import admin

from .models import Activity, ApiToken, Customer, Note, Order, OrderLine, OutboxEvent


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["channel", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["channel", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are issued by create_channel, which shows the raw value once


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["pk", "name", "email", "phone", "member_number", "merged_into", "created_at"]
    search_fields = ["email", "phone", "member_number", "name"]
    readonly_fields = ["merged_into"]


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    readonly_fields = ["sku", "quantity", "cancelled_quantity", "unit_price"]

    def has_add_permission(self, request, obj=None):
        return False


class ActivityInline(admin.TabularInline):
    model = Activity
    extra = 0
    can_delete = False
    readonly_fields = ["at", "subject", "action", "from_state", "to_state", "reason", "actor"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    """Orders change only through services (the back office and the API); here they are read."""

    list_display = ["number", "channel", "external_id", "status", "method", "total", "currency", "created_at"]
    list_filter = ["status", "channel", "method", "payment_status"]
    search_fields = ["number", "external_id", "customer__email", "customer__phone"]
    list_select_related = ["channel"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, ActivityInline]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["at", "order", "subject", "action", "from_state", "to_state", "reason", "actor"]
    list_filter = ["action", "to_state"]
    search_fields = ["order__number", "subject"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["at", "order", "author", "text"]
    search_fields = ["order__number", "text"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["created", "type", "channel", "order", "id"]
    list_filter = ["type", "channel"]
    search_fields = ["order__number", "type"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
