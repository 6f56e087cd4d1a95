"""After erasure, a data-only dump of the whole database holds none of the person's data (PostgreSQL).

Unlike the field-by-field checks, this reads every table the way a backup would, so a copy
of personal data in a column nobody thought of would show.
"""

import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from inventory.selectors import inventory_discrepancies
from oms.models import Order

from .support import PERSON, SECRETS, person_with_history

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The phone in the forms people type it, besides the stored E.164 one in SECRETS.
PHONE_FORMS = ["+44 7700 900123", "07700 900123", "07700900123", "7700 900123"]


def _dump() -> str:
    db = connection.settings_dict
    command = ["pg_dump", "--data-only", "-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    command += ["-U", db["USER"] or "postgres", db["NAME"]]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=120).stdout


def test_a_dump_after_erasure_holds_none_of_the_persons_data_and_the_books_are_unchanged(network):
    customer, first, second = person_with_history(network)
    numbers = dict(Order.objects.values_list("number", "total"))
    before = _dump()
    assert PERSON["email"] in before and "Wisteria Lane" in before  # the dump does see personal data

    call_command("customer_erase", PERSON["email"], "--reason", "Request 42")

    after = _dump().lower()
    for secret in [*SECRETS, *PHONE_FORMS, PERSON["name"], "Zoe Lee"]:
        assert secret.lower() not in after, secret
    assert dict(Order.objects.values_list("number", "total")) == numbers
    assert inventory_discrepancies() == []
