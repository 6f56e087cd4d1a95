"""Pick progress is the store's, not the tablet's: every signed-in device sees the same count,
and two tablets scanning the last unit at once count it once."""

import threading

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from fulfilment.actions import fulfilment_accept
from fulfilment.models import Fulfilment, FulfilmentLine
from inventory.models import Barcode
from oms.models import StaffProfile
from oms.services import staff_create
from tests.factories import gtin13
from tests.orders_support import place

S = Fulfilment.Status


def _signed_in(username: str, user=None) -> Client:
    """A new device signed in as ``username`` (created unless ``user`` is given)."""
    user = (
        user
        or staff_create(
            username=username, password="store-pass-123", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
        ).user
    )
    client = Client()
    client.force_login(user)
    return client


def _accepted_at_soho(network, quantity: int = 2, external_id: str = "WEB-PICK"):
    sku = network.skus[0]
    Barcode.objects.get_or_create(code=gtin13(4242), sku=sku)
    network.stock(network.soho, sku, 10)
    f = place(network, [(sku, quantity)], external_id=external_id).fulfilments.get()
    assert f.location == network.soho
    return fulfilment_accept(fulfilment=f), sku


def _pick(client, f):
    return client.get(reverse("store:pick", args=["ST-SOHO", f.pk])).content.decode()


def _scan(client, f, code):
    return client.post(reverse("store:pick_scan", args=["ST-SOHO", f.pk]), {"code": code}, HTTP_HX_REQUEST="true")


@pytest.mark.django_db
def test_a_second_tablet_and_a_new_sign_in_see_the_units_already_scanned(network):
    f, sku = _accepted_at_soho(network)
    first, second = _signed_in("sam"), _signed_in("kim")
    _scan(first, f, gtin13(4242))
    assert "1 of 2</strong> units scanned" in _pick(second, f)

    again = _signed_in("sam", user=User.objects.get(username="sam"))  # sam signs in again elsewhere
    assert "1 of 2</strong> units scanned" in _pick(again, f)

    _scan(second, f, sku.code)
    refused = _scan(first, f, gtin13(4242)).content.decode()
    assert "already scanned" in refused
    assert "2 of 2</strong> units scanned" in _pick(first, f)
    assert FulfilmentLine.objects.get(fulfilment=f).scanned_quantity == 2

    first.post(reverse("store:pick_undo", args=["ST-SOHO", f.pk]), {"sku": sku.code})
    assert "1 of 2</strong> units scanned" in _pick(second, f)
    second.post(reverse("store:pick_confirm", args=["ST-SOHO", f.pk]), {"short_reason": "damaged"})
    f.refresh_from_db()
    assert f.status == S.PICKING and f.lines.get().picked_quantity == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tablets_scanning_the_last_unit_at_once_count_it_once(network):
    from fulfilment.picking import ScanRefused, fulfilment_unit_scan

    f, sku = _accepted_at_soho(network)
    fulfilment_unit_scan(fulfilment=f, sku=sku)  # 1 of 2: one unit left
    barrier, results = threading.Barrier(2), [None, None]

    def scan(i: int) -> None:
        try:
            barrier.wait()
            results[i] = fulfilment_unit_scan(fulfilment=f, sku=sku).scanned
        except ScanRefused as exc:
            results[i] = exc.reason
        finally:
            connection.close()

    for _ in range(10):  # the race is real only if it is run a few times
        FulfilmentLine.objects.filter(fulfilment=f).update(scanned_quantity=1)
        threads = [threading.Thread(target=scan, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(results, key=str) == [2, "all_scanned"]
        assert FulfilmentLine.objects.get(fulfilment=f).scanned_quantity == 2
