"""The analytics dashboard, its CSV exports and the routing lab as back-office staff use them."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from geopy.distance import geodesic

from fulfilment.models import RoutingPolicyVersion
from omnichannel.analytics.services import analytics_rollup
from oms.models import StaffProfile
from oms.services import staff_create

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
TRAFALGAR = (51.5080, -0.1281)
DASHBOARD = reverse("analytics:dashboard")
LAB = reverse("analytics:lab")


def export_url(slug: str) -> str:
    return reverse("analytics:export", args=[slug])


@pytest.fixture
def agent(client):
    client.force_login(staff_create(username="agent", password="pw-agent-123", role=StaffProfile.Role.AGENT).user)
    return client


@pytest.fixture
def rolled_up(shop):
    analytics_rollup()
    return shop


def rows_of(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.content.decode())))


def km(network, *locations) -> str:
    """Mean geodesic km from the test customer at Trafalgar Square to ``locations``, as exported."""
    return str(round(sum(geodesic(TRAFALGAR, (loc.lat, loc.lon)).km for loc in locations) / len(locations), 2))


def test_channel_csv_holds_the_same_figures_as_the_page(agent, rolled_up):
    network = rolled_up.network
    response = agent.get(export_url("channels"), {"start": TODAY, "end": TODAY})

    assert response["Content-Disposition"] == f'attachment; filename="channels_{TODAY}_{TODAY}.csv"'
    assert rows_of(response) == [
        ["Channel", "Orders", "Revenue", "Split rate (%)", "Mean distance (km)", "Return rate (%)"],
        ["app", "1", "14.50", "100.0", km(network, network.soho, network.camden), "0.0"],
        ["web", "3", "96.50", "0.0", km(network, network.soho, network.warehouse), "33.33"],
    ]
    page = agent.get(DASHBOARD, {"start": TODAY, "end": TODAY}).content.decode()
    assert "96.50" in page and "33.3%" in page


def test_returns_csv_is_the_cross_channel_matrix_filtered_by_channel(agent, rolled_up):
    response = agent.get(export_url("returns"), {"start": TODAY, "end": TODAY, "channel": "web"})

    assert rows_of(response) == [["Bought via", "Returned via pos", "Return rate (%)"], ["web", "1", "33.33"]]


def test_fulfilment_mix_csv_has_a_row_for_every_day_of_the_period(agent, rolled_up):
    yesterday = (timezone.localdate() - timezone.timedelta(days=1)).isoformat()
    rows = rows_of(agent.get(export_url("fulfilment-mix"), {"start": yesterday, "end": TODAY}))

    assert [row[:4] for row in rows] == [
        ["Day", "Ship from warehouse", "Ship from store", "Click and collect"],
        [yesterday, "0", "0", "0"],
        [TODAY, "1", "3", "1"],
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"start": "2026-13-45"}, "From: Enter a date as YYYY-MM-DD, for example 2026-11-01."),
        ({"start": "2026-05-02", "end": "2026-05-01"}, "To: “To” is before “From”."),
        ({"start": "2020-01-01", "end": "2026-01-01"}, "To: Choose at most 366 days."),
        ({"channel": "nope"}, "Channel: Select a valid choice."),
    ],
)
def test_bad_filters_get_a_clear_message_and_no_figures(agent, rolled_up, query, message):
    response = agent.get(DASHBOARD, query)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page.replace("&#x27;", "'")
    assert "Orders and revenue by channel" not in page
    assert agent.get(export_url("channels"), query).status_code == 400


def test_location_filter_shows_what_that_store_fulfilled(agent, rolled_up):
    rows = rows_of(agent.get(export_url("channels"), {"start": TODAY, "end": TODAY, "location": "ST-CAMDEN"}))

    assert [row[:3] for row in rows[1:]] == [["app", "1", "7.25"], ["web", "1", "10.00"]]


@pytest.mark.parametrize("url", [DASHBOARD, LAB, export_url("channels")])
def test_store_staff_are_refused_and_agents_allowed(client, network, url):
    ann = staff_create(
        username="ann", password="pw-ann-12345", role=StaffProfile.Role.STORE_STAFF, store_codes=["ST-SOHO"]
    )
    bob = staff_create(username="bob", password="pw-bob-12345", role=StaffProfile.Role.AGENT)

    assert client.get(url).status_code == 302  # signed out: to the login page
    client.force_login(ann.user)
    assert client.get(url).status_code == 403
    client.force_login(bob.user)
    assert client.get(url).status_code == 200


def test_dashboard_and_export_query_counts_do_not_grow_with_data(agent, rolled_up, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):  # sign-in 3, filter choices 2, headline figures 1, reports 8
        assert agent.get(DASHBOARD).status_code == 200
    with django_assert_max_num_queries(4):
        assert agent.get(export_url("stores")).status_code == 200


def test_lab_compares_the_current_policy_with_a_candidate(agent, rolled_up, django_assert_max_num_queries):
    RoutingPolicyVersion.objects.create(channel=rolled_up.network.web, version=4, data={"allow_ship_from_store": True})
    form = agent.get(LAB).content.decode()
    assert 'name="allow_ship_from_store" id="id_allow_ship_from_store" checked' in form

    candidate = {"run": "1", "start": TODAY, "end": TODAY, "channel": "web", "max_splits": "3", "fallback": "reject"}
    candidate |= {"weight_distance": "1", "weight_priority": "10", "weight_cost": "1", "weight_load": "20"}
    candidate |= {"transfer_lead_hours_warehouse": "48", "transfer_lead_hours_store": "24"}  # stores may not ship
    with django_assert_max_num_queries(16):
        response = agent.get(LAB, candidate)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Current policy: web v4." in page
    measures = {label: (current, candidate) for label, current, candidate in response.context["measures"]}
    assert measures["Orders replayed"] == ("3", "3")
    assert measures["Ship-from-store share"][1] == "0.0%"
    assert measures["Ship-from-store share"][0] != "0.0%"
    load = {code: (now, then) for code, now, then in response.context["comparison"].load}
    assert load["WH-MID"][1] > load["WH-MID"][0]


def test_lab_refuses_a_negative_weight_with_the_field_named(agent, rolled_up):
    response = agent.get(LAB, {"run": "1", "start": TODAY, "end": TODAY, "weight_distance": "-1"})

    assert response.status_code == 400
    assert "Weight: distance (per km): Ensure this value is greater than or equal to 0." in response.content.decode()


def test_lab_runs_store_first_and_warehouse_first_candidates(agent, rolled_up):
    """The store-or-warehouse term is a signed weight in the lab; left out, it weighs nothing."""
    candidate = {"run": "1", "start": TODAY, "end": TODAY, "channel": "web", "max_splits": "3", "fallback": "reject"}
    candidate |= {"weight_distance": "1", "weight_priority": "10", "weight_cost": "1", "weight_load": "20"}
    candidate |= {"allow_ship_from_store": "on", "transfer_lead_hours_warehouse": "48"}
    candidate |= {"transfer_lead_hours_store": "24"}
    share = {}
    for name, weight in (("stores first", "-500"), ("warehouses first", "500")):
        response = agent.get(LAB, {**candidate, "weight_store": weight})
        assert response.status_code == 200
        assert response.context["form"].candidate().weight_store == float(weight)
        measures = {label: (current, then) for label, current, then in response.context["measures"]}
        share[name] = measures["Ship-from-store share"][1]
    assert share["warehouses first"] == "0.0%"
    assert share["stores first"] != "0.0%"
    assert 'name="weight_store"' in agent.get(LAB).content.decode()
