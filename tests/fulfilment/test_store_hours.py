"""Opening hours, closed days and pauses: routing skips stores that cannot work, ready times respect hours."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import InvalidInput
from fulfilment.models import ClosedDay, Fulfilment, OpeningHours
from fulfilment.store_hours import add_open_minutes, next_opening, opens_at, unavailable_stores
from fulfilment.store_ops import store_pause, store_resume
from tests.orders_support import place

# A Tuesday evening in December: London is on UTC, the shops closed at 18:00.
TUESDAY_EVENING = datetime(2026, 12, 8, 19, 30, tzinfo=UTC)
WEDNESDAY = TUESDAY_EVENING.date() + timedelta(days=1)


@pytest.fixture
def clock(monkeypatch):
    """Set the time every service reads."""

    def set_to(at: datetime):
        monkeypatch.setattr(timezone, "now", lambda: at)
        return at

    set_to(TUESDAY_EVENING)
    return set_to


def nine_to_six(store):
    for weekday in range(7):
        OpeningHours.objects.create(location=store, weekday=weekday, opens=time(9), closes=time(18))


def test_ready_by_for_an_order_placed_after_closing_is_the_next_opening(network, clock):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    nine_to_six(network.soho)
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    [f] = order.fulfilments.all()
    assert f.ready_by == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)


def test_a_closed_day_moves_the_ready_time_past_it(network, clock):
    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    nine_to_six(network.soho)
    ClosedDay.objects.create(location=network.soho, date=WEDNESDAY, reason="Stocktake")
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    assert order.fulfilments.get().ready_by == datetime(2026, 12, 10, 9, 0, tzinfo=UTC)


def test_opening_is_counted_in_the_stores_own_time_zone(network, clock):
    network.leeds.timezone = "Asia/Shanghai"
    network.leeds.save()
    nine_to_six(network.leeds)  # 09:00 in Shanghai is 01:00 UTC
    assert next_opening(location_id=network.leeds.pk, at=TUESDAY_EVENING) == datetime(2026, 12, 9, 1, 0, tzinfo=UTC)
    assert opens_at(location_id=network.soho.pk, at=TUESDAY_EVENING) is None  # no hours: always open
    # 60 minutes of opening time from Tuesday evening end at 10:00 on Wednesday.
    nine_to_six(network.soho)
    assert add_open_minutes(location_id=network.soho.pk, start=TUESDAY_EVENING, minutes=60) == datetime(
        2026, 12, 9, 10, 0, tzinfo=UTC
    )


def test_routing_skips_a_paused_store_and_picks_it_again_when_the_pause_ends(network, clock):
    sku = network.skus[0]
    for store in (network.soho, network.camden):
        network.stock(store, sku, 3)
    pause = store_pause(store=network.soho, minutes=30, reason="Two staff off sick")
    order = place(network, [(sku, 1)], external_id="WEB-1")
    assert order.fulfilments.get().location == network.camden
    soho = next(c for c in order.routing["candidates"] if c["code"] == "ST-SOHO")
    assert "paused" in str(soho)
    clock(pause.ends_at + timedelta(seconds=1))  # nothing has to run: the end time is enough
    later = place(network, [(sku, 1)], external_id="WEB-2")
    assert later.fulfilments.get().location == network.soho


def test_a_resumed_store_gets_work_at_once(network, clock):
    sku = network.skus[0]
    network.stock(network.soho, sku, 3)
    network.stock(network.camden, sku, 3)
    store_pause(store=network.soho, minutes=60, reason="Delivery in the back")
    clock(TUESDAY_EVENING + timedelta(minutes=5))
    store_resume(store=network.soho)
    assert place(network, [(sku, 1)]).fulfilments.get().location == network.soho


def test_routing_skips_a_store_closed_today_for_same_day_click_and_collect(network, clock):
    sku = network.skus[0]
    network.stock(network.camden, sku, 3)  # the nearest source for a transfer to Soho
    network.stock(network.warehouse, sku, 3)
    ClosedDay.objects.create(location=network.camden, date=TUESDAY_EVENING.date(), reason="Bank holiday")
    order = place(network, [(sku, 1)], method="pickup", store=network.soho)
    f = order.fulfilments.get()
    assert (f.location, f.source_location) == (network.soho, network.warehouse)


def test_pauses_are_refused_without_a_reason_or_beyond_the_limit(network, settings):
    settings.OMS_STORE_PAUSE_MAX_HOURS = 2
    for minutes, reason, field in [(0, "x", "minutes"), (121, "x", "minutes"), (30, " ", "reason")]:
        with pytest.raises(InvalidInput) as refused:
            store_pause(store=network.soho, minutes=minutes, reason=reason)
        assert field in refused.value.errors
    with pytest.raises(InvalidInput):
        store_pause(store=network.warehouse, minutes=30, reason="x")


def test_overlapping_hours_or_a_close_before_the_open_are_refused_clearly(network):
    OpeningHours.objects.create(location=network.soho, weekday=0, opens=time(9), closes=time(13))
    late = OpeningHours(location=network.soho, weekday=0, opens=time(12), closes=time(18))
    with pytest.raises(ValidationError, match="overlaps"):
        late.full_clean()
    backwards = OpeningHours(location=network.soho, weekday=1, opens=time(18), closes=time(9))
    with pytest.raises(ValidationError) as refused:
        backwards.full_clean()
    assert "close after it opens" in str(refused.value)
    OpeningHours(location=network.soho, weekday=0, opens=time(14), closes=time(18)).full_clean()  # after lunch: fine


def test_availability_says_when_a_closed_pickup_store_opens(network, clock):
    from fulfilment.availability import availability_for

    sku = network.skus[0]
    network.stock(network.soho, sku, 2)
    nine_to_six(network.soho)
    found = availability_for(channel=network.web, lines=[(sku.code, 1)], lat=51.5136, lon=-0.1365)
    soho = next(s for s in found.pickup_stores if s.store == "ST-SOHO")
    assert soho.opens_at == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    assert soho.ready_by == datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
    camden = next(s for s in found.pickup_stores if s.store == "ST-CAMDEN")
    assert camden.opens_at is None


def test_warehouse_work_has_no_accept_deadline(network, clock):
    sku = network.skus[0]
    network.stock(network.warehouse, sku, 3)
    order = place(network, [(sku, 1)])
    f = order.fulfilments.get()
    assert f.method == Fulfilment.Method.SHIP_FROM_WAREHOUSE and f.accept_by is None


def test_store_staff_pause_their_store_from_the_queue_page_and_resume_it(network):
    from tests.conftest import store_staff_client

    staff = store_staff_client(network.soho)
    queue = f"/store/{network.soho.code}/"
    assert "Pause new work" in staff.get(queue).content.decode()
    refused = staff.post(f"{queue}pause/", {"minutes": "60", "reason": ""}, follow=True).content.decode()
    assert "The store was not paused." in refused
    assert "Paused until" not in refused
    page = staff.post(f"{queue}pause/", {"minutes": "60", "reason": "Stock count"}, follow=True).content.decode()
    assert "Paused until" in page and "Stock count" in page
    assert network.soho.pk in unavailable_stores()
    page = staff.post(f"{queue}resume/", follow=True).content.decode()
    assert "Resumed" in page and network.soho.pk not in unavailable_stores()
    # Another store's staff cannot pause Soho.
    other = store_staff_client(network.camden, "cam")
    assert other.post(f"{queue}pause/", {"minutes": "60", "reason": "x"}).status_code == 404


def test_an_admin_may_pause_any_store_and_a_supervisor_may_not(network, client):
    from oms.models import StaffProfile
    from oms.services import staff_create

    admin = staff_create(username="root", password="a-long-test-pass-42", role=StaffProfile.Role.ADMIN).user
    client.force_login(admin)
    client.post(f"/store/{network.leeds.code}/pause/", {"minutes": "30", "reason": "Flooded stock room"})
    assert "Flooded stock room" in unavailable_stores()[network.leeds.pk]
    boss = staff_create(username="sue", password="a-long-test-pass-42", role=StaffProfile.Role.SUPERVISOR).user
    client.force_login(boss)
    assert client.post(f"/store/{network.soho.code}/pause/", {"minutes": "30", "reason": "x"}).status_code == 403
    assert network.soho.pk not in unavailable_stores()
