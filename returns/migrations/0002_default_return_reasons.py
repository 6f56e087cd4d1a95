from django.db import migrations

REASONS = [
    ("too_small", "Too small"),
    ("too_large", "Too large"),
    ("not_as_described", "Not as described"),
    ("arrived_damaged", "Arrived damaged or faulty"),
    ("wrong_item_sent", "Wrong item sent"),
    ("changed_mind", "Changed my mind"),
    ("arrived_late", "Arrived too late"),
]


def add_reasons(apps, schema_editor):
    ReturnReason = apps.get_model("returns", "ReturnReason")
    for code, label in REASONS:
        ReturnReason.objects.get_or_create(code=code, defaults={"label": label})


class Migration(migrations.Migration):
    dependencies = [("returns", "0001_initial")]
    operations = [migrations.RunPython(add_reasons, migrations.RunPython.noop)]
