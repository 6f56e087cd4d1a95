"""Staff sign-in locks a username at one address after too many wrong passwords, until the cool-off or a reset."""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from oms.models import StaffProfile
from oms.services import staff_create

LOGIN = "/accounts/login/"
PASSWORD = "shelf-stacker-9"


@pytest.fixture
def ann(store):
    return staff_create(username="ann", password=PASSWORD, role=StaffProfile.Role.STORE_STAFF, store_codes=[store.code])


def sign_in(client: Client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def failure_limit() -> int:
    return getattr(settings, "AXES_FAILURE_LIMIT", 5)


def fail_until_locked(client: Client, username: str, address: str = "198.51.100.7"):
    for _ in range(failure_limit()):
        response = sign_in(client, username, "wrong-guess", address)
    return response


def test_right_password_is_refused_after_too_many_wrong_ones(ann):
    client = Client()
    fail_until_locked(client, "ann")

    response = sign_in(client, "ann", PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page and "15 minutes" in page
    assert 'class="topbar"' in page, "the lock-out page has the staff UI's layout"
    assert "_auth_user_id" not in client.session, "a locked-out person is not signed in"


def test_wrong_passwords_below_the_limit_still_let_the_person_in(ann):
    client = Client()
    for _ in range(failure_limit() - 1):
        assert sign_in(client, "ann", "wrong-guess").status_code == 200

    assert sign_in(client, "ann", PASSWORD).status_code == 302


def test_lockout_is_per_username_and_address(ann, store):
    staff_create(username="bo", password=PASSWORD, role=StaffProfile.Role.STORE_STAFF, store_codes=[store.code])
    fail_until_locked(Client(), "ann")

    assert sign_in(Client(), "bo", PASSWORD).status_code == 302, "a colleague at the same till still signs in"
    assert sign_in(Client(), "ann", PASSWORD, address="192.0.2.44").status_code == 302, "ann from another address"
    assert sign_in(Client(), "ann", PASSWORD).status_code == 429


def test_admin_sees_the_lockout_and_a_reset_lets_the_person_in(ann, django_user_model):
    fail_until_locked(Client(), "ann")
    admin = django_user_model.objects.create_superuser("root", "root@example.com", "pw-root-12345")
    admin_client = Client()
    admin_client.force_login(admin)

    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "ann" in listing.content.decode()

    call_command("axes_reset_username", "ann")

    assert sign_in(Client(), "ann", PASSWORD).status_code == 302


def test_the_cool_off_ends_the_lockout(ann, settings):
    from datetime import timedelta

    from axes.models import AccessAttempt

    fail_until_locked(Client(), "ann")
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))

    assert sign_in(Client(), "ann", PASSWORD).status_code == 302


def test_django_admin_sign_in_still_works(db):
    get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-12345")

    response = Client().post(
        "/admin/login/?next=/admin/", {"username": "root", "password": "pw-root-12345"}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 302 and response.url == "/admin/"


def test_behind_a_proxy_the_forwarded_address_counts(ann, settings):
    settings.OMS_TRUSTED_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for _ in range(failure_limit()):
        Client().post(LOGIN, {"username": "ann", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)

    elsewhere = Client().post(
        LOGIN, {"username": "ann", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.20", **proxy
    )
    spoofed = Client().post(
        LOGIN, {"username": "ann", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5", **proxy
    )

    assert elsewhere.status_code == 302, "another shop behind the same proxy is not locked out"
    assert spoofed.status_code == 429, "an address the client made up in front of the proxy's changes nothing"


def test_without_a_trusted_proxy_a_forwarded_header_changes_nothing(ann):
    fail_until_locked(Client(), "ann")

    response = Client().post(
        LOGIN, {"username": "ann", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="192.0.2.99", REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 429
