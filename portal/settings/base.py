"""Settings shared by every environment; every value that differs comes from the environment."""

import json
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration
from kombu import Exchange, Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-shouhou-secret-key-change-me-in-production-0123456789")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "portal.admin_site.PortalAdminConfig",  # django.contrib.admin with the portal's site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "simple_history",
    "django_guid",
    "portal",
    "cases",
    "cases.merchant",
    "cases.assistant",
    "cases.quality",
    "pickups",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "portal.middleware.DatabaseUnavailableMiddleware",
    "portal.middleware.SecurityHeadersMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "portal.middleware.TrailingSlashMiddleware",  # Django's CommonMiddleware, never a 500 for a missing slash
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
    "portal.replica.ReplicaReadsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.context_processors.portal",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'shouhou.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"].endswith("postgresql") and env_bool("DB_PREPARED_STATEMENTS", True):
    # Server-side binding lets psycopg prepare a query after its 5th run on a connection: PostgreSQL
    # parses it once per connection and can keep a generic plan (docs/benchmarks.md, "Planning").
    # Set DB_PREPARED_STATEMENTS=0 behind a transaction-mode pooler that cannot keep prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # A transaction-mode pooler (PgBouncer) hands each transaction to any server connection, so a cursor held
    # between statements (`.iterator()` outside a transaction) could be asked for on a connection that never
    # opened it. Off with DB_PREPARED_STATEMENTS=0 unless DB_SERVER_SIDE_CURSORS says otherwise.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = not env_bool(
        "DB_SERVER_SIDE_CURSORS", env_bool("DB_PREPARED_STATEMENTS", True))
# A streaming replica for the heavy reads that tolerate a second's lag (portal/db_router.py, docs/deploy.md).
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(DATABASE_REPLICA_URL,
                                                 conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")))
    DATABASES["replica"]["OPTIONS"] = dict(DATABASES["default"].get("OPTIONS", {}))
    DATABASES["replica"]["DISABLE_SERVER_SIDE_CURSORS"] = DATABASES["default"].get("DISABLE_SERVER_SIDE_CURSORS", False)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["portal.db_router.ReplicaRouter"]
# The replica is reported on /healthz (and skipped for reads) when it is further behind than this.
DATABASE_REPLICA_MAX_LAG_SECONDS = float(os.environ.get("DATABASE_REPLICA_MAX_LAG_SECONDS", "5"))
# After a user's write, every read of theirs goes to the primary for this long (read-your-writes).
READ_YOUR_WRITES_SECONDS = int(os.environ.get("READ_YOUR_WRITES_SECONDS", "15"))
# The views whose GET reads may come from the replica (URL names); everything else reads the primary.
DATABASE_REPLICA_VIEWS = env_list(
    "DATABASE_REPLICA_VIEWS",
    "api-cases,merchant:queue,merchant:metrics,admin:cases_dashboard,admin:cases_shop",
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # covering indexes (INCLUDE) are PostgreSQL's; SQLite (the demo) builds them without the extra columns
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Request ids (django-guid): X-Request-ID in (a UUID, else a new one) and out; its Celery integration carries
# the id in each task message, so a request's refund, pickup, email and export tasks log under the same id.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": True,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True)],
}

# History of settings and trust flags (django-simple-history): read in the admin, never reverted from there
# (a revert would skip the services that recompute clocks when a holiday changes).
SIMPLE_HISTORY_REVERT_DISABLED = True

# --- Failed logins (api.md, "Authentication"): django-axes locks the pair (username, client address) after
# 10 failures in 15 minutes, before any password hash; the username as a whole is only slowed.
AUTHENTICATION_BACKENDS = [
    "portal.login_guard.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "portal.login_guard.SlowdownBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"  # counts shared by every process, Redis or not
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a refused attempt does not extend the lock
AXES_LOCKOUT_CALLABLE = "portal.login_guard.lockout_response"
AXES_CLIENT_IP_CALLABLE = "portal.login_guard.client_address"
AXES_DISABLE_ACCESS_LOG = True  # failures are recorded; successful logins are not logged a second time
AXES_VERBOSE = False
# Behind N reverse proxies that append to X-Forwarded-For, set TRUSTED_PROXY_COUNT=N (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
LOGIN_SLOWDOWN_AFTER = int(os.environ.get("LOGIN_SLOWDOWN_AFTER", "10"))
LOGIN_SLOWDOWN_STEP_SECONDS = float(os.environ.get("LOGIN_SLOWDOWN_STEP_SECONDS", "0.2"))
LOGIN_SLOWDOWN_MAX_SECONDS = float(os.environ.get("LOGIN_SLOWDOWN_MAX_SECONDS", "2"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 6}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale" / area
                for area in ("faces", "core", "web", "merchant", "admin", "pickups", "refdata", "trust", "assistant",
                              "libraries", "appeals", "quality", "api", "visits")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 50

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "售后服务 <aftersales@shouhou.example>")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

# --- REST API ---------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.auth.BearerTokenAuthentication",
        "portal.auth.CsrfSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["portal.parsers.JSONParser", "portal.parsers.FormParser",
                               "portal.parsers.MultiPartParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api_support.Pagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "portal.api_support.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "case_create": os.environ.get("THROTTLE_CASE_CREATE", "60/min"),
        "case_action": os.environ.get("THROTTLE_CASE_ACTION", "240/min"),
        "upload": os.environ.get("THROTTLE_UPLOAD", "60/min"),
        "message": os.environ.get("THROTTLE_MESSAGE", "120/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Shouhou after-sales API",
    "DESCRIPTION": "Refunds, returns, exchanges, repairs and door-to-door pickup.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The contract's exact operations and shapes (portal/openapi/) over what the views declare.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "portal.openapi.postprocess"],
}
API_TOKEN_TTL = timedelta(days=int(os.environ.get("API_TOKEN_TTL_DAYS", "30")))

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"
_broker_dir = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
TASK_QUEUE_NAMES = ("default", "deadlines", "payments", "pickups", "notifications")


def celery_queue_settings(broker_url: str) -> dict[str, object]:
    """The queues for a broker, as Celery setting names (tests switch a running app's broker with it).

    A worker started without -Q consumes every queue the project routes tasks to, each through an exchange
    of its own. On RabbitMQ that exchange is a topic exchange: a countdown or a retry's back-off travels
    through kombu's native delayed-delivery exchanges, which hand the message back by topic ("#.<queue>");
    a direct exchange cannot take part (the message would sit in a worker's memory until its time). Every
    queue there is a durable quorum queue (replicated; a classic queue of the same name must be deleted
    first), the worker detects them and turns off global QoS, which quorum queues do not support, and a
    publish returns once the broker has confirmed it. On Redis the exchanges stay direct (countdowns wait
    in the worker there; kombu's emulated topic exchange lost retries in the pickup worker tests).
    """
    amqp = broker_url.startswith(("amqp://", "amqps://", "pyamqp://"))
    exchange_type = "topic" if amqp else "direct"
    conf: dict[str, object] = {
        "task_queues": [
            Queue(name, Exchange(name, type=exchange_type, durable=True), routing_key=name, durable=True,
                  queue_arguments={"x-queue-type": "quorum"} if amqp else None)
            for name in TASK_QUEUE_NAMES
        ],
        "task_default_exchange": "default",
        "task_default_exchange_type": exchange_type,
        "task_default_routing_key": "default",
    }
    if amqp:
        conf.update({
            "task_default_queue_type": "quorum",
            "worker_detect_quorum_queues": True,
            "broker_native_delayed_delivery_queue_type": "quorum",
            "broker_transport_options": {"confirm_publish": True},
        })
    return conf


for _name, _value in celery_queue_settings(CELERY_BROKER_URL).items():
    globals()["CELERY_" + _name.upper()] = _value
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep Django's JSON log lines in workers too
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "cases.tasks.sweep_deadlines": {"queue": "deadlines"},
    "cases.tasks.fire_deadline": {"queue": "deadlines"},
    "cases.tasks.execute_refund": {"queue": "payments"},
    "cases.tasks.enqueue_refund_payouts": {"queue": "payments"},
    "cases.tasks.send_notification_emails": {"queue": "notifications"},
    "pickups.tasks.*": {"queue": "pickups"},
}
CELERY_BEAT_SCHEDULE = {
    "sweep-deadlines": {
        "task": "cases.tasks.sweep_deadlines",
        "schedule": float(os.environ.get("DEADLINE_SWEEP_SECONDS", "30")),
    },
    "resend-outgoing": {
        "task": "portal.tasks.resend_outgoing",
        "schedule": float(os.environ.get("OUTBOX_SWEEP_SECONDS") or os.environ.get("REFUND_RETRY_SWEEP_SECONDS", "60")),
    },
    "relay-outbox": {
        "task": "portal.tasks.relay_outbox",
        "schedule": float(os.environ.get("OUTBOX_RELAY_SECONDS", "10")),  # OUTBOX_RELAY_SECONDS below
    },
    "sweep-pickups": {
        "task": "pickups.tasks.sweep_pickups",
        "schedule": 60.0,
    },
    "evaluate-quality": {
        "task": "cases.quality.tasks.evaluate_quality",
        "schedule": float(os.environ.get("QUALITY_EVALUATION_SECONDS", "3600")),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Domain policy ----------------------------------------------------------
try:
    CASE_DEADLINES_SECONDS: dict[str, int] = {
        str(k): int(v) for k, v in json.loads(os.environ.get("CASE_DEADLINES_SECONDS", "") or "{}").items()
    }
except (ValueError, AttributeError) as exc:  # pragma: no cover - configuration error
    raise RuntimeError("CASE_DEADLINES_SECONDS must be a JSON object of name → seconds") from exc
FAST_REFUND_LIMIT = Decimal(os.environ.get("FAST_REFUND_LIMIT", "500.00"))
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_MAX_FILES = 9
PAYMENT_GATEWAY = os.environ.get("PAYMENT_GATEWAY", "cases.payments.SimulatedGateway")
# A pending refund whose payout task went missing (worker killed, broker flushed) is retried after this.
REFUND_RETRY_AFTER_SECONDS = int(os.environ.get("REFUND_RETRY_AFTER_SECONDS", "120"))
# The transactional outbox (portal.outbox, docs/outbox.md): messages written with the change are published
# after commit; the relay (beat `relay-outbox`, every OUTBOX_RELAY_SECONDS) publishes those still unsent
# OUTBOX_RELAY_AFTER_SECONDS after they were written; sent rows are deleted after OUTBOX_KEEP_SECONDS.
OUTBOX_RELAY_SECONDS = float(os.environ.get("OUTBOX_RELAY_SECONDS", "10"))
OUTBOX_RELAY_AFTER_SECONDS = float(os.environ.get("OUTBOX_RELAY_AFTER_SECONDS", "30"))
OUTBOX_KEEP_SECONDS = int(os.environ.get("OUTBOX_KEEP_SECONDS", str(24 * 3600)))
# The one re-send sweep (portal.outbox): each outgoing effect still owed after OUTBOX_RESEND_AFTER_SECONDS is
# queued again, if it was caused within OUTBOX_RESEND_WINDOW_SECONDS (an email a week late is worse than none).
# Refunds have no window: money owed is always paid.
OUTBOX_RESEND_AFTER_SECONDS = int(os.environ.get("OUTBOX_RESEND_AFTER_SECONDS", "120"))
OUTBOX_RESEND_WINDOW_SECONDS = int(os.environ.get("OUTBOX_RESEND_WINDOW_SECONDS", str(24 * 3600)))
OUTBOX_RESENDERS = {
    "refunds": "cases.refunds.refunds_resend",
    "notification_emails": "cases.notifications.notification_emails_resend",
    "exports": "cases.merchant.services.export_jobs_resend",
    "pickup_dispatches": "pickups.sweep.dispatches_resend",
    "courier_cancellations": "pickups.sweep.courier_cancellations_resend",
    "repair_visits": "pickups.visits.visits_resend",
    "interception_requests": "pickups.interception.interception_requests_resend",
    "shop_notices": "cases.shop_notices.shop_notices_resend",
}
SIMULATED_PAYMENT_DELAY_SECONDS = float(os.environ.get("SIMULATED_PAYMENT_DELAY_SECONDS", "0"))
COURIER_WEBHOOK_TOLERANCE_SECONDS = 300
# Refuse to serve (ImproperlyConfigured when the WSGI app loads) while a courier's webhook secret is empty or
# a known default; on by default in production (pickups/courier_secrets.py). `check --deploy` reports it always.
COURIER_SECRETS_REQUIRED = env_bool("COURIER_SECRETS_REQUIRED", False)
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One JSON object per line (python-json-logger): every `extra` field is written, not a fixed few.
    "formatters": {"json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "name": "logger", "message": "msg", "exc_info": "exc"},
        "timestamp": "ts",
        "json_ensure_ascii": False,
    }},
    "filters": {"request_id": {"()": "portal.middleware.RequestIdFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                "django_guid": {"level": "WARNING"}},  # one INFO line per task published and run otherwise
}
