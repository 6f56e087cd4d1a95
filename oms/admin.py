from django.contrib import admin

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["channel", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["channel", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # tokens are issued by create_channel, which shows the raw value once
