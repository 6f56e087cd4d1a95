"""The dashboard's deadline breaches per store, counted from the work's own deadlines and audit rows."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept
from fulfilment.models import Fulfilment
from fulfilment.store_ops import fulfilment_reroute_unaccepted
from oms.models import StaffProfile
from oms.services import staff_create
from tests.orders_support import place

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate().isoformat()


def test_breaches_per_store_match_what_happened_to_the_work(client, network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 4)
    network.stock(network.camden, sku, 1)
    missed_accept = place(network, [(sku, 1)], external_id="WEB-1").fulfilments.get()
    assert fulfilment_reroute_unaccepted(fulfilment=missed_accept, now=missed_accept.accept_by + timedelta(seconds=1))
    late, on_time, waiting = (place(network, [(sku, 1)], external_id=f"WEB-{n}").fulfilments.get() for n in (2, 3, 4))
    assert {late.location, on_time.location, waiting.location} == {network.soho}
    fulfilment_accept(fulfilment=late)
    on_time = fulfilment_accept(fulfilment=on_time)
    Fulfilment.objects.filter(pk=late.pk).update(due_by=timezone.now() - timedelta(minutes=1))  # still open: late
    Fulfilment.objects.filter(pk=on_time.pk).update(dispatched_at=on_time.due_by - timedelta(minutes=1))

    client.force_login(staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user)
    response = client.get(reverse("analytics:export", args=["deadlines"]), {"start": TODAY, "end": TODAY})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["Store", "Work with a deadline", "Accept deadlines missed", "Ready/dispatch deadlines missed", "On time (%)"],
        ["ST-CAMDEN", "1", "0", "0", ""],  # the re-routed work, not yet due
        ["ST-SOHO", "4", "1", "1", "33.33"],  # missed accept, late, on time; the fourth still waiting
    ]
    page = client.get(reverse("analytics:dashboard"), {"start": TODAY, "end": TODAY}).content.decode()
    assert "Deadline breaches per store" in page and 'id="deadlines"' in page
