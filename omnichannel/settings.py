"""Settings read from the environment.

Unset DATABASE_URL means an SQLite file under var/; unset CELERY_BROKER_URL means the
embedded file-system broker, so the demo needs no server. With DEBUG off the settings
refuse to sign anything without a real SECRET_KEY and turn on the secure-cookie and HSTS options.
"""

import os
from decimal import Decimal
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMS_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key"
# Left empty without DEBUG: Django then refuses anything that signs (sessions, CSRF,
# tokens) until a real key is set, while key-free commands such as migrations still run.
SECRET_KEY = os.environ.get("SECRET_KEY", _DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()
]
if DEBUG:
    ALLOWED_HOSTS.append("testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "django_htmx",
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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL") or _SQLITE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in the demo: WAL lets readers run beside the
    # writer and IMMEDIATE transactions queue writers instead of failing on upgrade.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)

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
    },
}
# Requests per token (or staff user) and period; one process's memory unless CACHES is shared.
OMS_API_RATE = os.environ.get("OMS_API_RATE", "600/min")
# Wrong pickup codes in a row before a parcel takes no code, and for how long after the last one.
OMS_PICKUP_CODE_MAX_MISSES = int(os.environ.get("OMS_PICKUP_CODE_MAX_MISSES", "5"))
OMS_PICKUP_CODE_LOCK_MINUTES = float(os.environ.get("OMS_PICKUP_CODE_LOCK_MINUTES", "15"))
# The API rate limit and the pickup-code lock count in the cache: each process's own memory
# by default; with CACHE_URL (redis://…) every process and server counts together.
if os.environ.get("CACHE_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": os.environ["CACHE_URL"]}
    }
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
        "expire-unpaid-orders": "oms.tasks.expire_unpaid_orders",
        "release-due-holds": "oms.tasks.release_due_holds",
        "expire-idempotency-keys": "oms.tasks.expire_idempotency_keys",
        "deliver-webhooks": "oms.tasks.deliver_webhooks",
        "rollup-analytics": "omnichannel.analytics.tasks.rollup_analytics",
        "publish-availability": "oms.tasks.publish_availability",
    }.items()
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Business settings (documented in docs/configuration.md).
OMS_DEFAULT_HOLD_TTL_MINUTES = int(os.environ.get("OMS_DEFAULT_HOLD_TTL_MINUTES", "15"))
OMS_PLACES_FILE = BASE_DIR / "omnichannel" / "data" / "cities.csv"
OMS_PICKUP_REMINDER_HOURS = float(os.environ.get("OMS_PICKUP_REMINDER_HOURS", "24"))
OMS_PICKUP_EXPIRY_DAYS = float(os.environ.get("OMS_PICKUP_EXPIRY_DAYS", "7"))
OMS_UNPAID_EXPIRY_HOURS = float(os.environ.get("OMS_UNPAID_EXPIRY_HOURS", "24"))
OMS_ADDRESS_CHANGE_WINDOW_HOURS = float(os.environ.get("OMS_ADDRESS_CHANGE_WINDOW_HOURS", "24"))
OMS_RETURN_WINDOW_DAYS = int(os.environ.get("OMS_RETURN_WINDOW_DAYS", "30"))
OMS_STORE_QUEUE_POLL_SECONDS = int(os.environ.get("OMS_STORE_QUEUE_POLL_SECONDS", "15"))
# Refunds above this amount (in the order currency) need a supervisor; agents issue smaller ones.
OMS_REFUND_APPROVAL_LIMIT = Decimal(os.environ.get("OMS_REFUND_APPROVAL_LIMIT", "100.00"))

# Webhooks (docs/webhooks.md): attempts before giving up, the first retry's delay (doubling
# each time, capped at an hour), the request timeout, and the least time between two
# delivery runs one process queues after commits (later commits fold into the next run).
OMS_WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("OMS_WEBHOOK_MAX_ATTEMPTS", "10"))
OMS_WEBHOOK_BACKOFF_SECONDS = float(os.environ.get("OMS_WEBHOOK_BACKOFF_SECONDS", "30"))
OMS_WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("OMS_WEBHOOK_TIMEOUT_SECONDS", "10"))
OMS_WEBHOOK_KICK_INTERVAL_SECONDS = float(os.environ.get("OMS_WEBHOOK_KICK_INTERVAL_SECONDS", "0.25"))
