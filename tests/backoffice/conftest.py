import pytest

from oms.models import StaffProfile
from oms.services import staff_create

Role = StaffProfile.Role


@pytest.fixture
def login(client, db):
    """Sign the test client in as a new person with ``role``; returns the user."""

    def do(role: str, username: str | None = None, stores=()):
        user = staff_create(
            username=username or role, password="a-long-test-pass-42", role=role, store_codes=[s.code for s in stores]
        ).user
        client.force_login(user)
        return user

    return do
