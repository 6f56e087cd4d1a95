"""Daily roll-ups the analytics pages read instead of scanning orders, fulfilments and returns.

Rows are derived data: the roll-up service deletes and rewrites whole days, so nothing
else writes here and a row can always be rebuilt from the source tables.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from inventory.models import Channel, Location


class DailyChannelRollup(models.Model):
    """Orders placed on one day through one channel: network-wide (no location) or fulfilled at one location.

    The network row counts every order once; a location row counts the orders with a live
    fulfilment there and the revenue of the lines it fulfils, so a split order appears
    under each of its locations. Fulfilment measures of the network row are the sums of
    the location rows.
    """

    day = models.DateField()
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    routed_orders = models.PositiveIntegerField(default=0, help_text="Orders with at least one live fulfilment.")
    split_orders = models.PositiveIntegerField(default=0, help_text="Orders with more than one live fulfilment.")
    returned_orders = models.PositiveIntegerField(default=0, help_text="Orders with a return that is not void.")
    fulfilments = models.PositiveIntegerField(default=0, help_text="Every fulfilment routed here, declined ones too.")
    ship_from_warehouse = models.PositiveIntegerField(default=0)
    ship_from_store = models.PositiveIntegerField(default=0)
    click_and_collect = models.PositiveIntegerField(default=0)
    shipments = models.PositiveIntegerField(default=0, help_text="Live delivery fulfilments.")
    shipment_km = models.FloatField(default=0, help_text="Geodesic km, customer to shipping location, summed.")
    accepted = models.PositiveIntegerField(default=0)
    declined = models.PositiveIntegerField(default=0)
    ready = models.PositiveIntegerField(default=0, help_text="Click-and-collect fulfilments put on the shelf.")
    ready_seconds = models.FloatField(default=0, help_text="Routed to ready, summed over ``ready``.")
    collected = models.PositiveIntegerField(default=0)
    expired = models.PositiveIntegerField(default=0)
    finished = models.PositiveIntegerField(
        default=0, help_text="Fulfilments dispatched or put on the pickup shelf (the work the location owed)."
    )
    on_time = models.PositiveIntegerField(default=0, help_text="Of ``finished``, those done by their due time.")

    class Meta:
        ordering = ["day", "channel", "location"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "location"],
                condition=Q(location__isnull=False),
                name="channel_rollup_location_day",
            ),
            models.UniqueConstraint(
                fields=["day", "channel"], condition=Q(location__isnull=True), name="channel_rollup_network_day"
            ),
        ]
        indexes = [models.Index(fields=["day", "location"], name="channel_rollup_day_location")]

    def __str__(self) -> str:
        return f"{self.day} {self.channel_id} @ {self.location_id or 'network'}"


class DailyReturnRollup(models.Model):
    """Returns requested on one day: purchase channel × return channel, by receiving location (empty until received)."""

    day = models.DateField()
    purchase_channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    return_channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="+")
    location = models.ForeignKey(Location, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    returns = models.PositiveIntegerField(default=0)
    units = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "purchase_channel", "return_channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "purchase_channel", "return_channel", "location"],
                condition=Q(location__isnull=False),
                name="return_rollup_received_day",
            ),
            models.UniqueConstraint(
                fields=["day", "purchase_channel", "return_channel"],
                condition=Q(location__isnull=True),
                name="return_rollup_in_transit_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.purchase_channel_id} → {self.return_channel_id}"


class DailyStockRollup(models.Model):
    """One location's stock on one day: a snapshot taken by the day's last run, and the units dispatched."""

    day = models.DateField()
    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="+")
    skus_tracked = models.PositiveIntegerField(default=0)
    skus_out_of_stock = models.PositiveIntegerField(default=0, help_text="On hand all reserved.")
    units_on_hand = models.PositiveIntegerField(default=0)
    units_dispatched = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "location"]
        constraints = [models.UniqueConstraint(fields=["day", "location"], name="stock_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.location_id}"


class RollupRun(models.Model):
    """When the roll-up last ran: the next run recomputes the days touched since then."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(auto_now_add=True)
    days = models.PositiveIntegerField(default=0, help_text="Order and return days recomputed.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M:%S} ({self.days} days)"
