"""A store that does not accept its work in time loses it: the work is re-routed without it."""

from datetime import timedelta

import pytest

from fulfilment.actions import fulfilment_accept
from fulfilment.models import Fulfilment
from fulfilment.store_ops import fulfilment_reroute_unaccepted, fulfilments_reroute_unaccepted
from oms.models import Activity, Order
from tests.celery_worker import celery_worker
from tests.orders_support import place

F = Fulfilment.Status


def test_store_work_gets_an_accept_deadline_by_its_method(network, settings):
    settings.OMS_ACCEPT_MINUTES = {"ship_from_store": 30, "click_and_collect": 10}
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    shipped = place(network, [(sku, 1)], external_id="WEB-1").fulfilments.get()
    collected = place(network, [(sku, 1)], external_id="WEB-2", method="pickup", store=network.soho).fulfilments.get()
    assert timedelta(minutes=29) < shipped.accept_by - shipped.created_at <= timedelta(minutes=30)
    assert timedelta(minutes=9) < collected.accept_by - collected.created_at <= timedelta(minutes=10)


def test_a_missed_accept_deadline_moves_the_work_elsewhere_and_the_timeline_says_why(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    order = place(network, [(sku, 1)])
    late = order.fulfilments.get()
    assert late.location == network.soho
    assert fulfilments_reroute_unaccepted(now=late.accept_by - timedelta(seconds=1)) == 0
    assert fulfilments_reroute_unaccepted(now=late.accept_by + timedelta(seconds=1)) == 1
    late.refresh_from_db()
    assert late.status == F.CANCELLED
    order.refresh_from_db()
    [now_at] = order.fulfilments.exclude(status__in=Fulfilment.INACTIVE)
    assert now_at.location == network.camden
    assert order.status == Order.Status.ALLOCATED
    reasons = list(Activity.objects.filter(order=order).values_list("subject", "action", "reason"))
    assert any(a == "cancel" and r.startswith("deadline: not accepted by") for _, a, r in reasons), reasons
    assert ("route", "deadline: ST-SOHO did not accept in time") in [(a, r) for _, a, r in reasons]
    assert network.level(network.soho, sku).reserved == 0
    # Twice is harmless: the work is no longer pending.
    assert not fulfilment_reroute_unaccepted(fulfilment=late, now=late.accept_by + timedelta(hours=1))


def test_accepted_work_and_warehouse_work_are_never_moved(network):
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.warehouse, sku, 5)
    accepted = place(network, [(sku, 1)], external_id="WEB-1").fulfilments.get()
    fulfilment_accept(fulfilment=accepted)
    warehouse = place(network, [(sku, 1)], external_id="WEB-2").fulfilments.get()
    assert warehouse.location == network.warehouse and warehouse.accept_by is None
    assert fulfilments_reroute_unaccepted(now=accepted.created_at + timedelta(days=3)) == 0
    accepted.refresh_from_db()
    assert accepted.status == F.ACCEPTED


def test_the_store_page_says_the_work_was_taken_for_the_deadline(network):
    from tests.conftest import store_staff_client

    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    late = place(network, [(sku, 1)]).fulfilments.get()
    fulfilments_reroute_unaccepted(now=late.accept_by + timedelta(seconds=1))
    page = store_staff_client(network.soho).get(f"/store/{network.soho.code}/work/{late.pk}/").content.decode()
    assert "not accepted by" in page


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_moves_work_not_accepted_in_time(network, settings):
    settings.OMS_ACCEPT_MINUTES = {"ship_from_store": 0.05, "click_and_collect": 0.05}  # three seconds
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    with celery_worker(beat=True, env={"OMS_BEAT_INTERVAL_SECONDS": "1"}) as worker:
        order = place(network, [(sku, 1)])
        late = order.fulfilments.get()
        worker.wait_for(
            lambda: Fulfilment.objects.get(pk=late.pk).status == F.CANCELLED, what="the unaccepted work to move"
        )
    assert worker.process.returncode == 0
    assert "Sending due task reroute-unaccepted-work" in worker.beat_log()
    [moved] = Order.objects.get(pk=order.pk).fulfilments.exclude(status__in=Fulfilment.INACTIVE)
    assert moved.location == network.camden
