"""Leave room on every page of inventory_stocklevel for the next version of its rows.

Counters change all the time (reservations, releases, feeds) and no index covers them,
so PostgreSQL can write the new version of a row on the same page without touching the
indexes (a HOT update) as long as the page has room. At 60% a stock feed can change
more than half the rows of a freshly filled page in one transaction; pruning frees the
old versions for the next round. Pages already full keep their rows until a table
rewrite (VACUUM FULL); new pages keep the room. SQLite has no such setting.
"""

from django.db import migrations

FILLFACTOR = 60


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE inventory_stocklevel SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE inventory_stocklevel RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0002_stock_level_sku_index_dropped"),
    ]

    operations = [
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
