"""Goodwill refunds, second step: the order is required, the return optional, one or the other said."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0013_order_hold_reason_customer_request"),
        ("returns", "0004_goodwill_refunds"),
    ]

    operations = [
        migrations.AlterField(
            model_name="refund",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="refunds", to="oms.order"
            ),
        ),
        migrations.AlterField(
            model_name="refundrequest",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="refund_requests", to="oms.order"
            ),
        ),
        migrations.AlterField(
            model_name="refund",
            name="ret",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refund_record",
                to="returns.return",
            ),
        ),
        migrations.AlterField(
            model_name="refundrequest",
            name="ret",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="refund_requests",
                to="returns.return",
            ),
        ),
        migrations.AddConstraint(
            model_name="refund",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("goodwill_reason", ""), ("ret__isnull", False)),
                    models.Q(("ret__isnull", True), models.Q(("goodwill_reason", ""), _negated=True)),
                    _connector="OR",
                ),
                name="refund_of_a_return_or_for_goodwill",
            ),
        ),
        migrations.AddConstraint(
            model_name="refundrequest",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("goodwill_reason", ""), ("ret__isnull", False)),
                    models.Q(("ret__isnull", True), models.Q(("goodwill_reason", ""), _negated=True)),
                    _connector="OR",
                ),
                name="refund_request_of_a_return_or_for_goodwill",
            ),
        ),
    ]
