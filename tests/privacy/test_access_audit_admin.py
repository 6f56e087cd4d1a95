"""The data-access audit is visible to admins in the Django admin, read-only, and to no one else."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from oms.identity import customer_resolve
from oms.models import CustomerAccess, StaffProfile
from oms.services import staff_create

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/oms/customeraccess/"


@pytest.fixture
def viewed(client):
    customer = customer_resolve(email="zoe@example.com", name="Zoe Lee")
    agent = staff_create(username="ann", password="agent-pass-1234", role=StaffProfile.Role.AGENT).user
    client.force_login(agent)
    client.get(reverse("backoffice:customer", args=[customer.pk]))
    return customer, agent


def test_an_admin_reads_who_viewed_which_customer_and_cannot_change_it(client, viewed):
    customer, agent = viewed
    access = CustomerAccess.objects.get()
    assert (access.customer, access.actor, access.action) == (customer, agent, "viewed")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get(CHANGELIST).content.decode()
    assert "ann" in page and "viewed" in page and f"#{customer.pk}" in page
    assert "Zoe Lee" not in page and "zoe@example.com" not in page  # the audit shows no personal data
    detail = client.get(f"{CHANGELIST}{access.pk}/change/")
    assert detail.status_code == 200 and 'name="_save"' not in detail.content.decode()
    assert client.post(f"{CHANGELIST}{access.pk}/delete/", {"post": "yes"}).status_code == 403
    assert CustomerAccess.objects.count() == 1


def test_supervisors_do_not_see_the_audit(client, viewed):
    boss = staff_create(username="sue", password="boss-pass-12345", role=StaffProfile.Role.SUPERVISOR).user
    client.force_login(boss)
    assert client.get(CHANGELIST).status_code in (302, 403)
