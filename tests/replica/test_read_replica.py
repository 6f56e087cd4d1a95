"""Availability and stock look-ups read from a real PostgreSQL streaming replica; orders never do.

A second PostgreSQL server on this machine is started from a base backup of the test
server and streams its WAL. Pausing its replay makes the replica visibly stale, which
shows exactly which reads it served, and makes its lag grow past the limit, which must
send those reads back to the primary.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from omnichannel.replicas import REPLICA, replica_lag_seconds, replica_state_forget
from oms.services import api_token_issue
from tests.conftest import IN_CI
from tests.orders_support import place

pytestmark = pytest.mark.postgres
REPLICA_PORT = 5433


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed") if IN_CI else pytest.skip(f"no {name}")
    return found[-1]


def _allow_replication() -> None:
    """Let the local superuser stream WAL over loopback, as a replica's primary must (idempotent)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW hba_file")
        hba = Path(cursor.fetchone()[0])
        line = "host replication postgres 127.0.0.1/32 trust"
        if line not in hba.read_text():
            hba.write_text(f"{line}\n{hba.read_text()}")
            cursor.execute("SELECT pg_reload_conf()")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def streaming_replica(django_db_setup, django_db_blocker):
    if _answers(REPLICA_PORT):
        pytest.fail(f"port {REPLICA_PORT} is taken; the replica test starts its own server there")
    with django_db_blocker.unblock():
        _allow_replication()
    home = Path(tempfile.mkdtemp(prefix="oms-replica-"))
    data = home / "data"
    subprocess.run(
        [
            _pg_bin("pg_basebackup"),
            "-h",
            "127.0.0.1",
            "-p",
            "5432",
            "-U",
            "postgres",
            "-D",
            str(data),
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ],
        check=True,
        timeout=300,
    )
    (data / "postgresql.conf").write_text("hot_standby = on\n")
    (data / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
    shutil.chown(home, "postgres")
    subprocess.run(["chown", "-R", "postgres:postgres", str(home)], check=True)
    os.chmod(data, 0o700)
    pg_ctl = [_pg_bin("pg_ctl"), "-D", str(data)]
    options = f"-p {REPLICA_PORT} -c listen_addresses=127.0.0.1 -c unix_socket_directories={home}"
    subprocess.run(
        ["runuser", "-u", "postgres", "--", *pg_ctl, "-o", options, "-l", str(home / "log"), "-w", "start"],
        check=True,
        timeout=120,
    )
    try:
        yield REPLICA_PORT
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", *pg_ctl, "-m", "immediate", "stop"], timeout=60)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def replica(streaming_replica, transactional_db, settings):
    """The ``replica`` alias pointed at the streaming replica of this test database."""
    config = {**connections["default"].settings_dict, "PORT": str(streaming_replica)}
    connections.settings[REPLICA] = config
    settings.OMS_REPLICA_CHECK_SECONDS = 0
    replica_state_forget()
    # Connected here, outside the test case's guard that refuses aliases it was not told of:
    # the guard only stops a connection being opened, and this alias exists only for this test.
    connections[REPLICA].connect()
    try:
        yield connections[REPLICA]
    finally:
        with connections[REPLICA].cursor() as cursor:
            cursor.execute("SELECT pg_wal_replay_resume()")
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]
        replica_state_forget()


def _replica_on_hand(replica, level_id: int) -> int | None:
    with replica.cursor() as cursor:
        cursor.execute("SELECT on_hand FROM inventory_stocklevel WHERE id = %s", [level_id])
        row = cursor.fetchone()
    return row and row[0]


def _caught_up(replica, level_id: int, on_hand: int) -> None:
    deadline = time.monotonic() + 30
    while _replica_on_hand(replica, level_id) != on_hand:
        assert time.monotonic() < deadline, "the replica never caught up"
        time.sleep(0.1)


def _stock_at(api, sku, store) -> int:
    response = api.get("/api/v1/stock", {"sku": sku.code, "location": store.code})
    assert response.status_code == 200, response.content
    [row] = response.json()["locations"]
    return row["on_hand"]


def test_reads_come_from_the_replica_orders_from_the_primary_and_lag_sends_reads_back(replica, network, settings):
    from inventory.models import StockLevel
    from inventory.services import stock_receive

    store, sku = network.soho, network.skus[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(channel=network.web)}")
    stock_receive(sku=sku, location=store, quantity=5, reference="first delivery")
    level = StockLevel.objects.get(sku=sku, location=store)
    _caught_up(replica, level.pk, 5)

    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    stock_receive(sku=sku, location=store, quantity=10, reference="second delivery")  # only the primary has it
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 3600

    # Within the lag limit the stock look-up is served by the (paused) replica: it still says 5.
    assert _stock_at(api, sku, store) == 5
    # Placement reads and reserves on the primary: 12 units exist there, though not on the replica.
    order = place(network, [(sku, 12)])
    assert order.lines.get().quantity == 12
    assert StockLevel.objects.get(pk=level.pk).reserved == 12

    # Once the replica is further behind than the limit, the same look-up reads the primary.
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 0.5
    time.sleep(1.0)
    replica_state_forget()
    assert replica_lag_seconds() > 0.5
    assert _stock_at(api, sku, store) == 15

    # Replay resumes, the replica catches up and serves the look-up again.
    with replica.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    _caught_up(replica, level.pk, 15)
    settings.OMS_REPLICA_MAX_LAG_SECONDS = 5
    replica_state_forget()
    assert _stock_at(api, sku, store) == 15
