"""Store work on one order never holds up checkouts of the same channel (real PostgreSQL connections).

Every order placed commits rows that refer to its channel, and PostgreSQL checks those
references at COMMIT with a share lock on the channel's row. A fulfilment or return action
that locked the channel's row while it worked (``SELECT … FOR UPDATE`` over a join) made
every checkout of that channel wait for it, and deadlocked when the checkout had reserved a
unit the store was dispatching.
"""

import threading

import pytest
from django.db import connection, transaction

from fulfilment import actions
from fulfilment.models import Fulfilment
from tests.orders_support import place

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_checkout_commits_while_a_store_is_in_the_middle_of_shipping_for_the_same_channel(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    first = place(network, [(sku, 1)], external_id="WEB-1")
    fulfilment = first.fulfilments.get()
    actions.fulfilment_accept(fulfilment=fulfilment)
    working, done = threading.Event(), threading.Event()
    outcome = {}

    def store_ships_slowly():
        try:
            with transaction.atomic():
                actions.fulfilment_lock(Fulfilment.objects.get(pk=fulfilment.pk))  # what every store action takes first
                working.set()
                done.wait(timeout=10)
        finally:
            connection.close()

    def checkout():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            outcome["order"] = place(network, [(sku, 1)], external_id="WEB-2")
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc
        finally:
            connection.close()

    store = threading.Thread(target=store_ships_slowly)
    store.start()
    assert working.wait(timeout=10)
    buyer = threading.Thread(target=checkout)
    buyer.start()
    buyer.join(timeout=20)
    done.set()
    store.join(timeout=20)

    assert "error" not in outcome, outcome.get("error")
    assert outcome["order"].external_id == "WEB-2"
