import unicodedata

from django.db import migrations, models

BATCH = 2000


def _normalise(name: str) -> str:
    """As ``oms.services.normalise_name`` was when this migration was written."""
    plain = unicodedata.normalize("NFKD", name or "")
    kept = (ch for ch in plain if not unicodedata.combining(ch) and ch not in "'’")  # O'Brien is obrien
    words = "".join(ch if ch.isalnum() else " " for ch in kept).casefold().split()  # Ångström-Lee is two words
    return "".join(f" {word}" for word in words)[:256]


def fill_name_search(apps, schema_editor):
    Customer = apps.get_model("oms", "Customer")
    last = 0
    while True:
        batch = list(Customer.objects.filter(pk__gt=last).exclude(name="").order_by("pk").only("pk", "name")[:BATCH])
        if not batch:
            return
        for customer in batch:
            customer.name_search = _normalise(customer.name)
        Customer.objects.bulk_update(batch, ["name_search"])
        last = batch[-1].pk


def trigram_index(apps, schema_editor):
    """On PostgreSQL, a trigram index serves the word-prefix LIKE of the name search."""
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("oms", "Customer")._meta.db_table)
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS customer_name_search_trgm ON {table} USING gin (name_search gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS customer_name_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0009_note_internal"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="name_search",
            field=models.CharField(blank=True, db_index=True, default="", editable=False, max_length=256),
        ),
        migrations.RunPython(fill_name_search, migrations.RunPython.noop),
        migrations.RunPython(trigram_index, drop_trigram_index),
    ]
