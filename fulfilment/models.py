"""Routing policies and fulfilment orders: the part of an order one location executes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import Channel, Location, Sku
from oms.models import Order, OrderLine

from .routing.policy import RoutingError, RoutingPolicy


class RoutingPolicyVersion(models.Model):
    """One version of a channel's routing weights and rules (``fulfilment.routing.RoutingPolicy`` as JSON).

    Versions are never edited in place once used: a change is a new version, and each
    order records the version it was routed under. A row without a channel is the default.
    """

    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    data = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["channel", "-version"]
        constraints = [models.UniqueConstraint(fields=["channel", "version"], name="routing_policy_version_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id or 'default'} v{self.version}"

    def clean(self):
        """Refuse a version routing could not use, with the policy's own rules (ranges included)."""
        if not isinstance(self.data, dict):
            raise ValidationError({"data": "A policy is a JSON object of settings."})
        try:
            RoutingPolicy.from_dict({**self.data, "version": self.version})
        except (RoutingError, TypeError) as exc:
            raise ValidationError({"data": str(exc)}) from exc


class ShippingCost(models.Model):
    """What one shipment from a location costs, to any destination or to one zone.

    Routing weighs it with the policy's cost weight. The most specific row wins: a postcode
    area (``GB-SW``), then a country (``GB``), then the location's row without a zone.
    """

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    zone = models.CharField(
        max_length=16,
        blank=True,
        help_text="Destination country code (GB) or country and postcode area (GB-SW); empty: any destination.",
    )
    cost = models.DecimalField(max_digits=8, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        ordering = ["location", "zone"]
        constraints = [
            models.UniqueConstraint(fields=["location", "zone"], name="shipping_cost_zone_unique"),
            models.CheckConstraint(condition=Q(cost__gte=0), name="shipping_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} {self.zone or 'any'}: {self.cost}"

    def clean(self):
        """Zones are stored as routing looks them up: upper case, no spaces."""
        self.zone = self.zone.replace(" ", "").upper()


class Fulfilment(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        PICKING = "picking", "Picked"
        PACKED = "packed"
        SHIPPED = "shipped"
        DELIVERED = "delivered"
        READY_FOR_PICKUP = "ready_for_pickup", "Ready for pickup"
        COLLECTED = "collected"
        EXPIRED = "expired"
        DECLINED = "declined"
        CANCELLED = "cancelled"

    class Method(models.TextChoices):
        SHIP_FROM_WAREHOUSE = "ship_from_warehouse", "Ship from warehouse"
        SHIP_FROM_STORE = "ship_from_store", "Ship from store"
        CLICK_AND_COLLECT = "click_and_collect", "Click & collect"
        IN_STORE = "in_store", "Till sale"

    class DeclineReason(models.TextChoices):
        NOT_IN_STOCK = "not_in_stock"
        DAMAGED = "damaged"
        MISMATCH = "mismatch"

    S = Status
    CLOSED = [S.DELIVERED, S.COLLECTED, S.EXPIRED, S.DECLINED, S.CANCELLED]
    INACTIVE = [S.EXPIRED, S.DECLINED, S.CANCELLED]
    DISPATCHED = [S.SHIPPED, S.DELIVERED, S.COLLECTED]

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="fulfilments")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="fulfilments")
    source_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+", help_text="Where the stock is reserved."
    )
    method = models.CharField(max_length=24, choices=Method.choices)
    status = FSMField(default=S.PENDING, choices=Status.choices, protected=True)
    ready_by = models.DateTimeField(null=True, blank=True)
    pickup_code = models.CharField(max_length=6, blank=True)
    carrier = models.CharField(max_length=64, blank=True)
    tracking = models.CharField(max_length=64, blank=True, db_index=True)
    decline_reason = models.CharField(max_length=16, choices=DeclineReason.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="Shipped or collected: the return window starts."
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    accept_by = models.DateTimeField(
        null=True, blank=True, help_text="A store that has not accepted by then loses the work (re-routed)."
    )
    due_by = models.DateTimeField(
        null=True, blank=True, help_text="Set when accepted: ready for pickup or shipped by then, else it is late."
    )
    accept_reminded_at = models.DateTimeField(null=True, blank=True, help_text="Reminded of the accept deadline.")
    due_reminded_at = models.DateTimeField(null=True, blank=True, help_text="Reminded of the ready/dispatch deadline.")
    parcels = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Parcels packed.")
    weight_kg = models.DecimalField(
        max_digits=7, decimal_places=3, null=True, blank=True, help_text="Total packed weight."
    )
    put_back_at = models.DateTimeField(
        null=True, blank=True, help_text="An uncollected parcel's stock was put back on the shop floor."
    )

    class Meta:
        ordering = ["pk"]
        indexes = [
            models.Index(fields=["location", "status"], name="fulfilment_queue"),
            models.Index(
                fields=["status", "ready_at"], condition=Q(status="ready_for_pickup"), name="fulfilment_on_shelf"
            ),
            # The back office finds a waiting parcel by its pickup code among every store's shelves.
            models.Index(fields=["pickup_code"], condition=Q(status="ready_for_pickup"), name="fulfilment_pickup_code"),
            # The deadline job looks only at store work still waiting to be accepted.
            models.Index(fields=["accept_by"], condition=Q(status="pending"), name="fulfilment_accept_due"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(parcels__isnull=True) | Q(parcels__gte=1), name="fulfilment_parcels_at_least_one"
            ),
            models.CheckConstraint(
                condition=Q(weight_kg__isnull=True) | Q(weight_kg__gt=0), name="fulfilment_weight_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"F{self.pk} {self.method} @ {self.location_id}"

    @property
    def subject(self) -> str:
        return f"fulfilment:{self.pk}"

    def is_pickup(self) -> bool:
        return self.method == self.Method.CLICK_AND_COLLECT

    def is_shipment(self) -> bool:
        return not self.is_pickup()

    @transition(field=status, source=S.PENDING, target=S.ACCEPTED)
    def accept(self) -> None:
        """The location takes the work on."""

    @transition(field=status, source=[S.PENDING, S.ACCEPTED, S.PICKING, S.PACKED], target=S.DECLINED)
    def decline(self, *, reason_code: str) -> None:
        """Refuse the work up to dispatch; the service adjusts stock by the reason and re-routes the lines."""
        self.decline_reason = reason_code

    @transition(field=status, source=[S.ACCEPTED, S.PICKING], target=S.PICKING)
    def pick(self) -> None:
        """Record what was taken off the shelf; a short pick re-routes the rest."""

    @transition(field=status, source=S.PICKING, target=S.PACKED)
    def pack(self, *, parcels: int | None = None, weight_kg=None) -> None:
        """Everything picked is packed."""
        self.parcels, self.weight_kg = parcels, weight_kg

    @transition(field=status, source=S.PACKED, target=S.SHIPPED, conditions=[is_shipment])
    def ship(self, *, carrier: str, tracking: str, at) -> None:
        """Handed to the carrier; the service commits the stock."""
        self.carrier, self.tracking, self.dispatched_at = carrier, tracking, at

    @transition(field=status, source=S.SHIPPED, target=S.DELIVERED)
    def deliver(self) -> None:
        """The carrier reports delivery."""

    @transition(field=status, source=[S.PICKING, S.PACKED], target=S.READY_FOR_PICKUP, conditions=[is_pickup])
    def ready(self, *, pickup_code: str, at) -> None:
        """On the collection shelf; the customer gets the pickup code."""
        self.pickup_code, self.ready_at = pickup_code, at

    @transition(field=status, source=S.READY_FOR_PICKUP, target=S.COLLECTED)
    def collect(self, *, at) -> None:
        """Handed over against the pickup code; the service commits the stock."""
        self.dispatched_at = at

    @transition(field=status, source=S.READY_FOR_PICKUP, target=S.EXPIRED)
    def expire(self) -> None:
        """Not collected in time; the service releases the stock and asks for a refund."""

    @transition(
        field=status, source=[S.PENDING, S.ACCEPTED, S.PICKING, S.PACKED, S.READY_FOR_PICKUP], target=S.CANCELLED
    )
    def cancel(self) -> None:
        """Stop the work before dispatch; the service releases the stock."""


class FulfilmentLine(models.Model):
    fulfilment = models.ForeignKey(Fulfilment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="fulfilment_lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    picked_quantity = models.PositiveIntegerField(null=True, blank=True)
    scanned_quantity = models.PositiveIntegerField(
        default=0, help_text="Units scanned off the shelf so far, before the pick is confirmed."
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scanned_quantity__lte=models.F("quantity")), name="fulfilment_line_scanned_within_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"


# --- store operations: opening hours, closed days, pauses ------------------------------------


class Store(Location):
    """A location seen as a store with its opening hours (the admin edits them here)."""

    class Meta:
        proxy = True
        verbose_name = "store opening hours"
        verbose_name_plural = "store opening hours"


class OpeningHours(models.Model):
    """One span a store is open on one weekday, in the store's own time zone.

    A store with no spans at all is treated as always open; a weekday without a span is closed.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0
        TUESDAY = 1
        WEDNESDAY = 2
        THURSDAY = 3
        FRIDAY = 4
        SATURDAY = 5
        SUNDAY = 6

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["location", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="opening_hours_close_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        if self.opens is not None and self.closes is not None and self.closes <= self.opens:
            raise ValidationError({"closes": "The store must close after it opens (same day)."})
        together = getattr(self, "overlaps_checked_together", False)  # the admin's formset checks its rows
        if together or self.location_id is None or self.opens is None or self.closes is None:
            return
        clash = (
            OpeningHours.objects.filter(location_id=self.location_id, weekday=self.weekday)
            .exclude(pk=self.pk)
            .filter(opens__lt=self.closes, closes__gt=self.opens)
            .first()
        )
        if clash is not None:
            raise ValidationError(f"{self} overlaps {clash} on the same day.")


class ClosedDay(models.Model):
    """A date a store stays shut all day (a bank holiday, a refit), in the store's time zone."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField()
    reason = models.CharField(max_length=128, blank=True)

    class Meta:
        ordering = ["location", "date"]
        constraints = [models.UniqueConstraint(fields=["location", "date"], name="closed_day_unique")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} closed" + (f" ({self.reason})" if self.reason else "")


class StorePause(models.Model):
    """Store staff stopped new routed work for their store until ``ends_at``; it resumes by itself then."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="pauses")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=255)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["ends_at"], name="store_pause_ends_at")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="store_pause_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"{self.location_id} paused until {self.ends_at:%Y-%m-%d %H:%M}: {self.reason}"
