"""A supervisor exports and erases a customer's data from the customer page; an agent sees neither button.

With DOCS_SCREENSHOTS=1 the tests also refresh the screenshots in docs/screenshots/.
"""

import json

from oms.models import Customer, CustomerAccess, StaffProfile
from tests.browser.test_backoffice import document
from tests.privacy.support import PERSON, person_with_history

Role = StaffProfile.Role


def test_a_supervisor_exports_then_erases_a_customer(page, sign_in, staff_user, network):
    customer, first, second = person_with_history(network)
    staff_user("sue", Role.SUPERVISOR)
    sign_in("sue")
    page.goto(f"/backoffice/customers/{customer.pk}/")
    rights = page.get_by_role("region", name="Data rights")
    assert rights.is_visible()
    document(page, "backoffice-customer-data-rights.png")
    with page.expect_download() as download:
        rights.get_by_role("link", name="Export customer data (JSON)").click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["customer"]["email"] == PERSON["email"]
    assert {o["number"] for o in exported["orders"]} == {first.number, second.number}

    rights.get_by_role("link", name="Erase personal data…").click()
    assert page.get_by_role("heading", name="What will be anonymised").is_visible()
    assert page.get_by_text("This cannot be undone.").is_visible()
    page.get_by_label("Why").fill("DSAR ticket 4411")
    document(page, "backoffice-customer-erase.png")
    page.get_by_role("button", name="Erase personal data").click()
    page.wait_for_load_state()
    assert page.get_by_text("The customer's personal data has been erased").is_visible()
    assert PERSON["email"] not in page.content()
    customer.refresh_from_db()
    assert customer.email is None and customer.erased_at
    assert CustomerAccess.objects.filter(customer=customer, action="erased", actor__username="sue").exists()


def test_an_agent_sees_no_export_or_erase_button(page, sign_in, staff_user, network):
    customer, *_ = person_with_history(network)
    staff_user("ann", Role.AGENT)
    sign_in("ann")
    page.goto(f"/backoffice/customers/{customer.pk}/")
    assert page.get_by_role("heading", name=PERSON["name"]).is_visible()
    assert page.get_by_role("region", name="Data rights").count() == 0
    assert page.get_by_role("link", name="Export customer data (JSON)").count() == 0
    response = page.goto(f"/backoffice/customers/{customer.pk}/erase/")
    assert response.status == 403
    assert Customer.objects.get(pk=customer.pk).email == PERSON["email"]
