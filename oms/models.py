"""Channels' API tokens, customers with one identity across channels, orders and their audit trail."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.credentials import token_new
from inventory.models import Channel, HashedToken, Location, Sku

ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I to misread at a counter


def new_order_number() -> str:
    return "O-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


class ApiToken(HashedToken):
    """A channel's API credential."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, default="default")

    class Meta:
        ordering = ["channel", "-created_at"]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.prefix}…"

    @staticmethod
    def generate() -> str:
        return token_new("oms_")


class StaffProfile(models.Model):
    """A person's role in the OMS; store staff also name the stores they work in."""

    class Role(models.TextChoices):
        STORE_STAFF = "store_staff", "Store staff"
        AGENT = "agent", "Customer-service agent"
        SUPERVISOR = "supervisor", "Supervisor"
        ADMIN = "admin", "Administrator"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile")
    role = models.CharField(max_length=16, choices=Role.choices)
    stores = models.ManyToManyField(Location, blank=True, related_name="staff", help_text="For store staff.")

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class Customer(models.Model):
    """One person across channels; an order joins them by a matching identifier unless it contradicts them.

    The rule is ``oms.identity.customer_resolve``; each identifier belongs to one live customer.
    """

    # NULL, not "", for a missing identifier: the unique constraints below then ignore it.
    email = models.EmailField(null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(max_length=20, null=True, blank=True, help_text="E.164")  # noqa: DJ001
    member_number = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    name = models.CharField(max_length=255, blank=True)
    # The name without accents or case, each word after a space (" zoe muller"), written with the
    # name by the customer services: agents find a customer by the start of any word of it.
    name_search = models.CharField(max_length=256, blank=True, default="", db_index=True, editable=False)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    erased_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person's data was anonymised (``oms.privacy.customer_erase``)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(merged_into__isnull=True), name="customer_email_unique"
            ),
            models.UniqueConstraint(
                fields=["phone"], condition=Q(merged_into__isnull=True), name="customer_phone_unique"
            ),
            models.UniqueConstraint(
                fields=["member_number"], condition=Q(merged_into__isnull=True), name="customer_member_unique"
            ),
        ]
        # The unique indexes above cover live customers only; search also finds merged records.
        indexes = [
            models.Index(fields=["email"], name="customer_email"),
            models.Index(fields=["phone"], name="customer_phone"),
            models.Index(fields=["member_number"], name="customer_member_number"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone or f"customer {self.pk}"


class PossibleDuplicate(models.Model):
    """Two live customers who may be one person, for an agent to merge or leave apart.

    Written when an order's e-mail, phone or member number matched a customer but the
    rest of what it said contradicted them (see ``oms.identity``); ``reason`` says what
    matched and what differed, without the personal data itself.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "other"], name="possible_duplicate_pair_unique"),
            models.CheckConstraint(condition=Q(customer__lt=F("other")), name="possible_duplicate_pair_ordered"),
        ]
        indexes = [models.Index(fields=["other"], name="possible_duplicate_other")]

    def __str__(self) -> str:
        return f"#{self.customer_id} ~ #{self.other_id}: {self.reason}"


class Order(FSMModelMixin, models.Model):
    """An order from any channel; its status follows its fulfilments through explicit transitions."""

    class Status(models.TextChoices):
        PLACED = "placed"
        ON_HOLD = "on_hold", "On hold"
        ALLOCATED = "allocated"
        BACKORDERED = "backordered"
        IN_FULFILMENT = "in_fulfilment", "In fulfilment"
        PARTIALLY_SHIPPED = "partially_shipped", "Partially shipped"
        SHIPPED = "shipped"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    class Method(models.TextChoices):
        DELIVERY = "delivery"
        PICKUP = "pickup"
        IN_STORE = "in_store"

    class HoldReason(models.TextChoices):
        FRAUD = "fraud"
        PAYMENT = "payment"
        ADDRESS = "address"
        STOCK = "stock"
        CUSTOMER = "customer", "Customer request"
        MANUAL = "manual"

    class PaymentStatus(models.TextChoices):
        PENDING = "pending"
        AUTHORISED = "authorised"
        PAID = "paid"
        FAILED = "failed"

    S = Status
    BEFORE_DISPATCH = [S.PLACED, S.ON_HOLD, S.ALLOCATED, S.BACKORDERED, S.IN_FULFILMENT, S.READY_FOR_PICKUP]

    number = models.CharField(max_length=16, unique=True, default=new_order_number)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    status = FSMField(default=S.PLACED, choices=Status.choices, protected=True, db_index=True)
    hold_reason = models.CharField(max_length=16, choices=HoldReason.choices, blank=True)
    hold_until = models.DateTimeField(null=True, blank=True, help_text="A timed hold is released by the beat job then.")
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    payment_status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.AUTHORISED)
    tenders = models.JSONField(default=list, blank=True)
    method = models.CharField(max_length=16, choices=Method.choices)
    pickup_location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    address = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    routing_policy_version = models.PositiveIntegerField(null=True, blank=True)
    routing = models.JSONField(default=dict, blank=True, help_text="The last routing plan and why it won.")
    when_short = models.CharField(
        max_length=16,
        choices=[("reject", "Reject"), ("backorder", "Backorder")],
        blank=True,
        db_default="",  # rows written by code that predates the column, e.g. during a rolling deploy
        help_text="What the channel asked for when stock is short; empty: its routing policy's fallback.",
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    anonymised_at = models.DateTimeField(
        null=True, blank=True, help_text="When the personal data on this order was anonymised (erasure or retention)."
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["channel", "external_id"], name="order_external_id_per_channel")]
        # Agents search an external reference without knowing its channel.
        indexes = [models.Index(fields=["external_id"], name="order_external_id")]

    def __str__(self) -> str:
        return self.number

    @property
    def owner_ref(self) -> str:
        """How this order's stock reservations are labelled in the inventory layer."""
        return f"order:{self.pk}"

    @transition(field=status, source=S.PLACED, target=S.ON_HOLD)
    def hold(self, *, reason_code: str, until=None) -> None:
        """Stop the order before routing (fraud check, payment, address, stock, customer request, manual)."""
        self.hold_reason, self.hold_until = reason_code, until

    @transition(field=status, source=S.ON_HOLD, target=S.PLACED)
    def release(self) -> None:
        """Let a held order go on to routing."""
        self.hold_reason, self.hold_until = "", None

    @transition(field=status, source=[S.PLACED, S.BACKORDERED, S.ALLOCATED, S.IN_FULFILMENT], target=S.ALLOCATED)
    def allocate(self) -> None:
        """Routing found a place for every line; after a decline every live part may be new work again."""

    @transition(field=status, source=[S.PLACED, S.ALLOCATED, S.IN_FULFILMENT], target=S.BACKORDERED)
    def backorder(self) -> None:
        """Nothing can fill the order now; it waits for stock."""

    @transition(field=status, source=[S.ALLOCATED, S.IN_FULFILMENT], target=S.IN_FULFILMENT)
    def start_fulfilment(self) -> None:
        """A location has accepted its part."""

    @transition(field=status, source=[S.ALLOCATED, S.IN_FULFILMENT, S.PARTIALLY_SHIPPED], target=S.PARTIALLY_SHIPPED)
    def ship_partially(self) -> None:
        """Some parts are on their way, others are still being worked."""

    @transition(
        field=status, source=[S.ALLOCATED, S.IN_FULFILMENT, S.PARTIALLY_SHIPPED, S.READY_FOR_PICKUP], target=S.SHIPPED
    )
    def ship(self) -> None:
        """Every part is on its way (a part waiting for collection may have been cancelled)."""

    @transition(field=status, source=[S.ALLOCATED, S.IN_FULFILMENT, S.PARTIALLY_SHIPPED], target=S.READY_FOR_PICKUP)
    def make_ready_for_pickup(self) -> None:
        """Every part waits at the pickup store (or has already been shipped)."""

    @transition(
        field=status, source=[S.SHIPPED, S.READY_FOR_PICKUP, S.PARTIALLY_SHIPPED, S.IN_FULFILMENT], target=S.COMPLETED
    )
    def complete(self) -> None:
        """Every part was delivered or collected."""

    @transition(field=status, source=S.PLACED, target=S.COMPLETED)
    def sell_in_store(self) -> None:
        """A till sale: the customer left the store with the goods, so the order is complete at once."""

    @transition(field=status, source=BEFORE_DISPATCH, target=S.CANCELLED)
    def cancel(self) -> None:
        """Nothing was dispatched; the service releases the stock."""


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    cancelled_quantity = models.PositiveIntegerField(default=0)
    backordered = models.PositiveIntegerField(
        default=0,
        db_default=0,  # rows written by code that predates the column, e.g. during a rolling deploy
        help_text="Units no live fulfilment covers, waiting for supply; the rest are allocated or cancelled.",
    )
    promised_on = models.DateField(
        null=True, blank=True, help_text="When known inbound supply covers every backordered unit; empty: not known."
    )
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(cancelled_quantity__lte=models.F("quantity")), name="order_line_cancel_within_quantity"
            ),
            models.CheckConstraint(
                condition=Q(backordered__lte=models.F("quantity") - models.F("cancelled_quantity")),
                name="order_line_backorder_within_open",
            ),
        ]
        indexes = [models.Index(fields=["sku"], condition=Q(backordered__gt=0), name="order_line_waiting")]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"

    @property
    def open_quantity(self) -> int:
        return self.quantity - self.cancelled_quantity


class Activity(models.Model):
    """One persisted state transition of an order or of one of its fulfilments or returns.

    Fulfilments and returns live in higher apps; they write here so that one table is
    the audit trail and the order timeline needs no import back up the stack.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="activities")
    subject = models.CharField(max_length=32, help_text="order, fulfilment:<id> or return:<id>")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "activities"

    def __str__(self) -> str:
        return f"{self.subject} {self.action}: {self.from_state} → {self.to_state}"


class Note(models.Model):
    """A service note on an order: stores and channels see it, unless it is for the back office only."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    internal = models.BooleanField(default=False, help_text="Back office only: stores and channels do not see it.")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return self.text[:60]


class OutboxEvent(models.Model):
    """A domain event written in the same transaction as the change it reports; delivered later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64, db_index=True)
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    data = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its webhook deliveries were created; empty until then."
    )

    class Meta:
        ordering = ["created"]
        indexes = [
            models.Index(fields=["created"], condition=Q(dispatched_at__isnull=True), name="outbox_event_undispatched"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class IdempotencyKey(models.Model):
    """The first response to a channel's POST with an ``Idempotency-Key``, replayed for repeats."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "key"], name="idempotency_key_per_channel")]

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.key}"


class WebhookEndpoint(models.Model):
    """Where a channel wants its events POSTed, signed with its secret."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=128, default=secrets.token_hex, help_text="HMAC-SHA256 key.")
    event_types = models.JSONField(default=list, blank=True, help_text="Event types to send; empty means all.")
    active = models.BooleanField(default=True)
    customer_data = models.BooleanField(
        default=False,
        help_text="Send the customer's name, e-mail, phone and delivery address with order events. "
        "Only for receivers entitled to that personal data.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.channel_id} → {self.url}"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event on its way to one endpoint: retried with back-off until delivered or given up."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="webhook_delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: what each attempt got back."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


class PublishedAvailability(models.Model):
    """The network ATP last announced to a channel for a SKU: ``stock.availability_changed`` fires on change only."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    available = models.IntegerField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "sku"], name="published_availability_unique")]
        verbose_name_plural = "published availability"

    def __str__(self) -> str:
        return f"{self.channel_id}/{self.sku_id}: {self.available}"


class JobCursor(models.Model):
    """How far a periodic job has read an append-only table (the stock ledger's last id, say)."""

    name = models.CharField(max_length=64, unique=True)
    position = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.position}"


class CustomerAccess(models.Model):
    """Who looked at, exported or erased a customer's personal data, and when: the data-access audit.

    ``reason`` is the reason given for an erasure; it never repeats the personal data itself.
    """

    class Action(models.TextChoices):
        VIEWED = "viewed"
        EXPORTED = "exported"
        ERASED = "erased"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "customer data access"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor or 'system'} {self.action} customer #{self.customer_id}"
