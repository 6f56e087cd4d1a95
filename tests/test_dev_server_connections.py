"""The development server (and so the demo) closes each request's database connection.

runserver answers every request on a new thread; a persistent connection per finished
thread would pile up until PostgreSQL's max_connections refuses everyone.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = 30  # enough to show a pile-up, few enough not to starve other users of the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": "Token not-a-real-token"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def server_connections(app_name: str) -> int:
    params = connection.get_connection_params()
    with psycopg2.connect(**{**params, "dbname": "postgres"}) as admin, admin.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [app_name])
        return cur.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_dev_server_does_not_keep_a_connection_per_request(tmp_path):
    app_name = f"oms-runserver-{uuid.uuid4().hex[:8]}"
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "omnichannel.settings_test",
        "DATABASE_URL": url,
        # Asked for persistent connections, as in production: the development server still must not keep them.
        "DATABASE_CONN_MAX_AGE": "60",
        "PGAPPNAME": app_name,
        "OMS_VAR_DIR": str(tmp_path),
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.2)

        statuses = {get(f"http://127.0.0.1:{port}/api/v1/availability") for _ in range(REQUESTS)}
        assert statuses == {401}, "each request looked its token up in the database"
        time.sleep(1)

        assert server_connections(app_name) <= 2, "finished requests left their connections open"
    finally:
        server.terminate()
        server.wait(timeout=20)
