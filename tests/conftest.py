"""Shared fixtures and the rules for tests that need real services.

Tests marked ``postgres`` run only when the suite runs on PostgreSQL (tests/run.py runs
it there too); tests marked ``broker`` need Redis. Locally both skip with a reason; with
CI=true a missing service fails the run instead.
"""

import os
import socket

import pytest
from django.db import connection

from tests.factories import ChannelFactory, LocationFactory, SkuFactory

pytest_plugins = ["tests.orders_support", "tests.order_life_support"]

IN_CI = os.environ.get("CI", "").lower() == "true"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass of tests/run.py")
    if item.get_closest_marker("broker") and not _redis_answers():
        if IN_CI:
            pytest.fail("Redis is not answering on 127.0.0.1:6379 and CI=true requires the real-broker tests")
        pytest.skip("needs Redis on 127.0.0.1:6379")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Counters kept in the cache (API rate limit, pickup-code misses) start from zero in every test."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def store_staff_client(store, username: str = "sam"):
    """A test client signed in as store staff of ``store`` only."""
    from django.test import Client

    from oms.models import StaffProfile
    from oms.services import staff_create

    user = staff_create(
        username=username, password="pw-123456789", role=StaffProfile.Role.STORE_STAFF, store_codes=[store.code]
    ).user
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def sku(db):
    return SkuFactory()


@pytest.fixture
def store(db):
    return LocationFactory(kind="store", ships=True, pickup=True, accepts_returns=True)


@pytest.fixture
def warehouse(db):
    return LocationFactory(kind="warehouse", ships=True, lat=52.2, lon=-1.2)


@pytest.fixture
def channel(db):
    return ChannelFactory()
