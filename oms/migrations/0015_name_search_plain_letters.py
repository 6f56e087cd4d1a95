"""Refill the name search column of customers whose name holds a letter without an accent mark
(ø, æ, ł, þ, …), so "soren" finds Søren as "zoe" finds Zoë."""

import unicodedata

from django.db import migrations
from django.db.models import Q

BATCH = 2000
# As ``oms.identity.PLAIN_LETTERS`` was when this migration was written.
PLAIN = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
PLAIN_LETTERS = str.maketrans(PLAIN | {k.upper(): v.upper() for k, v in PLAIN.items() if k != "ı"})


def _normalise(name: str) -> str:
    """As ``oms.identity.normalise_name`` was when this migration was written."""
    plain = unicodedata.normalize("NFKD", (name or "").translate(PLAIN_LETTERS))
    kept = (ch for ch in plain if not unicodedata.combining(ch) and ch not in "'’")
    words = "".join(ch if ch.isalnum() else " " for ch in kept).casefold().split()
    return "".join(f" {word}" for word in words)[:256]


def refill(apps, schema_editor):
    Customer = apps.get_model("oms", "Customer")
    holds = Q()
    for letter in PLAIN_LETTERS:
        holds |= Q(name__contains=chr(letter))
    last = 0
    while True:
        batch = list(Customer.objects.filter(holds, pk__gt=last).order_by("pk").only("pk", "name")[:BATCH])
        if not batch:
            return
        for customer in batch:
            customer.name_search = _normalise(customer.name)
        Customer.objects.bulk_update(batch, ["name_search"])
        last = batch[-1].pk


class Migration(migrations.Migration):
    dependencies = [
        ("oms", "0014_order_in_store"),
    ]

    operations = [migrations.RunPython(refill, migrations.RunPython.noop)]
