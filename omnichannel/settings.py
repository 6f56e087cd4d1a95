"""Settings read from the environment (every variable is described in docs/configuration.md).

Unset DATABASE_URL means an SQLite file under var/; unset CELERY_BROKER_URL means the
embedded file-system broker, so the demo needs no server. With DEBUG off the settings
refuse to load without a real SECRET_KEY or a shared cache (CACHE_URL), and turn on the
HTTPS redirect, HSTS and secure cookies.
"""

import os
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Commands that only read the code (never sign, cache or serve) run without production secrets,
# so a developer's or a hook's `makemigrations --check` needs no key.
CODE_ONLY_COMMAND = sys.argv[1:2] in (["makemigrations"], ["showmigrations"])
_DEV_SECRET = "dev-only-insecure-secret-key"
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or (_DEV_SECRET if DEBUG or CODE_ONLY_COMMAND else "")
# Refused here rather than on the first signed request, so gunicorn, manage.py and Celery
# all stop at start with this message instead of answering every request with a 500.
if not DEBUG and not CODE_ONLY_COMMAND and SECRET_KEY in {"", _DEV_SECRET}:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG off the OMS needs a secret key of its own to sign sessions, "
        "CSRF tokens and password resets: set SECRET_KEY to a long random value (for example the output of "
        "`python -c 'from django.core.management.utils import get_random_secret_key as k; print(k())'`), "
        "or set DEBUG=1 for development."
    )
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
if DEBUG:
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "omnichannel.apps.OmsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "inventory",
    "oms",
    "fulfilment",
    "returns",
    # Last: project-wide commands (demo, generate_demo_data) that span every app.
    "omnichannel",
]

MIDDLEWARE = [
    "omnichannel.ops.request_ids.RequestIdMiddleware",
    "omnichannel.ops.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "omnichannel.urls"
WSGI_APPLICATION = "omnichannel.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_SQLITE_URL = f"sqlite:///{VAR_DIR / 'oms.sqlite3'}"
# The development server answers each request on a new thread: a persistent connection per
# finished thread piles up until PostgreSQL refuses everyone, so it never keeps one.
RUNNING_DEV_SERVER = sys.argv[1:2] == ["runserver"]
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or _SQLITE_URL,
        conn_max_age=0 if RUNNING_DEV_SERVER else int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in the demo: WAL lets readers run beside the
    # writer and IMMEDIATE transactions queue writers instead of failing on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# A PostgreSQL streaming replica for the reads that dominate (availability, stock look-ups,
# search, analytics): see omnichannel/replicas.py for which reads go there and when not.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
        test_options={"MIRROR": "default"},
    )
DATABASE_ROUTERS = ["omnichannel.replicas.ReplicaRouter"]
# Reads fall back to the primary while the replica is further behind than this.
OMS_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("OMS_REPLICA_MAX_LAG_SECONDS", "5"))
# How often each process reads the replica's lag (one small query at most this often).
OMS_REPLICA_CHECK_SECONDS = float(os.environ.get("OMS_REPLICA_CHECK_SECONDS", "1"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Wrong passwords in a row for one username from one address before that pair is locked out,
# and for how long after the last failure; a right password below the limit clears the count.
AXES_FAILURE_LIMIT = int(os.environ.get("OMS_SIGN_IN_MAX_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=float(os.environ.get("OMS_SIGN_IN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "omnichannel.sign_in.sign_in_locked"
# Proxies in front of the web processes that append the client's address to X-Forwarded-For.
OMS_TRUSTED_PROXIES = int(os.environ.get("OMS_TRUSTED_PROXIES", "0"))
AXES_CLIENT_IP_CALLABLE = "omnichannel.sign_in.client_address"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    # The OMS runs on a host of its own; its subdomains are its own too. Preload takes effect
    # only once the domain's owner submits the domain to the browsers' list.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The header a TLS-terminating proxy sets (and strips from clients); empty when gunicorn
    # itself faces the internet, where trusting it would let a client claim https.
    _proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto").strip()
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "omnichannel.api.auth.ChannelTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["omnichannel.api.auth.IsChannelOrStaff"],
    "DEFAULT_THROTTLE_CLASSES": ["omnichannel.api.auth.TokenRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["omnichannel.api.parsers.BoundedJSONParser"],
    "EXCEPTION_HANDLER": "omnichannel.api.errors.problem_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Omnichannel OMS API",
    "DESCRIPTION": "Availability, orders, fulfilment, returns and stock for channel systems. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "omnichannel.api.schema.add_problem_responses",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "oms.models.Order.Status",
        "OrderMethodEnum": "oms.models.Order.Method",
        "PaymentStatusEnum": "oms.models.Order.PaymentStatus",
        "FulfilmentStatusEnum": "fulfilment.models.Fulfilment.Status",
        "FulfilmentMethodEnum": "fulfilment.models.Fulfilment.Method",
        "ReturnStatusEnum": "returns.models.Return.Status",
        "InboundStatusEnum": "inventory.models.InboundSupply.Status",
    },
}
# Requests per token (or staff user) and period, counted in the shared cache below.
OMS_API_RATE = os.environ.get("OMS_API_RATE", "600/min")
# Wrong pickup codes in a row before a parcel takes no code, and for how long after the last one.
OMS_PICKUP_CODE_MAX_MISSES = int(os.environ.get("OMS_PICKUP_CODE_MAX_MISSES", "5"))
OMS_PICKUP_CODE_LOCK_MINUTES = float(os.environ.get("OMS_PICKUP_CODE_LOCK_MINUTES", "15"))
# The API rate limit and the pickup-code lock count in the cache, which every process must
# share or each gunicorn worker allows the whole limit again. CACHE_URL=redis://… is shared by
# every host; file:///dir by the processes of one host (every write lists the folder, a few
# ms a request). Unset, development and the demo use files under var/; production refuses to
# start, as a per-process cache would quietly multiply the limits. Not the database cache: a
# pickup-code miss counts inside the refused operation's transaction and would roll back.


def cache_from_url(url: str) -> dict:
    """Return the CACHES entry for a CACHE_URL."""
    scheme, _, rest = url.partition("://")
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "file" and rest.startswith("/"):
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": rest,
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    raise ImproperlyConfigured(f"CACHE_URL {url!r} is not redis://…, rediss://… or file:///absolute/folder.")


_CACHE_URL = os.environ.get("CACHE_URL", "").strip()
if not _CACHE_URL and not DEBUG and not CODE_ONLY_COMMAND:
    raise ImproperlyConfigured(
        "CACHE_URL is not set. With DEBUG off the API rate limit and the pickup-code lock must be counted in a "
        "cache every web process shares: set CACHE_URL=redis://host:6379/1 (shared by every host), or "
        "CACHE_URL=file:///var/lib/oms/cache for the processes of a single host."
    )
CACHES = {"default": cache_from_url(_CACHE_URL or f"file://{VAR_DIR / 'cache'}")}
OMS_IDEMPOTENCY_TTL_HOURS = float(os.environ.get("OMS_IDEMPOTENCY_TTL_HOURS", "24"))
# Request bodies above this are refused with 413; large stock files go through import_stock.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("OMS_API_MAX_BODY_BYTES", str(10 * 1024 * 1024)))

# Celery: the embedded broker is kombu's file-system transport under var/broker.
_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL == "filesystem://":
    for sub in ("out", "processed", "control"):
        (_BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "out"),
        "data_folder_out": str(_BROKER_DIR / "out"),
        "processed_folder": str(_BROKER_DIR / "processed"),
        "control_folder": str(_BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# One interval for every timed job: each is idempotent and cheap when there is nothing to do.
OMS_BEAT_INTERVAL_SECONDS = float(os.environ.get("OMS_BEAT_INTERVAL_SECONDS", "30"))
CELERY_BEAT_SCHEDULE = {
    name: {"task": task, "schedule": OMS_BEAT_INTERVAL_SECONDS}
    for name, task in {
        "release-expired-holds": "inventory.tasks.release_expired_holds",
        "remind-pickups": "fulfilment.tasks.remind_pickups",
        "expire-pickups": "fulfilment.tasks.expire_pickups",
        "reroute-unaccepted-work": "fulfilment.tasks.reroute_unaccepted_work",
        "remind-deadlines": "fulfilment.tasks.remind_deadlines",
        "fill-backorders": "fulfilment.tasks.fill_backorders",
        "expire-unpaid-orders": "oms.tasks.expire_unpaid_orders",
        "release-due-holds": "oms.tasks.release_due_holds",
        "expire-idempotency-keys": "oms.tasks.expire_idempotency_keys",
        "deliver-webhooks": "oms.outbox.deliver_webhooks",
        "rollup-analytics": "omnichannel.analytics.tasks.rollup_analytics",
        "publish-availability": "oms.tasks.publish_availability",
        "checkpoint-ledger": "inventory.tasks.checkpoint_ledger",
        "anonymise-finished-orders": "omnichannel.privacy.tasks.anonymise_finished_orders",
    }.items()
}
# A ledger checkpoint leaves out the newest movements for this long: a transaction still open
# may yet commit a movement numbered among them (see inventory/ledger.py).
OMS_LEDGER_SETTLE_SECONDS = float(os.environ.get("OMS_LEDGER_SETTLE_SECONDS", "600"))

# LOG_FORMAT=json writes one JSON object per line (for log shippers); every line carries the
# id of the request it belongs to. Personal data is never logged (docs/decisions.md).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "omnichannel.ops.request_ids.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Sign-in failures and lock-outs are logged; django-axes' banner at every start is not.
    "loggers": {"axes.apps": {"level": "WARNING"}},
}

# Business settings (documented in docs/configuration.md).
OMS_DEFAULT_HOLD_TTL_MINUTES = int(os.environ.get("OMS_DEFAULT_HOLD_TTL_MINUTES", "15"))
OMS_PLACES_FILE = BASE_DIR / "omnichannel" / "data" / "cities.csv"
OMS_PICKUP_REMINDER_HOURS = float(os.environ.get("OMS_PICKUP_REMINDER_HOURS", "24"))
OMS_PICKUP_EXPIRY_DAYS = float(os.environ.get("OMS_PICKUP_EXPIRY_DAYS", "7"))
# Minutes of opening hours a store has to accept new work, per fulfilment method (0: no deadline).
OMS_ACCEPT_MINUTES = {
    "ship_from_store": float(os.environ.get("OMS_ACCEPT_MINUTES_SHIP_FROM_STORE", "120")),
    "click_and_collect": float(os.environ.get("OMS_ACCEPT_MINUTES_CLICK_AND_COLLECT", "60")),
}
# Once a store accepts work it must have it ready for pickup (click-and-collect) or shipped
# (ship-from-store) within these minutes of its opening hours; past that the work is late
# (shown, never moved). Warehouses have their own accept and ready/dispatch minutes; an
# empty or zero value means no deadline. Warehouse work is moved for a missed accept
# deadline only when the channel's routing policy has reroute_warehouse_on_deadline on.
OMS_READY_MINUTES = {
    "ship_from_store": float(os.environ.get("OMS_READY_MINUTES_SHIP_FROM_STORE", "240")),
    "click_and_collect": float(os.environ.get("OMS_READY_MINUTES_CLICK_AND_COLLECT", "120")),
}
OMS_WAREHOUSE_ACCEPT_MINUTES = {
    "ship_from_warehouse": float(os.environ.get("OMS_WAREHOUSE_ACCEPT_MINUTES_SHIP_FROM_WAREHOUSE") or 0),
}
OMS_WAREHOUSE_READY_MINUTES = {
    "ship_from_warehouse": float(os.environ.get("OMS_WAREHOUSE_READY_MINUTES_SHIP_FROM_WAREHOUSE", "1440")),
}
# The store queue flags work whose accept or ready deadline is this close, and the deadline
# job writes one reminder per fulfilment and deadline when it comes within it.
OMS_DEADLINE_REMINDER_MINUTES = float(os.environ.get("OMS_DEADLINE_REMINDER_MINUTES", "15"))
# The longest a store may pause new routed work for in one go.
OMS_STORE_PAUSE_MAX_HOURS = float(os.environ.get("OMS_STORE_PAUSE_MAX_HOURS", "8"))
OMS_UNPAID_EXPIRY_HOURS = float(os.environ.get("OMS_UNPAID_EXPIRY_HOURS", "24"))
OMS_ADDRESS_CHANGE_WINDOW_HOURS = float(os.environ.get("OMS_ADDRESS_CHANGE_WINDOW_HOURS", "24"))
OMS_RETURN_WINDOW_DAYS = int(os.environ.get("OMS_RETURN_WINDOW_DAYS", "30"))
# Personal data on an order is anonymised this long after the order finished (delivered,
# collected, cancelled, returned and refunded); docs/decisions.md.
OMS_PERSONAL_DATA_RETENTION_DAYS = float(os.environ.get("OMS_PERSONAL_DATA_RETENTION_DAYS", "730"))
OMS_STORE_QUEUE_POLL_SECONDS = int(os.environ.get("OMS_STORE_QUEUE_POLL_SECONDS", "15"))
# Refunds above this amount (in the order currency) need a supervisor; agents issue smaller ones.
OMS_REFUND_APPROVAL_LIMIT = Decimal(os.environ.get("OMS_REFUND_APPROVAL_LIMIT", "100.00"))
# The most units of one SKU a location may hold, and so the largest quantity any count,
# adjustment or feed row may give (never beyond the integer columns' 2,147,483,647).
OMS_MAX_STOCK_QUANTITY = int(os.environ.get("OMS_MAX_STOCK_QUANTITY", "1000000"))
# A count that changes on hand by more than this share of it (1.0: more than doubles it) is
# applied only once confirmed; changes of up to 10 units never ask.
OMS_COUNT_CONFIRM_SHARE = float(os.environ.get("OMS_COUNT_CONFIRM_SHARE", "1.0"))

# Webhooks (docs/webhooks.md): attempts before giving up, the first retry's delay (doubling
# each time, capped at an hour), the request timeout, and the least time between two
# delivery runs one process queues after commits (later commits fold into the next run).
OMS_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("OMS_WEBHOOK_MAX_ATTEMPTS", "10"))
OMS_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("OMS_WEBHOOK_BACKOFF_SECONDS", "30"))
# /metrics answers loopback callers, and others that send "Authorization: Bearer <token>".
OMS_METRICS_TOKEN = os.environ.get("OMS_METRICS_TOKEN", "")
OMS_READY_BROKER_TIMEOUT_SECONDS = float(os.environ.get("OMS_READY_BROKER_TIMEOUT_SECONDS", "2"))
OMS_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OMS_WEBHOOK_TIMEOUT_SECONDS", "10"))
OMS_WEBHOOK_KICK_INTERVAL_SECONDS = float(os.environ.get("OMS_WEBHOOK_KICK_INTERVAL_SECONDS", "0.25"))
