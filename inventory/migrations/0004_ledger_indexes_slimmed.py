"""Slimmer stock ledger indexes: no prefix-pattern index on reference, and the actor index skips feed rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_stock_level_fillfactor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="stockmovement",
            name="actor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="reference",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(fields=["reference"], name="inventory_movement_reference"),
        ),
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(
                condition=models.Q(("actor__isnull", False)), fields=["actor"], name="inventory_movement_actor"
            ),
        ),
    ]
