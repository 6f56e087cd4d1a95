"""Production settings: no start without a real key, a clean deploy check, counters every process shares.

Each check runs the real settings in a fresh interpreter, as gunicorn, manage.py and Celery do.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.errors import InvalidInput
from fulfilment.models import Fulfilment
from fulfilment.pickups import pickup_code_check

ROOT = Path(__file__).resolve().parent.parent
# The documented production settings (docs/configuration.md), with nothing else set.
PRODUCTION_ENV = {
    "SECRET_KEY": "k3y-Zq7!pL0x@Wn9#vB2$Rt6%Yh4^Jm8&Cs1*Fd5(Gk3)Ue7-Ia0+Ob9=Xe2",
    "ALLOWED_HOSTS": "oms.example.com",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def run_python(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    """Run Python in the project with only ``env`` on top of a neutral environment."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "SECRET_", "DEBUG", "SECURE_", "CACHE_", "ALLOWED_HOSTS", "OMS_"))
    }
    full = {**base, "DJANGO_SETTINGS_MODULE": "omnichannel.settings", "OMS_VAR_DIR": str(tmp_path), **env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["manage.py", "check"], id="manage.py"),
        pytest.param(["-c", "import omnichannel.wsgi"], id="gunicorn-app"),
        pytest.param(["-c", "from omnichannel.celery import app; app.loader.import_default_modules()"], id="celery"),
    ],
)
def test_production_refuses_to_start_without_a_secret_key(tmp_path, args):
    result = run_python(args, {}, tmp_path)

    assert result.returncode != 0, "started without SECRET_KEY: every signed request would be a 500"
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr and "DEBUG" in result.stderr, result.stderr[-2000:]


def test_checking_for_missing_migrations_needs_no_production_secrets(tmp_path):
    result = run_python(["manage.py", "makemigrations", "--check", "--dry-run"], {}, tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "No changes detected" in result.stdout


def test_production_refuses_the_development_key(tmp_path):
    result = run_python(["manage.py", "check"], {"SECRET_KEY": "dev-only-insecure-secret-key"}, tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_a_shared_cache(tmp_path):
    """Each web process counting in its own memory would allow the API rate and the pickup-code misses again."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "CACHE_URL"}

    result = run_python(["manage.py", "check"], env, tmp_path)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "CACHE_URL" in result.stderr, result.stderr[-2000:]


def test_development_runs_without_a_key(tmp_path):
    result = run_python(["manage.py", "check"], {"DEBUG": "1"}, tmp_path)

    assert result.returncode == 0, result.stderr[-2000:]


def test_deploy_check_is_clean_with_the_documented_production_settings(tmp_path):
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], PRODUCTION_ENV, tmp_path)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "no issues" in result.stdout


def test_production_turns_on_hsts_redirect_and_secure_cookies(tmp_path):
    code = textwrap.dedent(
        """
        import django; django.setup()
        from django.conf import settings as s
        print(s.SECURE_HSTS_SECONDS, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE,
              s.SECURE_PROXY_SSL_HEADER)
        """
    )
    default = run_python(["-c", code], PRODUCTION_ENV, tmp_path)
    tuned = run_python(
        ["-c", code],
        {**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "600", "SECURE_SSL_REDIRECT": "0", "SECURE_PROXY_SSL_HEADER": ""},
        tmp_path,
    )

    assert default.stdout.split() == ["31536000", "True", "True", "True", "('HTTP_X_FORWARDED_PROTO',", "'https')"]
    assert tuned.stdout.split() == ["600", "False", "True", "True", "None"]


SHARED_COUNTERS = """
import django; django.setup()
from django.conf import settings
from rest_framework.test import APIRequestFactory
from rest_framework.request import Request
from fulfilment.models import Fulfilment
from fulfilment.pickups import pickup_code_check
from core.errors import InvalidInput
from omnichannel.api.auth import TokenRateThrottle

request = Request(APIRequestFactory().get("/api/v1/availability", REMOTE_ADDR="203.0.113.9"))
allowed = [TokenRateThrottle().allow_request(request, None) for _ in range(3)]
parcel = Fulfilment(pk=987654, pickup_code="123456")
for _ in range(settings.OMS_PICKUP_CODE_MAX_MISSES):
    try:
        pickup_code_check(parcel, "000000")
    except InvalidInput:
        pass
print(allowed)
"""


def test_rate_limit_and_pickup_misses_are_counted_across_processes(tmp_path, settings):
    """Another web process's requests and wrong codes count here too (as with gunicorn's workers)."""
    settings.OMS_API_RATE = "3/min"
    env = {
        k: v for k, v in os.environ.items() if k in {"OMS_VAR_DIR", "CACHE_URL", "DATABASE_URL"}
    }  # the test process's cache
    result = subprocess.run(
        [sys.executable, "-c", SHARED_COUNTERS],
        cwd=ROOT,
        env={**os.environ, **env, "DJANGO_SETTINGS_MODULE": "omnichannel.settings_test", "OMS_API_RATE": "3/min"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split() == ["[True,", "True,", "True]"]

    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from omnichannel.api.auth import TokenRateThrottle

    request = Request(APIRequestFactory().get("/api/v1/availability", REMOTE_ADDR="203.0.113.9"))
    assert not TokenRateThrottle().allow_request(request, None), "the other process's 3 requests were not counted"
    with pytest.raises(InvalidInput, match="Too many wrong pickup codes"):
        pickup_code_check(Fulfilment(pk=987654, pickup_code="123456"), "123456")


def test_database_connections_are_kept_only_when_asked_and_never_under_runserver(tmp_path):
    code = textwrap.dedent(
        """
        import sys; sys.argv[1:] = sys.argv[2:]
        import django; django.setup()
        from django.conf import settings
        db = settings.DATABASES["default"]
        print(db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"])
        """
    )
    env = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://oms@db.internal:5432/oms"}

    default = run_python(["-c", code, "--", "gunicorn"], env, tmp_path)
    kept = run_python(["-c", code, "--", "gunicorn"], {**env, "DATABASE_CONN_MAX_AGE": "60"}, tmp_path)
    dev_server = run_python(["-c", code, "--", "runserver"], {**env, "DATABASE_CONN_MAX_AGE": "60"}, tmp_path)

    assert default.stdout.split() == ["0", "True"], default.stderr[-2000:]
    assert kept.stdout.split() == ["60", "True"]
    assert dev_server.stdout.split() == ["0", "True"]
