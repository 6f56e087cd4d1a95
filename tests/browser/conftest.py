"""Real-browser tests: Playwright drives Debian's chromium against the live test server.

Every test here is marked ``browser``. Without chromium the tests skip with a reason
locally and fail under CI=true (.ci/run installs it). Each test leaves a full-page
screenshot in artifacts/screenshots/<test>.png, pass or fail, for a person to look at.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

import pytest

from oms.models import StaffProfile
from oms.services import staff_create
from tests.conftest import IN_CI

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# to arrange and check data are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "browser-test-pass-42"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def seeded_reference_data(transactional_db):
    """Put back the rows data migrations seed (return reasons): a live-server test flushes tables after itself."""
    from django.apps import apps

    importlib.import_module("returns.migrations.0002_default_return_reasons").add_reasons(apps, None)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"chromium not found at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(request, browser, live_server):
    """A fresh browser context on the live server, tablet-sized; screenshot kept afterwards."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    finally:
        context.close()


@pytest.fixture
def staff_user(transactional_db):
    """Make a person with a role (and stores for store staff); they sign in with PASSWORD."""

    def make(username: str, role: str, stores=()):
        return staff_create(username=username, password=PASSWORD, role=role, store_codes=[s.code for s in stores]).user

    return make


@pytest.fixture
def sign_in(page):
    """Sign in through the real login form; lands on the person's start page."""

    def do(username: str) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()

    return do


@pytest.fixture
def soho_staff(network, staff_user, sign_in):
    """Signed in as a member of staff of the Soho store."""
    staff_user("sam", StaffProfile.Role.STORE_STAFF, stores=[network.soho])
    sign_in("sam")
    return network.soho
