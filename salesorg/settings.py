"""salesorg settings, read from the environment.

Everything a deployment changes is an environment variable parsed strictly by
``salesorg.env``; the defaults run the product on one machine with SQLite and a
broker that needs no server (see README "Configuration").
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from salesorg.env import (
    env_bool,
    env_int,
    env_int_map,
    env_list,
    env_str,
    parse_database_url,
    parse_redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("SALESORG_VAR_DIR") or BASE_DIR / "var").resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", default=False)


def _secret_key() -> str:
    """A random key is acceptable only for local use, and it is kept in var/ so
    that the web server and the worker (which signs survey links) agree.

    Without one outside DEBUG the key stays empty: the web server and the
    worker refuse to start (``salesorg.startup``), ``check --deploy`` fails, and
    Django refuses to sign anything — while commands that need no key
    (``makemigrations``, ``collectstatic``, ``compilemessages``) still run.
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    if not DEBUG:
        return ""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "simple_history",
    "django_htmx",
    "accounts",
    "clients",
    "pipeline",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "salesorg.urls"
WSGI_APPLICATION = "salesorg.wsgi.application"
ASGI_APPLICATION = "salesorg.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "salesorg.context_processors.navigation",
            ],
            "libraries": {"ui": "salesorg.lib.ui"},
        },
    },
]

# --- database -----------------------------------------------------------------
_database_url = env_str("DATABASE_URL")
DATABASES = {
    "default": parse_database_url(_database_url, base_dir=BASE_DIR)
    if _database_url
    else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "salesorg.sqlite3")}
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the worker write while the web server reads; the timeout rides
    # out the short write locks of two processes sharing one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis, cache and celery --------------------------------------------------
_redis_url = env_str("REDIS_URL")
REDIS_URL = parse_redis_url(_redis_url) if _redis_url else ""

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "salesorg"),
        }
    }
else:
    # A file cache is shared by the web server and the worker on one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

_broker_dir = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any countdown or ETA we use, so that Redis does not hand an
        # unacknowledged (acks_late) task to a second worker while it waits.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 6 * 3600, minimum=5),
    }
else:
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = env_str("TIME_ZONE", "Asia/Shanghai")
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60, minimum=1)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False

# --- auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
# Sessions are read from the cache (written through to the database): one
# query less on every page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

AUTHENTICATION_BACKENDS = [
    "accounts.backends.RoleBackend",
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row
GUARDIAN_MONKEY_PATCH_USER = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n -----------------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True
try:
    import zoneinfo

    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"TIME_ZONE={TIME_ZONE!r} is not a known time zone (e.g. Asia/Shanghai)."
    ) from None
DEFAULT_CURRENCY = "CNY"

# --- static and media -------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "staticfiles")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- e-mail ---------------------------------------------------------------------
_EMAIL_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
}
_email_backend = env_str("EMAIL_BACKEND", "console" if DEBUG else "smtp")
if _email_backend not in _EMAIL_BACKENDS:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND={_email_backend!r} is not one of {', '.join(_EMAIL_BACKENDS)}."
    )
EMAIL_BACKEND = _EMAIL_BACKENDS[_email_backend]
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on.")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "salesorg <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- security (production) ------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300)

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "salesorg.lib.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {"anon": "60/minute", "public_form": "10/minute"},
    "EXCEPTION_HANDLER": "salesorg.lib.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "salesorg API",
    "DESCRIPTION": "The salesorg sales CRM. Every list is limited to what the caller may see.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- history ----------------------------------------------------------------------
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- salesorg defaults (SPEC numbers; every one configurable) ----------------------
SALESORG_KEY_ACCOUNT_THRESHOLD = env_int("SALESORG_KEY_ACCOUNT_THRESHOLD", 1_000_000, minimum=0)
#: Absolute address of the site, for links in e-mails.
SALESORG_BASE_URL = env_str("SALESORG_BASE_URL", "http://127.0.0.1:8000")

# --- pipeline: leads and deals (pipeline-sales) -------------------------------------
#: Username who owns leads from the public web form; unset: round-robin among active reps
#: (the rep whose last website lead is oldest gets the next one).
SALESORG_WEB_LEAD_OWNER = env_str("SALESORG_WEB_LEAD_OWNER")
#: Sign-ups accepted per client IP address per window (seconds), counted in the cache.
SALESORG_WEB_LEAD_RATE_LIMIT = env_int("SALESORG_WEB_LEAD_RATE_LIMIT", 5, minimum=1)
SALESORG_WEB_LEAD_RATE_WINDOW = env_int("SALESORG_WEB_LEAD_RATE_WINDOW", 3600, minimum=1)
#: Web sites allowed to post the sign-up form as JSON from the browser (CORS), comma-separated.
SALESORG_WEB_LEAD_ORIGINS = env_list("SALESORG_WEB_LEAD_ORIGINS", [])
#: Cards shown per column on the deal board (the rest are one click away in the deal list).
SALESORG_BOARD_CARDS_PER_STAGE = env_int("SALESORG_BOARD_CARDS_PER_STAGE", 30, minimum=1)

# --- satisfaction surveys (care-surveys) ---------------------------------------------
#: Projects completed and complaints resolved within this many days get their survey
#: (older ones, e.g. before the jobs first ran, are not surveyed after the fact).
SALESORG_SURVEY_LOOKBACK_DAYS = env_int("SALESORG_SURVEY_LOOKBACK_DAYS", 30, minimum=1)

# --- benchmark (make bench) --------------------------------------------------------
#: Server time and query count headers on every response; only for the benchmark.
if env_bool("SALESORG_BENCH_HEADERS", False):
    MIDDLEWARE.insert(0, "salesorg.lib.benchheaders.BenchHeadersMiddleware")

# --- quotes, contracts and delivery projects (pipeline) -----------------------------
#: A quote line discount above this percentage needs the owner's manager's approval.
SALESORG_DISCOUNT_APPROVAL_THRESHOLD = env_int(
    "SALESORG_DISCOUNT_APPROVAL_THRESHOLD", 10, minimum=0
)
#: Days a new quote stays valid unless the author sets another date.
SALESORG_QUOTE_VALIDITY_DAYS = env_int("SALESORG_QUOTE_VALIDITY_DAYS", 30, minimum=1)
#: Largest contract file accepted for upload, in megabytes.
SALESORG_CONTRACT_FILE_MAX_MB = env_int("SALESORG_CONTRACT_FILE_MAX_MB", 20, minimum=1)
#: The selling company as printed on quotes.
SALESORG_COMPANY_NAME = env_str("SALESORG_COMPANY_NAME", "salesorg")
SALESORG_COMPANY_ADDRESS = env_str("SALESORG_COMPANY_ADDRESS")
SALESORG_COMPANY_PHONE = env_str("SALESORG_COMPANY_PHONE")
SALESORG_COMPANY_EMAIL = env_str("SALESORG_COMPANY_EMAIL")
#: Money in Chinese pages grouped by thousands like the English ones (salesorg/formats).
FORMAT_MODULE_PATH = ["salesorg.formats"]
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(
    {
        "QuoteStatusEnum": "pipeline.models.Quote.Status",
        "QuoteApprovalEnum": "pipeline.models.Quote.Approval",
        "ContractStatusEnum": "pipeline.models.ContractStatus",
        "ProjectStatusEnum": "pipeline.models.Project.Status",
        "MilestoneStatusEnum": "pipeline.models.Milestone.Status",
    }
)

# --- complaints (care-complaints) ---------------------------------------------------
#: Hours from receiving a complaint to its first response (SPEC: the 24-hour rule) ...
SALESORG_COMPLAINT_SLA_HOURS = env_int("SALESORG_COMPLAINT_SLA_HOURS", 24, minimum=1)
#: ... unless its severity has its own, e.g. "critical=4,high=12" (low, medium, high, critical).
SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY = env_int_map(
    "SALESORG_COMPLAINT_SLA_HOURS_BY_SEVERITY", ("low", "medium", "high", "critical"), minimum=1
)
# --- end complaints ---
# --- scheduled jobs and reliability (care-jobs) --------------------------------------
#: Open deals without activity for this many days are "stale" (weekly alert).
SALESORG_STALE_DEAL_DAYS = env_int("SALESORG_STALE_DEAL_DAYS", 14, minimum=1)
#: One beat at a time: the scheduler sends only while it holds a lock (salesorg/beat.py)
#: that expires this many seconds after its holder stops renewing it.
CELERY_BEAT_SCHEDULER = "salesorg.beat:LockedScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
SALESORG_BEAT_LOCK_TTL = env_int("SALESORG_BEAT_LOCK_TTL", 60, minimum=3)
#: A worker keeps reconnecting to a broker that went away (a Redis restart) instead
#: of giving up after 100 attempts; running jobs finish and are acknowledged after.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
if REDIS_URL and (CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] <= CELERY_TASK_TIME_LIMIT):
    # A task acknowledged late is handed to another worker once the visibility
    # timeout passes; it must outlast the longest a task may run.
    raise ImproperlyConfigured(
        f"CELERY_VISIBILITY_TIMEOUT={CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout']} "
        f"must be longer than CELERY_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT} seconds."
    )
