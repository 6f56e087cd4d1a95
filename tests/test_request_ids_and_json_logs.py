"""Every request carries an id, in its answer and in every log line; logs can be JSON lines."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_a_request_keeps_the_load_balancers_id_or_gets_a_new_one():
    client = Client()
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-42.a")["X-Request-ID"] == "lb-42.a"
    made = client.get("/healthz", HTTP_X_REQUEST_ID="not an id; DROP TABLE")["X-Request-ID"]
    assert len(made) == 32 and made.isalnum()


def test_json_logs_are_one_object_per_line_with_the_request_id():
    script = (
        "import django; django.setup();"
        "from django.test import Client;"
        "Client(HTTP_HOST='localhost').get('/no-such-page', HTTP_X_REQUEST_ID='req-123')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "omnichannel.settings_test", "LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert done.returncode == 0, done.stderr
    [not_found] = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["request_id"] == "req-123"
    assert not_found["level"] == "WARNING" and "/no-such-page" in not_found["message"]
