"""Reads that may be served by a PostgreSQL streaming replica, and the router that sends them there.

Checkout availability, stock look-ups, search and analytics outnumber orders ten to a
hundred to one, and none of them must see the caller's own write. Views that serve them
are wrapped in ``replica_reads``; inside, the router reads from the ``replica`` alias
(configured by ``DATABASE_REPLICA_URL``) while the replica is no further behind than
``OMS_REPLICA_MAX_LAG_SECONDS``, and from the primary otherwise. Everything else —
reservations, placement, every write and every read outside such a view — stays on the
primary, so read-your-own-write never depends on replication.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

REPLICA = "replica"
logger = logging.getLogger(__name__)
_replica_wanted: ContextVar[bool] = ContextVar("replica_wanted", default=False)
# Per process: when the replica's lag was last read and whether it was within the limit.
_state = {"checked_at": float("-inf"), "usable": False}
_state_lock = threading.Lock()

# Seconds the replica is behind: 0 when it has replayed all it received, else the age of
# the last transaction it replayed (so an idle primary does not look like lag).
_LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)


def replica_configured() -> bool:
    return REPLICA in connections.settings


def replica_lag_seconds() -> float:
    """Read how far the replica is behind the primary, in seconds."""
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(_LAG_SQL)
        return float(cursor.fetchone()[0])


def replica_usable() -> bool:
    """Whether reads may go to the replica now; the lag is read at most once per check interval."""
    if not replica_configured():
        return False
    now = time.monotonic()
    with _state_lock:
        if now - _state["checked_at"] < settings.OMS_REPLICA_CHECK_SECONDS:
            return _state["usable"]
        _state["checked_at"] = now
    try:
        usable = replica_lag_seconds() <= settings.OMS_REPLICA_MAX_LAG_SECONDS
    except DatabaseError:
        logger.warning("the read replica does not answer; reading from the primary")
        connections[REPLICA].close()
        usable = False
    _state["usable"] = usable
    return usable


def replica_state_forget() -> None:
    """Read the lag afresh on the next replica read (tests, and after a fail-over)."""
    _state["checked_at"] = float("-inf")


def replica_reads(view):
    """Let the ORM reads of ``view`` come from the replica while it is close enough behind."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = _replica_wanted.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _replica_wanted.reset(token)

    return wrapper


class ReplicaRouter:
    """Send reads inside ``replica_reads`` to the replica when it is usable; everything else to the primary."""

    def db_for_read(self, model, **hints):
        if _replica_wanted.get() and not connections[DEFAULT_DB_ALIAS].in_atomic_block and replica_usable():
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
