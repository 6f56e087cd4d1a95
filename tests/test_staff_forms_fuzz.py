"""Every staff page's forms, submitted with hostile values by every role, never give a server error.

Runs the retailer's form fuzzer (``shared/tools/form_fuzz.py`` beside the repository) against
the live test server on a small demo network: it signs in, crawls and posts every form it
finds with values such as ``99999999999999999999``, ``1e308``, ``NaN`` and 5,000 characters.
"""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.conftest import IN_CI

FUZZER = Path(__file__).resolve().parents[2] / "shared" / "tools" / "form_fuzz.py"
ROLES = [
    ("store", "demo-store", "/store/"),
    ("agent", "demo-agent", "/backoffice/"),
    ("supervisor", "demo-supervisor", "/backoffice/"),
    ("admin", "admin", "/admin/"),
]


@pytest.fixture
def demo_site(live_server, transactional_db, settings):
    from django.apps import apps

    # The fuzzer signs in over plain http, as a person on the demo does.
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = settings.SECURE_SSL_REDIRECT = False

    from omnichannel.management.commands.demo import Command as Demo

    importlib.import_module("returns.migrations.0002_default_return_reasons").add_reasons(apps, None)
    call_command("generate_demo_data", "--stores", "6", "--skus", "20", "--orders", "25", stdout=io.StringIO())
    Demo()._ensure_logins()
    return live_server.url


@pytest.mark.parametrize(("user", "password", "start"), ROLES, ids=[r[0] for r in ROLES])
def test_hostile_form_values_never_give_a_server_error(demo_site, user, password, start):
    if not FUZZER.exists():
        if IN_CI:
            pytest.fail(f"{FUZZER} is missing: CI runs with shared/ beside the repository")
        pytest.skip(f"{FUZZER} is missing")
    result = subprocess.run(
        [
            sys.executable,
            str(FUZZER),
            demo_site,
            "--user",
            user,
            "--password",
            password,
            "--start",
            start,
            "--max-pages",
            "60",
            "--max-posts",
            "400",
            "--seed",
            "7",
            "--skip",
            "logout,signout,delete",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
