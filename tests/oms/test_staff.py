"""create_staff: people with a role, store staff bound to their stores; bad input creates nobody."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from oms.access import role_of, stores_of
from oms.models import StaffProfile

User = get_user_model()


def test_store_staff_are_bound_to_the_stores_named(store):
    from tests.factories import LocationFactory

    second = LocationFactory(kind="store")
    call_command(
        "create_staff",
        "ann",
        "--password",
        "shelf-stacker-9",
        "--role",
        "store_staff",
        "--store",
        store.code,
        second.code,
    )
    ann = User.objects.get(username="ann")
    assert role_of(ann) == "store_staff"
    assert {s.code for s in stores_of(ann)} == {store.code, second.code}
    assert ann.check_password("shelf-stacker-9")
    assert not ann.is_staff, "store staff have no back-office or API-wide access"


def test_agents_get_back_office_access_and_no_stores(db):
    call_command("create_staff", "cat", "--password", "call-centre-77", "--role", "agent")
    cat = User.objects.get(username="cat")
    assert role_of(cat) == "agent" and cat.is_staff and not cat.is_superuser
    assert not stores_of(cat).exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "store_staff"], "Store staff need at least one store"),
        (["--role", "store_staff", "--store", "NOPE"], "Unknown or inactive location: NOPE"),
        (["--role", "agent", "--store", "{store}"], "Only store staff are bound to stores"),
        (["--role", "agent", "--password", "password"], "Password refused"),
    ],
)
def test_bad_input_is_refused_and_creates_nobody(store, args, message):
    args = [a.format(store=store.code) for a in args]
    if "--password" not in args:
        args += ["--password", "long-enough-pass-1"]
    with pytest.raises(CommandError, match=message):
        call_command("create_staff", "dan", *args)
    assert not User.objects.filter(username="dan").exists()
    assert not StaffProfile.objects.exists()


def test_a_username_is_taken_once(db):
    call_command("create_staff", "eve", "--password", "call-centre-77", "--role", "supervisor")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_staff", "eve", "--password", "call-centre-77", "--role", "agent")
    assert role_of(User.objects.get(username="eve")) == "supervisor"
