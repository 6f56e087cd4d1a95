"""Goodwill refunds: a refund and a refund request belong to an order, and to a return only when there is one."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def order_from_return(apps, schema_editor):
    """Every refund and request so far was of a return: it belongs to the return's order."""
    Return = apps.get_model("returns", "Return")
    for model in ("Refund", "RefundRequest"):
        rows = apps.get_model("returns", model).objects
        for ret_id, order_id in Return.objects.filter(pk__in=rows.values("ret_id")).values_list("pk", "order_id"):
            rows.filter(ret_id=ret_id).update(order_id=order_id)


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0013_order_hold_reason_customer_request"),
        ("returns", "0003_refund_request"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="refund",
            name="goodwill_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("late_delivery", "Late delivery"),
                    ("damaged_kept", "Damaged, customer keeps it"),
                    ("missing_item", "Item missing from the parcel"),
                    ("price_adjustment", "Price adjustment"),
                    ("service", "Poor service"),
                    ("other", "Other"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddField(
            model_name="refund",
            name="order",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="oms.order"
            ),
        ),
        migrations.AddField(
            model_name="refundrequest",
            name="goodwill_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("late_delivery", "Late delivery"),
                    ("damaged_kept", "Damaged, customer keeps it"),
                    ("missing_item", "Item missing from the parcel"),
                    ("price_adjustment", "Price adjustment"),
                    ("service", "Poor service"),
                    ("other", "Other"),
                ],
                max_length=24,
            ),
        ),
        migrations.AddField(
            model_name="refundrequest",
            name="order",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="refund_requests", to="oms.order"
            ),
        ),
        migrations.RunPython(order_from_return, migrations.RunPython.noop),
    ]
