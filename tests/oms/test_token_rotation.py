"""rotate_token: a new token printed once; the old one works until the time given, then is refused."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from inventory.credentials import location_credential_issue
from inventory.models import LocationCredential
from oms.models import ApiToken
from oms.services import api_token_issue
from tests.factories import ChannelFactory


def status_with(token: str, path: str = "/api/v1/orders", method: str = "get") -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    if method == "post":
        return client.post(path, {"mode": "snapshot", "rows": []}, format="json").status_code
    return client.get(path).status_code


def rotate(*args) -> str:
    out = StringIO()
    call_command("rotate_token", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def channel(db):
    return ChannelFactory(code="web")


def test_rotation_prints_a_new_token_and_keeps_the_old_one_until_the_default_24_hours(channel):
    old = api_token_issue(channel=channel)

    output = rotate("web")

    new = output.strip().splitlines()[-1]
    assert new.startswith("oms_") and new != old
    assert status_with(new) == 200 and status_with(old) == 200
    retired = ApiToken.objects.get(prefix=old[:12])
    assert abs(retired.revoked_at - (timezone.now() + timedelta(hours=24))) < timedelta(minutes=1)
    assert ApiToken.objects.get(prefix=new[:12]).revoked_at is None


def test_the_old_token_is_refused_with_401_once_its_time_is_up(channel):
    old = api_token_issue(channel=channel)
    new = rotate("web", "--old-valid-for", "0").strip().splitlines()[-1]
    assert status_with(old) == 401
    assert status_with(new) == 200


def test_until_sets_the_old_tokens_last_moment(channel):
    old = api_token_issue(channel=channel)
    until = timezone.now() + timedelta(hours=2)
    rotate("web", "--until", until.isoformat())
    assert ApiToken.objects.get(prefix=old[:12]).revoked_at == until
    ApiToken.objects.filter(prefix=old[:12]).update(revoked_at=timezone.now() - timedelta(seconds=1))
    assert status_with(old) == 401


def test_rotating_again_never_extends_an_earlier_deadline(channel):
    old = api_token_issue(channel=channel)
    rotate("web", "--old-valid-for", "1h")
    rotate("web", "--old-valid-for", "48h")
    deadline = ApiToken.objects.get(prefix=old[:12]).revoked_at
    assert deadline < timezone.now() + timedelta(hours=2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "Unknown channel nope"),
        (["web", "--old-valid-for", "soon"], "--old-valid-for"),
        (["web", "--until", "tomorrow"], "--until"),
        ([], "Name a channel"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(channel, args, message):
    api_token_issue(channel=channel)
    with pytest.raises(CommandError, match=message):
        rotate(*args)
    assert ApiToken.objects.get().revoked_at is None


def test_a_location_credential_rotates_with_its_scope(network):
    _, old = location_credential_issue(name="soho-tills", location_codes=["ST-SOHO"])

    new = rotate("--credential", "soho-tills", "--old-valid-for", "0").strip().splitlines()[-1]

    assert new.startswith("oml_")
    successor = LocationCredential.objects.get(prefix=new[:12])
    assert list(successor.locations.values_list("code", flat=True)) == ["ST-SOHO"]
    assert status_with(old, "/api/v1/stock-feeds", "post") == 401
    assert status_with(new, "/api/v1/stock-feeds", "post") == 200
