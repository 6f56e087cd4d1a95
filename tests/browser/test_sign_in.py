"""Signing in lands each role on its own UI, and store staff cannot open another store."""

from oms.models import StaffProfile


def test_store_staff_land_on_their_store_and_cannot_open_another(page, sign_in, staff_user, store):
    from tests.factories import LocationFactory

    other = LocationFactory(kind="store")
    staff_user("ann", StaffProfile.Role.STORE_STAFF, stores=[store])
    sign_in("ann")
    assert page.url.endswith(f"/store/{store.code}/")
    response = page.goto(f"/store/{other.code}/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Not found").is_visible()


def test_wrong_password_is_refused_with_a_message(page, staff_user):
    staff_user("bob", StaffProfile.Role.AGENT)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password did not match")
    assert "/accounts/login/" in page.url


def test_agent_lands_on_the_back_office(page, sign_in, staff_user):
    staff_user("cat", StaffProfile.Role.AGENT)
    sign_in("cat")
    assert page.url.endswith("/backoffice/")


def test_too_many_wrong_passwords_show_the_lock_out_page(page, sign_in, staff_user, settings):
    from tests.browser.conftest import PASSWORD

    staff_user("dee", StaffProfile.Role.AGENT)
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("dee")
        page.get_by_label("Password").fill(f"guess-{attempt}")
        page.get_by_role("button", name="Sign in").click()

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("dee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    assert page.get_by_role("heading", name="Sign-in locked").is_visible()
    assert "Too many failed sign-ins for dee" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("link", name="Back to sign in").is_visible()
