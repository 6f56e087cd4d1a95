from django.contrib import admin

from inventory.admin import ReadOnlyAdmin

from .models import DailyChannelRollup, DailyReturnRollup, DailyStockRollup, RollupRun


@admin.register(DailyChannelRollup)
class DailyChannelRollupAdmin(ReadOnlyAdmin):
    """Derived rows, rewritten by the roll-up job: read here, never edited."""

    list_display = ["day", "channel", "location", "orders", "revenue", "fulfilments", "split_orders"]
    list_filter = ["channel", "day"]
    list_select_related = ["channel", "location"]


@admin.register(DailyReturnRollup)
class DailyReturnRollupAdmin(ReadOnlyAdmin):
    list_display = ["day", "purchase_channel", "return_channel", "location", "returns", "units"]
    list_filter = ["purchase_channel", "return_channel"]
    list_select_related = ["purchase_channel", "return_channel", "location"]


@admin.register(DailyStockRollup)
class DailyStockRollupAdmin(ReadOnlyAdmin):
    list_display = ["day", "location", "skus_tracked", "skus_out_of_stock", "units_on_hand", "units_dispatched"]
    list_select_related = ["location"]


@admin.register(RollupRun)
class RollupRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "days"]
