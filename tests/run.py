"""Run the whole suite twice: on SQLite, then on PostgreSQL, where the concurrency tests live.

PostgreSQL is taken from TEST_DATABASE_URL (default: the local server, trust auth).
When it does not answer, the PostgreSQL pass is skipped with a reason locally and fails
the run under CI=true. Extra arguments go to pytest. Exit status is non-zero if any pass failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/oms")
IN_CI = os.environ.get("CI", "").lower() == "true"


def postgres_answers() -> str | None:
    """Return None when PostgreSQL accepts a connection, else the reason it does not."""
    import psycopg2

    try:
        psycopg2.connect(PG_URL.rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
    except psycopg2.OperationalError as exc:
        return str(exc).strip().splitlines()[0]
    return None


def run_pass(name: str, database_url: str | None, extra: list[str]) -> tuple[int, dict[str, int]]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    if database_url:
        env["DATABASE_URL"] = database_url
    report = ARTIFACTS / f"junit-{name}.xml"
    print(f"\n=== {name} pass ===", flush=True)
    cmd = [sys.executable, "-m", "pytest", f"--junitxml={report}", *extra]
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    if report.exists():
        suite = ET.parse(report).getroot().find("testsuite")
        tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
        counts = {"passed": tests - failures - errors - skipped, "failed": failures + errors, "skipped": skipped}
    return code, counts


def main() -> int:
    ARTIFACTS.mkdir(exist_ok=True)
    extra = sys.argv[1:]
    results = [("sqlite", *run_pass("sqlite", None, extra))]
    reason = postgres_answers()
    if reason is None:
        results.append(("postgresql", *run_pass("postgresql", PG_URL, extra)))
    elif IN_CI:
        print(f"PostgreSQL pass FAILED to start: {reason}", file=sys.stderr)
        results.append(("postgresql", 1, {"passed": 0, "failed": 1, "skipped": 0}))
    else:
        print(f"\nPostgreSQL pass SKIPPED: {PG_URL} does not answer ({reason})")
    failed = False
    print()
    for name, code, counts in results:
        # pytest exits 5 when nothing was collected: a pass that ran no test is a failure here.
        failed |= code != 0
        print(
            f"{name}: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped (exit {code})"
        )
    total = {k: sum(c[k] for _, _, c in results) for k in ("passed", "failed", "skipped")}
    if failed and total["failed"] == 0:
        total["failed"] = 1
    print(f"total: {total['passed']} passed, {total['failed']} failed, {total['skipped']} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
