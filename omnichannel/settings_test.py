"""Settings for the test suite: the production settings with a throwaway key and fast hashing."""

import os
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
# The test client and the browser tests' live server speak plain http.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Shared by the test process and the workers and servers a test starts, apart from the demo's.
_var = Path(os.environ.get("OMS_VAR_DIR", Path(__file__).resolve().parent.parent / "var")).resolve()
os.environ.setdefault("CACHE_URL", f"file://{_var / 'test-cache'}")

from .settings import *  # noqa: E402,F403
from .settings import env_bool  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run in the test process unless a test starts a real worker and beat
# (tests/celery_worker.py), which turn this off and get a queue of their own.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", True)
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
