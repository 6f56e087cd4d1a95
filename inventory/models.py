"""Catalogue, locations, channels' stock policies, stock levels, reservations and the ledger.

The inventory layer knows nothing of orders: a reservation names its owner with an
opaque ``owner_ref`` string (``order:42``, ``hold:9f…``) chosen by the caller.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper


def gtin_check_digit_is_valid(code: str) -> bool:
    """Return whether the last digit of a GTIN-8/12/13/14 is its GS1 check digit."""
    if not code.isdigit() or len(code) not in (8, 12, 13, 14):
        return False
    body, check = code[:-1], int(code[-1])
    # GS1: weights 3,1,3,1… applied from the rightmost digit of the body.
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def validate_gtin(code: str) -> None:
    if not gtin_check_digit_is_valid(code):
        raise ValidationError(
            "%(code)s is not a valid GTIN/EAN: 8, 12, 13 or 14 digits with a correct check digit.",
            params={"code": code},
            code="invalid_gtin",
        )


code_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", "Use letters, digits, '.', '_', '/' or '-'.")


class Sku(models.Model):
    """One sellable variant, whatever each channel calls it."""

    code = models.CharField(max_length=64, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    category = models.CharField(max_length=64, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True)
    final_sale = models.BooleanField(default=False, help_text="Final-sale items cannot be returned.")
    active = models.BooleanField(default=True)
    unit_cost = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="What one unit costs the retailer, for margin analytics; empty when not known.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "SKU"
        # Staff type codes in any case: the look-up of a code not found as typed reads this.
        indexes = [models.Index(Upper("code"), name="sku_code_upper")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Barcode(models.Model):
    """A GTIN/EAN a store can scan; one barcode belongs to exactly one SKU."""

    code = models.CharField(max_length=14, unique=True, validators=[validate_gtin])
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="barcodes")

    def __str__(self) -> str:
        return self.code


class Location(models.Model):
    class Kind(models.TextChoices):
        WAREHOUSE = "warehouse"
        STORE = "store"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    address = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=128, blank=True)
    postcode = models.CharField(max_length=16, blank=True)
    country = models.CharField(max_length=2, default="GB")
    lat = models.FloatField(validators=[MinValueValidator(-90), MaxValueValidator(90)])
    lon = models.FloatField(validators=[MinValueValidator(-180), MaxValueValidator(180)])
    timezone = models.CharField(max_length=64, default="Europe/London")
    ships = models.BooleanField(default=False, help_text="Can pick, pack and ship to a customer.")
    pickup = models.BooleanField(default=False, help_text="Customers can collect orders here.")
    accepts_returns = models.BooleanField(default=False)
    daily_capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fulfilments a day it can ship; empty means unlimited."
    )
    priority = models.IntegerField(
        default=0, help_text="A routing score term: each point lowers the score by the policy's priority weight."
    )
    safety_stock = models.PositiveIntegerField(default=0, help_text="Units per SKU never promised.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["lat", "lon"], name="location_lat_lon")]
        constraints = [
            models.CheckConstraint(condition=Q(lat__gte=-90, lat__lte=90), name="location_lat_range"),
            models.CheckConstraint(condition=Q(lon__gte=-180, lon__lte=180), name="location_lon_range"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SafetyStock(models.Model):
    """A per-SKU override of the location's safety stock."""

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="safety_overrides")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sku", "location"], name="safety_stock_unique")]
        verbose_name_plural = "safety stock overrides"

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.quantity}"


class Channel(models.Model):
    """A sales channel as inventory sees it: its identity and what it may promise.

    It lives here, not in ``oms``, because SKU aliases and ATP policies are per channel
    and inventory may not depend on the order layer. ``oms`` hangs its own
    configuration (API tokens, routing policy, webhooks) off this row.
    """

    class Kind(models.TextChoices):
        WEB = "web"
        APP = "app"
        STORE = "store"
        MARKETPLACE = "marketplace"
        SOCIAL = "social"
        LIVESTREAM = "livestream"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    buffer = models.PositiveIntegerField(default=0, help_text="Units per SKU and location held back from this channel.")
    sells_from = models.ManyToManyField(
        Location, blank=True, related_name="+", help_text="Locations it may sell from; none chosen means every one."
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ChannelCap(models.Model):
    """The most a channel may sell of one SKU, e.g. a flash sale or live-stream allocation.

    ``used`` is moved by the same conditional UPDATE shape as stock, so the cap holds
    under concurrency.
    """

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="caps")
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "sku"], name="channel_cap_unique"),
            models.CheckConstraint(condition=Q(used__lte=F("quantity")), name="channel_cap_used_within_cap"),
        ]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.sku_id}: {self.used}/{self.quantity}"


class SkuAlias(models.Model):
    """The code one channel uses for a SKU."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="aliases")
    code = models.CharField(max_length=128)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="aliases")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "code"], name="sku_alias_unique_per_channel")]
        verbose_name_plural = "SKU aliases"

    def __str__(self) -> str:
        return f"{self.channel_id}:{self.code}"


class StockLevel(models.Model):
    """On-hand and reserved units of one SKU at one location; the database guards the counters."""

    # No index of its own: the unique (sku, location) index leads with it, and a second
    # index on every row only slows stock feeds down and misleads the planner.
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="stock_levels", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_not_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_not_negative"),
            models.CheckConstraint(condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}@{self.location_id}: {self.on_hand} on hand, {self.reserved} reserved"


class Reservation(models.Model):
    """Units set aside at one location for an owner: an order line or a checkout hold."""

    class Status(models.TextChoices):
        ACTIVE = "active"
        RELEASED = "released"
        COMMITTED = "committed"

    owner_ref = models.CharField(max_length=64, db_index=True)
    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="reservations")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Set for checkout holds only.")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive")]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=Q(status="active", expires_at__isnull=False),
                name="reservation_live_hold",
            ),
            models.Index(fields=["stock_level", "status"], name="reservation_level_status"),
        ]

    def __str__(self) -> str:
        return f"{self.owner_ref} {self.quantity} ({self.status})"


class Transfer(models.Model):
    """Goods coming to a location: from a supplier (no ``source``), or another location's (``inventory.transfers``)."""

    class Status(models.TextChoices):
        REQUESTED = "requested"
        IN_TRANSIT = "in_transit"
        RECEIVED = "received"
        CANCELLED = "cancelled"

    reference = models.CharField(max_length=64, unique=True)
    source = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inbound_transfers")
    expected_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.IN_TRANSIT)
    owner_ref = models.CharField(max_length=64, blank=True, help_text="Whose reservation: an order's or its own.")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    supplies_ref = models.CharField(max_length=64, blank=True, help_text="The work it stocks, e.g. fulfilment:12.")
    carrier = models.CharField(max_length=64, blank=True)
    tracking = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["destination", "status", "expected_at"], name="transfer_inbound"),
            models.Index(fields=["source", "status"], name="transfer_outbound"),
            models.Index(fields=["supplies_ref"], condition=~Q(supplies_ref=""), name="transfer_supplies"),
        ]

    def __str__(self) -> str:
        return self.reference


class TransferLine(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="transfer_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"


class AdjustmentReason(models.TextChoices):
    DAMAGED = "damaged"
    LOST = "lost"
    FOUND = "found"
    THEFT = "theft"
    EXPIRED = "expired"
    CORRECTION = "correction"


class HashedToken(models.Model):
    """A credential of which only the SHA-256 is stored, so a leaked database leaks no token.

    ``revoked_at`` is when it stops working: a rotation sets it a while ahead, so the system
    holding it can switch over without a gap. Channel tokens and location credentials share it.
    """

    name = models.CharField(max_length=64)
    prefix = models.CharField(max_length=12, help_text="First characters, to tell tokens apart.")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, help_text="Refused from this time on.")

    class Meta:
        abstract = True


class LocationCredential(HashedToken):
    """The integration credential of a location's own system (a store's tills, a warehouse's WMS).

    Stock feeds come from the systems that count the goods, never from a sales channel; a
    credential may write the stock of its ``locations`` and nothing else.
    """

    name = models.CharField(max_length=64, help_text="The system it belongs to, e.g. soho-tills.")
    locations = models.ManyToManyField(Location, related_name="credentials", help_text="What it may write.")

    class Meta:
        ordering = ["name", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} {self.prefix}…"


class StockMovement(models.Model):
    """One append-only entry of the stock ledger; the counters are the sum of these."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt"
        DISPATCH = "dispatch"
        ADJUSTMENT = "adjustment"
        COUNT = "count"
        TRANSFER_OUT = "transfer_out"
        TRANSFER_IN = "transfer_in"
        RETURN_RESTOCK = "return_restock"
        WRITE_OFF = "write_off"
        RESERVATION = "reservation"
        RELEASE = "release"
        FEED = "feed"
        SALE = "sale"

    stock_level = models.ForeignKey(StockLevel, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    reason = models.CharField(max_length=64, blank=True)
    reference = models.CharField(max_length=64, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Which location system's credential wrote a feed row (a staff user is the actor instead).
    credential = models.ForeignKey(
        LocationCredential, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]
        # Every stock change writes a row, so each index here is paid millions of times by feeds:
        # exact look-ups by reference (an order number) need no prefix-pattern index, and feed
        # rows, which have no actor, stay out of the actor index.
        indexes = [
            models.Index(fields=["reference"], name="inventory_movement_reference"),
            models.Index(fields=["actor"], condition=models.Q(actor__isnull=False), name="inventory_movement_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.on_hand_delta:+d}/{self.reserved_delta:+d} {self.reference}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValidationError("Stock movements are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Stock movements are append-only.")


class LedgerCheckpoint(models.Model):
    """How far the ledger has been summed into ``LedgerBalance``: every movement up to ``upto_movement_id``.

    The ledger only grows; a checkpoint lets consistency checks read the movements after it
    instead of all history, and lets movements before it be archived.
    """

    upto_movement_id = models.BigIntegerField(unique=True)
    movements = models.BigIntegerField(default=0, help_text="Movements summed by this checkpoint.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-upto_movement_id"]

    def __str__(self) -> str:
        return f"ledger summed up to movement {self.upto_movement_id}"


class LedgerBalance(models.Model):
    """One stock row's ledger sums up to the latest checkpoint."""

    stock_level = models.OneToOneField(StockLevel, primary_key=True, on_delete=models.PROTECT, related_name="+")
    on_hand = models.BigIntegerField(default=0)
    reserved = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"stock row {self.stock_level_id}: {self.on_hand} on hand, {self.reserved} reserved"


class CountFlag(models.Model):
    """A SKU a store should count: the system's figure was proved wrong (a till sold units it did not know of).

    Open while ``cleared_at`` is empty; a count of that SKU at that store clears it.
    """

    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="count_flags")
    reason = models.CharField(max_length=255)
    reference = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["sku", "location"], condition=Q(cleared_at__isnull=True), name="count_flag_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"count {self.sku_id}@{self.location_id}: {self.reason}"


class InboundSupply(models.Model):
    """Goods a supplier has announced for a location (a purchase order or shipping notice).

    ``received`` is set once every line has arrived in full; late extra units are still
    taken. ``closed`` is staff's word that nothing more will come: no receipts, not counted.
    """

    class Status(models.TextChoices):
        OPEN = "open"
        RECEIVED = "received"
        CLOSED = "closed"

    reference = models.CharField(max_length=64, unique=True, validators=[code_validator])
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="inbound_supplies")
    expected_on = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["expected_on", "reference"]
        verbose_name_plural = "inbound supplies"
        indexes = [models.Index(fields=["status", "expected_on"], name="inbound_supply_due")]

    def __str__(self) -> str:
        return self.reference


class InboundLine(models.Model):
    supply = models.ForeignKey(InboundSupply, on_delete=models.CASCADE, related_name="lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    received = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["supply", "sku"], name="inbound_line_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="inbound_line_quantity_positive"),
            models.CheckConstraint(condition=Q(received__gte=0), name="inbound_line_received_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id}: {self.received}/{self.quantity}"
