"""Opening hours and closed days are edited per store in the admin, with clear refusals."""

import pytest
from django.contrib.auth import get_user_model

from fulfilment.models import ClosedDay, OpeningHours

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "a-long-pass-42"))
    return client


def form(rows, days=()):
    data = {
        "timezone": "Europe/London",
        "opening_hours-TOTAL_FORMS": str(len(rows)),
        "opening_hours-INITIAL_FORMS": "0",
        "closed_days-TOTAL_FORMS": str(len(days)),
        "closed_days-INITIAL_FORMS": "0",
    }
    for i, (weekday, opens, closes) in enumerate(rows):
        data.update({f"opening_hours-{i}-weekday": weekday, f"opening_hours-{i}-opens": opens})
        data[f"opening_hours-{i}-closes"] = closes
    for i, (date, reason) in enumerate(days):
        data.update({f"closed_days-{i}-date": date, f"closed_days-{i}-reason": reason})
    return data


def test_hours_and_a_holiday_are_saved(admin_client, network):
    url = f"/admin/fulfilment/store/{network.soho.pk}/change/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url, form([(0, "09:00", "13:00"), (0, "14:00", "18:00")], [("2026-12-25", "Christmas")])
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert OpeningHours.objects.filter(location=network.soho).count() == 2
    assert ClosedDay.objects.get(location=network.soho).reason == "Christmas"


def test_overlapping_hours_and_a_close_before_the_open_are_refused_and_nothing_is_saved(admin_client, network):
    url = f"/admin/fulfilment/store/{network.soho.pk}/change/"
    page = admin_client.post(url, form([(0, "09:00", "13:00"), (0, "12:00", "18:00")])).content.decode()
    assert "Monday: 09:00–13:00 overlaps 12:00–18:00." in page
    page = admin_client.post(url, form([(2, "18:00", "09:00")])).content.decode()
    assert "The store must close after it opens" in page
    assert not OpeningHours.objects.exists()
