"""Ready and dispatch deadlines mark work late without moving it; reminders come before any
deadline; warehouse work has its own deadlines and moves only when the policy says so."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from fulfilment.actions import fulfilment_accept
from fulfilment.deadline_reminders import fulfilments_remind_deadlines
from fulfilment.models import Fulfilment, RoutingPolicyVersion
from fulfilment.store_ops import fulfilments_reroute_unaccepted
from fulfilment.store_work import fulfilments_overdue, store_work_queue
from omnichannel.backoffice.worklists import worklist_page
from oms.models import Activity, StaffProfile
from oms.services import staff_create
from tests.orders_support import place

pytestmark = pytest.mark.django_db
F = Fulfilment.Status


def test_accepting_sets_the_ready_deadline_by_method(network, settings):
    settings.OMS_READY_MINUTES = {"ship_from_store": 45, "click_and_collect": 20}
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    shipped = place(network, [(sku, 1)], external_id="WEB-1").fulfilments.get()
    collected = place(network, [(sku, 1)], external_id="WEB-2", method="pickup", store=network.soho).fulfilments.get()
    assert shipped.due_by is None
    before = timezone.now()
    shipped = fulfilment_accept(fulfilment=shipped)
    collected = fulfilment_accept(fulfilment=collected)
    assert timedelta(minutes=45) <= shipped.due_by - before < timedelta(minutes=46)
    assert timedelta(minutes=20) <= collected.due_by - before < timedelta(minutes=21)
    assert Fulfilment.objects.get(pk=shipped.pk).due_by == shipped.due_by


def test_a_missed_ready_deadline_marks_the_work_late_everywhere_but_never_moves_it(network, settings):
    settings.OMS_READY_MINUTES = {"ship_from_store": 45, "click_and_collect": 20}
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    network.stock(network.camden, sku, 1)
    work = fulfilment_accept(fulfilment=place(network, [(sku, 1)]).fulfilments.get())
    just_before, just_after = work.due_by - timedelta(seconds=1), work.due_by + timedelta(seconds=1)
    assert not fulfilments_overdue(now=just_before).filter(pk=work.pk).exists()
    assert fulfilments_overdue(now=just_after).filter(pk=work.pk).exists()
    late_work = [o.number for o in worklist_page(slug="store-work", now=just_after, params={}).page.object_list]
    assert late_work == [work.order.number]  # the back office's "Store work late or declined"
    assert not worklist_page(slug="store-work", now=just_before, params={}).page.object_list
    [row] = store_work_queue(store=network.soho, now=just_after)
    assert row.overdue and row.due_at == work.due_by
    assert fulfilments_reroute_unaccepted(now=work.due_by + timedelta(hours=5)) == 0
    work.refresh_from_db()
    assert work.status == F.ACCEPTED and work.location == network.soho


def test_one_reminder_per_deadline_and_the_timeline_says_so(client, network, settings):
    settings.OMS_ACCEPT_MINUTES = {"ship_from_store": 60, "click_and_collect": 60}
    settings.OMS_READY_MINUTES = {"ship_from_store": 60, "click_and_collect": 60}
    settings.OMS_DEADLINE_REMINDER_MINUTES = 15
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    order = place(network, [(sku, 1)])
    work = order.fulfilments.get()
    assert fulfilments_remind_deadlines(now=work.accept_by - timedelta(minutes=20)) == 0  # not yet near
    assert fulfilments_remind_deadlines(now=work.accept_by - timedelta(minutes=15)) == 1
    assert fulfilments_remind_deadlines(now=work.accept_by - timedelta(minutes=5)) == 0  # once only
    work = fulfilment_accept(fulfilment=work)
    assert fulfilments_remind_deadlines(now=work.due_by - timedelta(minutes=9)) == 1  # the ready deadline's own
    assert fulfilments_remind_deadlines(now=work.due_by - timedelta(minutes=1)) == 0
    reasons = list(Activity.objects.filter(order=order, action="remind_deadline").values_list("reason", flat=True))
    assert reasons == ["accept within 15 min", "ship within 9 min"]
    client.force_login(staff_create(username="ann", password="a-long-test-pass-42", role=StaffProfile.Role.AGENT).user)
    page = client.get(reverse("backoffice:order", args=[order.pk])).content.decode()
    assert f"Reminder sent to {network.soho.name}: accept within 15 min" in page
    assert f"Reminder sent to {network.soho.name}: ship within 9 min" in page


def test_the_queue_shows_work_near_its_deadline_first_with_a_badge(network, settings):
    from tests.conftest import store_staff_client

    settings.OMS_DEADLINE_REMINDER_MINUTES = 15
    sku = network.skus[0]
    network.stock(network.soho, sku, 5)
    calm = place(network, [(sku, 1)], external_id="WEB-CALM").fulfilments.get()
    near = place(network, [(sku, 1)], external_id="WEB-NEAR").fulfilments.get()
    ready = place(network, [(sku, 1)], external_id="WEB-READY", method="pickup", store=network.soho)
    ready = fulfilment_accept(fulfilment=ready.fulfilments.get())
    now = timezone.now()
    # The calm one is due out first, but the other two have a deadline within minutes.
    Fulfilment.objects.filter(pk=near.pk).update(
        accept_by=now + timedelta(minutes=12), ready_by=now + timedelta(hours=3)
    )
    Fulfilment.objects.filter(pk=ready.pk).update(due_by=now + timedelta(minutes=9, seconds=30))
    Fulfilment.objects.filter(pk=calm.pk).update(ready_by=now + timedelta(hours=1))
    fulfilments_remind_deadlines(now=now)
    response = store_staff_client(network.soho).get(f"/store/{network.soho.code}/")
    page = response.content.decode()
    assert [f.pk for f in response.context["rows"]] == [ready.pk, near.pk, calm.pk]
    assert "Accept within 12 min" in page and "Ready within 10 min" in page
    assert page.count("reminder sent") == 2


def test_warehouse_work_has_its_own_deadlines_and_stays_unless_the_policy_says(network, settings):
    settings.OMS_WAREHOUSE_ACCEPT_MINUTES = {"ship_from_warehouse": 30}
    settings.OMS_WAREHOUSE_READY_MINUTES = {"ship_from_warehouse": 600}
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 2)
    network.stock(network.leeds, sku, 1)
    RoutingPolicyVersion.objects.create(channel=network.web, version=1, data={"allow_ship_from_store": False})
    stays = place(network, [(sku, 1)], external_id="WEB-1").fulfilments.get()
    assert stays.location == network.warehouse
    assert timedelta(minutes=29) < stays.accept_by - stays.created_at <= timedelta(minutes=30)
    assert fulfilments_reroute_unaccepted(now=stays.accept_by + timedelta(seconds=1)) == 0
    stays.refresh_from_db()
    assert stays.status == F.PENDING
    accepted = fulfilment_accept(fulfilment=stays)
    assert timedelta(minutes=599) < accepted.due_by - timezone.now() <= timedelta(minutes=600)

    RoutingPolicyVersion.objects.create(channel=network.web, version=2, data={"reroute_warehouse_on_deadline": True})
    moved = place(network, [(sku, 1)], external_id="WEB-2").fulfilments.get()
    assert moved.location == network.warehouse
    assert fulfilments_reroute_unaccepted(now=moved.accept_by + timedelta(seconds=1)) == 1
    moved.refresh_from_db()
    assert moved.status == F.CANCELLED
    [now_at] = moved.order.fulfilments.exclude(status__in=Fulfilment.INACTIVE)
    assert now_at.location == network.leeds


def test_a_policy_flag_that_is_not_true_or_false_is_refused():
    from fulfilment.routing.policy import RoutingError, RoutingPolicy

    with pytest.raises(RoutingError, match="reroute_warehouse_on_deadline must be true or false"):
        RoutingPolicy.from_dict({"reroute_warehouse_on_deadline": "yes"})


def test_the_fulfilment_page_says_by_when_to_ship_and_that_it_is_late(network):
    from tests.conftest import store_staff_client

    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    work = fulfilment_accept(fulfilment=place(network, [(sku, 1)]).fulfilments.get())
    Fulfilment.objects.filter(pk=work.pk).update(due_by=timezone.now() - timedelta(minutes=5))
    page = store_staff_client(network.soho).get(f"/store/{network.soho.code}/work/{work.pk}/").content.decode()
    assert "<dt>Ship by</dt>" in page and '<span class="badge bad">late</span>' in page


@pytest.mark.broker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_beat_reminds_a_store_of_its_accept_deadline_once(network, settings):
    from tests.celery_worker import celery_worker

    settings.OMS_ACCEPT_MINUTES = {"ship_from_store": 60, "click_and_collect": 60}
    sku = network.skus[0]
    network.stock(network.soho, sku, 1)
    env = {"OMS_BEAT_INTERVAL_SECONDS": "1", "OMS_DEADLINE_REMINDER_MINUTES": "90"}
    with celery_worker(beat=True, env=env) as worker:
        order = place(network, [(sku, 1)])
        reminders = Activity.objects.filter(order=order, action="remind_deadline")
        worker.wait_for(reminders.exists, what="the accept reminder")
        time.sleep(3)  # a few more runs of the job
    assert "Sending due task remind-deadlines" in worker.beat_log()
    assert [r.reason for r in reminders] in (["accept within 60 min"], ["accept within 59 min"])
    assert Fulfilment.objects.get(order=order).accept_reminded_at is not None
