"""Return authorisations (RMA): a purchase from any channel returned through any channel or store."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from inventory.models import Channel, Location, Sku
from oms.models import ORDER_NUMBER_ALPHABET, Order, OrderLine


def new_return_reference() -> str:
    """The code printed on the customer's return label (and its QR code)."""
    return "R-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(8))


class ReturnReason(models.Model):
    """A catalogue entry of why customers return things, for analytics and inspection."""

    code = models.SlugField(max_length=32, unique=True)
    label = models.CharField(max_length=128)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.label


class ReturnPolicy(models.Model):
    """How long after dispatch a channel's purchases may be returned; a category may have its own window."""

    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=64, blank=True, help_text="Empty: every category.")
    window_days = models.PositiveIntegerField(default=30)

    class Meta:
        verbose_name_plural = "return policies"
        constraints = [models.UniqueConstraint(fields=["channel", "category"], name="return_policy_unique")]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.category or 'all'}: {self.window_days} days"


class Return(FSMModelMixin, models.Model):
    class Status(models.TextChoices):
        REQUESTED = "requested"
        AUTHORISED = "authorised"
        RECEIVED = "received"
        INSPECTED = "inspected"
        REFUNDED = "refunded"
        EXCHANGED = "exchanged"
        CLOSED = "closed"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    class RefundMethod(models.TextChoices):
        ORIGINAL_TENDERS = "original_tenders"
        STORE_CREDIT = "store_credit"

    S = Status
    OPEN = [S.REQUESTED, S.AUTHORISED, S.RECEIVED, S.INSPECTED]
    VOID = [S.REJECTED, S.CANCELLED]

    reference = models.CharField(max_length=16, unique=True, default=new_return_reference)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="returns")
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Where it was requested."
    )
    status = FSMField(default=S.REQUESTED, choices=Status.choices, protected=True, db_index=True)
    received_location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField(null=True, blank=True)
    refund_method = models.CharField(max_length=24, choices=RefundMethod.choices, default=RefundMethod.ORIGINAL_TENDERS)
    exchange_order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    price_difference = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Exchange: positive means the customer pays more, negative that they are owed.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.reference

    @property
    def subject(self) -> str:
        return f"return:{self.pk}"

    @transition(field=status, source=S.REQUESTED, target=S.AUTHORISED)
    def authorise(self) -> None:
        """The customer may send the goods back."""

    @transition(field=status, source=S.REQUESTED, target=S.REJECTED)
    def reject(self) -> None:
        """Refused after review."""

    @transition(field=status, source=[S.REQUESTED, S.AUTHORISED], target=S.RECEIVED)
    def receive(self, *, location: Location, at) -> None:
        """The goods arrived at a location; the service restocks what is resellable."""
        self.received_location, self.received_at = location, at

    @transition(field=status, source=S.RECEIVED, target=S.INSPECTED)
    def inspect(self) -> None:
        """Conditions confirmed; money or a replacement may follow."""

    @transition(field=status, source=[S.RECEIVED, S.INSPECTED], target=S.REFUNDED)
    def refund(self) -> None:
        """Money goes back; the service records the refund once."""

    @transition(field=status, source=[S.RECEIVED, S.INSPECTED], target=S.EXCHANGED)
    def exchange(self, *, replacement: Order, difference) -> None:
        """A replacement order was placed for the returned goods."""
        self.exchange_order, self.price_difference = replacement, difference

    @transition(field=status, source=[S.RECEIVED, S.INSPECTED], target=S.CLOSED)
    def close(self) -> None:
        """Nothing is owed (e.g. nothing resellable and no refund due)."""

    @transition(field=status, source=[S.REQUESTED, S.AUTHORISED], target=S.CANCELLED)
    def cancel(self) -> None:
        """The customer kept the goods."""


class ReturnLine(models.Model):
    class Condition(models.TextChoices):
        RESELLABLE = "resellable"
        DAMAGED = "damaged"
        WRONG_ITEM = "wrong_item"
        MISSING = "missing"

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    reason = models.ForeignKey(ReturnReason, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    resellable_quantity = models.PositiveIntegerField(default=0)
    damaged_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gt=0), name="return_line_quantity_positive")]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"

    @property
    def received_quantity(self) -> int:
        return self.resellable_quantity + self.damaged_quantity


class ReturnException(models.Model):
    """Something that arrived differently from the return: an unexpected item or a quantity mismatch."""

    ret = models.ForeignKey(Return, on_delete=models.CASCADE, related_name="exceptions")
    sku_code = models.CharField(max_length=128)
    kind = models.CharField(max_length=24)  # wrong_item | missing | quantity_mismatch
    expected = models.IntegerField(default=0)
    received = models.IntegerField(default=0)
    note = models.CharField(max_length=255, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.sku_code}: {self.received}/{self.expected}"


class GoodwillReason(models.TextChoices):
    """Why money goes back without a return (an appeasement)."""

    LATE_DELIVERY = "late_delivery", "Late delivery"
    DAMAGED_KEPT = "damaged_kept", "Damaged, customer keeps it"
    MISSING_ITEM = "missing_item", "Item missing from the parcel"
    PRICE_ADJUSTMENT = "price_adjustment", "Price adjustment"
    SERVICE = "service", "Poor service"
    OTHER = "other", "Other"


class Refund(models.Model):
    """Money back on an order: the one refund of a return, or a goodwill refund without one.

    A return is refunded once (the one-to-one key makes a second refund impossible); a
    goodwill refund has no return and says why (``goodwill_reason``). Both count against
    what was paid on the order (``returns.refunds.refund_room``).
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    ret = models.OneToOneField(Return, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_record")
    goodwill_reason = models.CharField(max_length=24, choices=GoodwillReason.choices, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=24, choices=Return.RefundMethod.choices)
    allocations = models.JSONField(default=list, help_text="Per tender: type, reference, amount.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ret__isnull=False, goodwill_reason="") | Q(ret__isnull=True) & ~Q(goodwill_reason=""),
                name="refund_of_a_return_or_for_goodwill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} ({self.method})"

    def save(self, *args, **kwargs):
        if self.order_id is None and self.ret_id is not None:
            self.order_id = self.ret.order_id  # a return's refund is on the return's order
        super().save(*args, **kwargs)


class RefundRequest(models.Model):
    """A refund above the requester's limit, waiting for a supervisor; nothing is paid until it is approved.

    The request keeps what the requester saw (amount and tender split); approval pays through
    the same refund service, which checks again that the amount is still due.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        REJECTED = "rejected"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refund_requests")
    ret = models.ForeignKey(Return, null=True, blank=True, on_delete=models.PROTECT, related_name="refund_requests")
    goodwill_reason = models.CharField(max_length=24, choices=GoodwillReason.choices, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=24, choices=Return.RefundMethod.choices)
    shipping = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    allocations = models.JSONField(default=list, help_text="The tender split shown when it was requested.")
    reason = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=255, blank=True)
    refund = models.OneToOneField(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="approval_request"
    )

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ret"], condition=Q(status="pending"), name="refund_request_one_pending_per_return"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_request_amount_positive"),
            models.CheckConstraint(
                condition=Q(ret__isnull=False, goodwill_reason="") | Q(ret__isnull=True) & ~Q(goodwill_reason=""),
                name="refund_request_of_a_return_or_for_goodwill",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} for {self.subject_label} ({self.status})"

    def save(self, *args, **kwargs):
        if self.order_id is None and self.ret_id is not None:
            self.order_id = self.ret.order_id
        super().save(*args, **kwargs)

    @property
    def subject_label(self) -> str:
        """What the money is for, as lists show it: the return's reference, or "goodwill (late delivery)"."""
        if self.ret_id:
            return self.ret.reference
        return f"goodwill ({self.get_goodwill_reason_display().lower()})"
