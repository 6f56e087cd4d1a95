"""Personal data on orders finished longer ago than the retention period is anonymised by a beat job."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from omnichannel.privacy.retention import orders_anonymise_expired
from oms.models import Activity, Customer, Note, Order
from oms.services import order_cancel
from tests.celery_worker import celery_worker
from tests.orders_support import place

from .support import HOME, PERSON, delivered

TASK = "omnichannel.privacy.tasks.anonymise_finished_orders"
pytestmark = pytest.mark.django_db


def _age(order: Order, days: float) -> None:
    """Move everything that happened to the order ``days`` into the past."""
    past = timezone.now() - timedelta(days=days)
    Order.objects.filter(pk=order.pk).update(created_at=past)
    Activity.objects.filter(order=order).update(at=past)


def _old_and_recent(network):
    old = delivered(network, external_id="WEB-OLD", customer=PERSON)
    recent = delivered(network, external_id="WEB-NEW", customer=PERSON)
    Note.objects.create(order=old, text="Left with the neighbour at 14 Wisteria Lane")
    _age(old, settings.OMS_PERSONAL_DATA_RETENTION_DAYS + 1)
    return old, recent


def test_beat_runs_the_retention_job():
    assert [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == TASK]


def test_an_order_finished_before_the_period_is_anonymised_once_and_a_recent_one_kept(network):
    old, recent = _old_and_recent(network)
    total = old.total
    assert orders_anonymise_expired() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.anonymised_at and old.address == {"erased": True, "country": "GB"} and old.total == total
    assert Note.objects.get(order=old).text == "[erased]"
    assert recent.address == HOME and recent.anonymised_at is None
    customer = Customer.objects.get(pk=old.customer_id)
    assert customer.email == PERSON["email"]  # a recent order still needs the person's details
    assert orders_anonymise_expired() == 0  # safe to run twice


def test_when_every_order_is_past_the_period_the_customer_is_anonymised_too(network):
    old, recent = _old_and_recent(network)
    _age(recent, settings.OMS_PERSONAL_DATA_RETENTION_DAYS + 1)
    assert orders_anonymise_expired() == 2
    customer = Customer.objects.get(pk=old.customer_id)
    assert customer.email is None and customer.name == "" and customer.erased_at


def test_a_person_with_an_open_order_waits(network):
    old, _ = _old_and_recent(network)
    network.stock(network.soho, network.skus[1], 1)
    place(network, [(network.skus[1], 1)], external_id="WEB-OPEN", customer=PERSON)
    assert orders_anonymise_expired() == 0
    old.refresh_from_db()
    assert old.address == HOME and old.anonymised_at is None


def test_a_cancelled_order_counts_as_finished(network):
    network.stock(network.soho, network.skus[1], 1)
    order = place(network, [(network.skus[1], 1)], external_id="WEB-C", customer={"email": "c@example.com"})
    order_cancel(order=order, reason="customer asked")
    _age(order, settings.OMS_PERSONAL_DATA_RETENTION_DAYS + 1)
    assert orders_anonymise_expired() == 1
    assert Customer.objects.get(pk=order.customer_id).email is None


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_and_a_real_worker_anonymise_expired_orders(network):
    old, recent = _old_and_recent(network)
    with celery_worker(beat=True, env={"OMS_BEAT_INTERVAL_SECONDS": "1"}) as worker:
        worker.wait_for(
            lambda: Order.objects.get(pk=old.pk).anonymised_at is not None,
            what="beat's retention run to anonymise the old order",
            timeout=60,
        )
    assert f"Task {TASK}[" in worker.log()
    assert Order.objects.get(pk=old.pk).address == {"erased": True, "country": "GB"}
    assert Order.objects.get(pk=recent.pk).address == HOME


def test_people_who_must_wait_do_not_hold_up_the_others(network):
    waiting, _ = _old_and_recent(network)  # the lower id
    network.stock(network.soho, network.skus[1], 1)
    place(network, [(network.skus[1], 1)], external_id="WEB-OPEN", customer=PERSON)
    other = delivered(network, external_id="WEB-OTHER", customer={"email": "other@example.com", "name": "Bo Ng"})
    _age(other, settings.OMS_PERSONAL_DATA_RETENTION_DAYS + 1)
    assert orders_anonymise_expired(limit=1) == 1
    assert Order.objects.get(pk=other.pk).anonymised_at and not Order.objects.get(pk=waiting.pk).anonymised_at
