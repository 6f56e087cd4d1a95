from django.contrib import admin, messages

from .inbound import inbound_close
from .models import (
    Barcode,
    Channel,
    ChannelCap,
    InboundLine,
    InboundSupply,
    LedgerCheckpoint,
    Location,
    LocationCredential,
    Reservation,
    SafetyStock,
    Sku,
    SkuAlias,
    StockLevel,
    StockMovement,
    Transfer,
    TransferLine,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (ledger, orders, returns): viewable, never edited here,
    so the admin can never bypass a state machine or the stock ledger."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The child rows of a read-only record, shown in full."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, obj=None):
        return False


class BarcodeInline(admin.TabularInline):
    model = Barcode
    extra = 0


class SkuAliasInline(admin.TabularInline):
    model = SkuAlias
    extra = 0
    autocomplete_fields = ["channel"]


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "final_sale", "active"]
    list_filter = ["active", "final_sale", "category"]
    search_fields = ["code", "name", "barcodes__code", "aliases__code"]
    inlines = [BarcodeInline, SkuAliasInline]


@admin.register(Barcode)
class BarcodeAdmin(admin.ModelAdmin):
    list_display = ["code", "sku"]
    search_fields = ["code", "sku__code"]
    autocomplete_fields = ["sku"]


@admin.register(SkuAlias)
class SkuAliasAdmin(admin.ModelAdmin):
    list_display = ["code", "channel", "sku"]
    list_filter = ["channel"]
    search_fields = ["code", "sku__code"]
    autocomplete_fields = ["sku", "channel"]


class SafetyStockInline(admin.TabularInline):
    model = SafetyStock
    extra = 0
    autocomplete_fields = ["sku"]


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "city", "ships", "pickup", "accepts_returns", "daily_capacity", "active"]
    list_filter = ["kind", "active", "ships", "pickup", "accepts_returns", "country"]
    search_fields = ["code", "name", "city", "postcode"]
    inlines = [SafetyStockInline]


class ChannelCapInline(admin.TabularInline):
    model = ChannelCap
    extra = 0
    autocomplete_fields = ["sku"]
    readonly_fields = ["used"]


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "buffer", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["sells_from"]
    inlines = [ChannelCapInline]


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ["sku", "location", "on_hand", "reserved"]
    list_filter = ["location__kind", "location"]
    search_fields = ["sku__code", "location__code"]
    list_select_related = ["sku", "location"]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "kind",
        "stock_level",
        "on_hand_delta",
        "reserved_delta",
        "reason",
        "reference",
        "actor",
        "credential",
    ]
    list_filter = ["kind", "created_at"]
    search_fields = ["reference", "stock_level__sku__code", "stock_level__location__code"]
    list_select_related = ["stock_level__sku", "stock_level__location", "actor", "credential"]
    date_hierarchy = "created_at"


@admin.register(LedgerCheckpoint)
class LedgerCheckpointAdmin(ReadOnlyAdmin):
    """How far the ledger is summed; written by the checkpoint job only."""

    list_display = ["upto_movement_id", "movements", "created_at"]


@admin.register(LocationCredential)
class LocationCredentialAdmin(admin.ModelAdmin):
    """Scope and revocation; tokens are issued by create_location_credential and rotate_token."""

    list_display = ["name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "locations__code"]
    filter_horizontal = ["locations"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # the token is shown once, by the command that issues it


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["owner_ref", "stock_level", "channel", "quantity", "status", "expires_at", "created_at"]
    list_filter = ["status", "channel"]
    search_fields = ["owner_ref", "stock_level__sku__code"]
    list_select_related = ["stock_level__sku", "stock_level__location", "channel"]


class TransferLineInline(ReadOnlyInline):
    model = TransferLine


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ["reference", "source", "destination", "expected_at", "status", "shipped_at", "received_at"]
    list_filter = ["status", "destination"]
    search_fields = ["reference", "owner_ref", "supplies_ref", "tracking"]
    inlines = [TransferLineInline]


class InboundLineInline(ReadOnlyInline):
    model = InboundLine


@admin.register(InboundSupply)
class InboundSupplyAdmin(ReadOnlyAdmin):
    """Announced and received through the API and import_inbound, so receipts always reach the ledger."""

    list_display = ["reference", "location", "expected_on", "status", "updated_at", "closed_at"]
    list_filter = ["status", "location"]
    search_fields = ["reference", "lines__sku__code"]
    list_select_related = ["location"]
    date_hierarchy = "expected_on"
    inlines = [InboundLineInline]
    actions = ["close"]

    def has_close_permission(self, request) -> bool:
        return request.user.has_perm("inventory.change_inboundsupply")

    @admin.action(description="Close: nothing more will come", permissions=["close"])
    def close(self, request, queryset):
        for supply in queryset.exclude(status=InboundSupply.Status.CLOSED):
            inbound_close(supply=supply, actor=request.user)
        self.message_user(request, "Closed: they take no receipts and no longer count as coming.", messages.SUCCESS)
