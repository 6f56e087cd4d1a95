from urllib.parse import urlsplit

from django import forms
from django.contrib import admin, messages

from inventory.admin import ReadOnlyAdmin, ReadOnlyInline

from .identity import normalise_name
from .models import (
    Activity,
    ApiToken,
    Customer,
    CustomerAccess,
    Note,
    Order,
    OrderLine,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbox import webhook_delivery_replay
from .webhooks import ALLOWED_SCHEMES


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["channel", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["channel", "revoked_at"]
    readonly_fields = ["prefix", "digest", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False  # issued by create_channel and rotate_token, which show the raw value once


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["pk", "name", "email", "phone", "member_number", "merged_into", "created_at"]
    search_fields = ["email", "phone", "member_number", "name"]
    readonly_fields = ["merged_into"]

    def save_model(self, request, obj, form, change):
        obj.name_search = normalise_name(obj.name)  # the back office finds them by the name as edited
        super().save_model(request, obj, form, change)


class OrderLineInline(ReadOnlyInline):
    model = OrderLine


class ActivityInline(ReadOnlyInline):
    model = Activity


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    """Orders change only through services (the back office and the API); here they are read."""

    list_display = ["number", "channel", "external_id", "status", "method", "total", "currency", "created_at"]
    list_filter = ["status", "channel", "method", "payment_status"]
    search_fields = ["number", "external_id", "customer__email", "customer__phone"]
    list_select_related = ["channel"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, ActivityInline]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["at", "order", "subject", "action", "from_state", "to_state", "reason", "actor"]
    list_filter = ["action", "to_state"]
    search_fields = ["order__number", "subject"]


@admin.register(Note)
class NoteAdmin(admin.ModelAdmin):
    list_display = ["at", "order", "author", "text"]
    search_fields = ["order__number", "text"]


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ["created", "type", "channel", "order", "id"]
    list_filter = ["type", "channel"]
    search_fields = ["order__number", "type"]


class WebhookEndpointForm(forms.ModelForm):
    """The secret is write-only: the form never shows it, and a blank field keeps (or, new, generates) one."""

    url = forms.URLField(max_length=500, assume_scheme="https")
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="HMAC-SHA256 key. Leave blank to keep the current one; a new endpoint then gets a generated one.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["channel", "url", "event_types", "active", "customer_data", "secret"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if urlsplit(url).scheme not in ALLOWED_SCHEMES:
            raise forms.ValidationError("Use an http or https URL.")
        return url

    def clean_secret(self):
        return self.cleaned_data["secret"] or self.instance.secret  # a new instance has a generated default


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["channel", "url", "active", "customer_data", "event_types", "secret_hint", "created_at"]
    list_filter = ["active", "customer_data", "channel"]
    search_fields = ["url"]

    @admin.display(description="secret")
    def secret_hint(self, obj: WebhookEndpoint) -> str:
        return f"…{obj.secret[-4:]}"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and not form.data.get("secret"):
            # Shown this once so the receiver can be configured; the admin never displays it again.
            messages.warning(request, f"Give the receiver this signing secret now: {obj.secret}")


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Deliveries are written by the dispatcher; here they are read, with their attempt log, and replayed."""

    list_display = ["created_at", "event_type", "endpoint", "status", "attempts", "next_attempt_at", "delivered_at"]
    list_filter = ["status", "endpoint__channel", "event__type"]
    search_fields = ["event__order__number"]
    list_select_related = ["event", "endpoint"]
    readonly_fields = ["event", "endpoint", "status", "attempts", "next_attempt_at", "delivered_at", "created_at"]
    inlines = [WebhookAttemptInline]
    actions = ["replay"]

    @admin.display(description="event type", ordering="event__type")
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description="Replay: send again now (same event id)", permissions=["change"])
    def replay(self, request, queryset):
        for delivery in queryset:
            webhook_delivery_replay(delivery=delivery)
        self.message_user(request, f"{len(queryset)} deliveries queued to be sent again.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False


@admin.register(CustomerAccess)
class CustomerAccessAdmin(ReadOnlyAdmin):
    """Who viewed, exported or erased which customer's data, and when: read-only, admins only."""

    list_display = ["at", "actor", "action", "customer_number", "reason"]
    list_filter = ["action"]
    list_select_related = ["actor"]
    search_fields = ["=customer__id", "actor__username"]
    date_hierarchy = "at"
    raw_id_fields = ["customer"]

    @admin.display(description="customer", ordering="customer_id")
    def customer_number(self, obj: CustomerAccess) -> str:
        return f"#{obj.customer_id}"  # the number only: the audit itself shows no personal data

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
