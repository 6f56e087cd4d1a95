"""A real Celery worker (and beat) on Redis for tests that must see a job run outside the test process.

The worker runs ``celery -A omnichannel worker`` as a subprocess against the test
database, on a queue of its own so two test runs sharing one Redis never take each
other's tasks. Send it work with ``worker.send(task_name, ...)`` and poll for the
effect with ``worker.wait_for(...)``. With ``beat=True`` a ``celery beat`` process
sends the project's beat schedule to the same queue, so timed jobs run on their own.
The logs are printed when the block fails, so a broken worker explains itself in the
test report.

    with celery_worker() as worker:
        worker.send("inventory.tasks.release_expired_holds")
        worker.wait_for(lambda: hold_is_released(), what="the hold to be released")
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from celery import Celery
from django.db import connection

from tests.conftest import REDIS_URL

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    """The URL of the database this test process is using (the pytest-django test database)."""
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _stop(process: subprocess.Popen, name: str, timeout: float) -> int:
    """Ask for a warm shutdown (finish the current task) and wait; kill only if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise AssertionError(f"the {name} ignored SIGTERM for {timeout:.0f}s and was killed") from None
    return process.returncode


class RunningWorker:
    def __init__(self, process: subprocess.Popen, log_path: Path, queue: str, broker_url: str):
        self.process = process
        self.log_path = log_path
        self.queue = queue
        self.beat: subprocess.Popen | None = None
        self.beat_log_path: Path | None = None
        self.producer = Celery("tests", broker=broker_url, set_as_current=False)
        self.producer.conf.task_default_queue = queue

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def beat_log(self) -> str:
        return self.beat_log_path.read_text(errors="replace") if self.beat_log_path else ""

    def send(self, task_name: str, *args, **kwargs):
        """Queue a task by name for this worker, exactly as beat or a web process would."""
        return self.producer.send_task(task_name, args=args, kwargs=kwargs, queue=self.queue)

    def wait_for(self, condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
        """Poll ``condition`` until it holds; fail naming ``what`` if the worker died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process.poll() is not None:
                raise AssertionError(f"the worker exited ({self.process.returncode}) while waiting for {what}")
            if self.beat is not None and self.beat.poll() is not None:
                raise AssertionError(f"beat exited ({self.beat.returncode}) while waiting for {what}")
            time.sleep(0.2)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")

    def purge(self) -> None:
        with self.producer.connection_for_write() as conn:
            conn.default_channel.queue_purge(self.queue)

    def wait_until_ready(self, timeout: float) -> None:
        # Celery logs "<name> ready." once its consumer is listening on the queue.
        self.wait_for(lambda: " ready." in self.log(), what="the worker to start", timeout=timeout)

    def stop(self, timeout: float) -> int:
        """Stop beat first, so nothing new is queued, then the worker; return the worker's exit code."""
        try:
            if self.beat is not None:
                _stop(self.beat, "beat", timeout)
        finally:
            code = _stop(self.process, "worker", timeout)
        return code


@contextmanager
def celery_worker(
    *,
    env: dict[str, str] | None = None,
    queue: str | None = None,
    broker_url: str = REDIS_URL,
    timeout: float = 30.0,
    beat: bool = False,
) -> Iterator[RunningWorker]:
    """Run a real worker (and, with ``beat``, the beat scheduler) for the block, then stop them cleanly.

    ``env`` overrides the processes' environment (settings read from it). The test must
    use a transactional database (``django_db(transaction=True)``) so the worker sees
    its rows, and must leave the block before the test ends so the test database can
    be dropped. Beat keeps its schedule file in a temporary directory, removed afterwards.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    worker_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "omnichannel.settings_test",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(env or {}),
    }
    log_file = tempfile.NamedTemporaryFile(prefix="celery-worker-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    command = [
        sys.executable, "-m", "celery", "-A", "omnichannel", "worker",
        "--pool=solo", "--loglevel=INFO", f"--queues={queue}", f"--hostname={queue}@%h",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=log_file, stderr=subprocess.STDOUT)
    worker = RunningWorker(process, log_path, queue, broker_url)
    beat_dir = Path(tempfile.mkdtemp(prefix="celery-beat-"))
    try:
        worker.purge()
        worker.wait_until_ready(timeout)
        if beat:
            with tempfile.NamedTemporaryFile(prefix="celery-beat-", suffix=".log", delete=False) as beat_log:
                worker.beat_log_path = Path(beat_log.name)
                worker.beat = subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "omnichannel", "beat", "--loglevel=INFO",
                     f"--schedule={beat_dir / 'schedule'}"],
                    cwd=ROOT, env=worker_env, stdout=beat_log, stderr=subprocess.STDOUT,
                )  # fmt: skip
        yield worker
        worker.stop(timeout)
    except BaseException:
        with suppress(AssertionError):
            worker.stop(timeout)  # close its database connections before the test database is dropped
        sys.stderr.write(f"\n--- celery worker log ({log_path}) ---\n{worker.log()}--- end of worker log ---\n")
        if beat:
            sys.stderr.write(f"--- celery beat log ---\n{worker.beat_log()}--- end of beat log ---\n")
        raise
    finally:
        log_file.close()
        shutil.rmtree(beat_dir, ignore_errors=True)
