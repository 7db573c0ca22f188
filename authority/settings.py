"""The one settings module: embedded defaults for development, production set by environment."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.utils.translation import gettext_lazy as _

from authority.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_minutes,
    env_str,
)

# Django's generic classes (admin.ModelAdmin[Region], forms.ModelChoiceField[Region]) take the
# type arguments mypy checks at run time too.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("AUTHORITY_VAR_DIR", str(BASE_DIR / "var")))

# "development" runs on embedded defaults; "production" refuses every development secret.
MODE = env_choice("AUTHORITY_MODE", "development", {"development", "production"})
PRODUCTION = MODE == "production"
if not PRODUCTION:
    # The embedded run keeps its database, broker folders and files here.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# There is no test mode in these settings: the test suite runs on its own module,
# tests/django_settings.py. The variable that once switched one on is refused, so that no
# deployment believes it runs with (or without) one.
if env_str("AUTHORITY_TESTING", ""):
    raise ConfigurationError(
        "AUTHORITY_TESTING is no longer read: unset it (the tests select tests.django_settings)"
    )

DEV_SECRET_PREFIX = "dev-insecure-"


def _secret(name: str, purpose: str) -> str:
    """Secrets: from NAME or NAME_FILE in production; an obvious placeholder in development."""
    if not PRODUCTION:
        return env_str(name, f"{DEV_SECRET_PREFIX}{purpose}-change-me-in-production-0123456789")
    value = env_str(name)
    if value.startswith(DEV_SECRET_PREFIX) or len(value) < 32:
        raise ConfigurationError(
            f"{name} must be a real secret of at least 32 characters in production"
        )
    return value


SECRET_KEY = _secret("SECRET_KEY", "django")
# Keyed hash of OTPs (DESIGN.md 3.1); separate from SECRET_KEY so either can rotate alone.
OTP_HMAC_KEY = _secret("OTP_HMAC_KEY", "otp-hmac")
# Key-encryption key of the secrets stored encrypted: signing keys, authenticator seeds.
SIGNING_KEY_ENCRYPTION_KEY = _secret("SIGNING_KEY_ENCRYPTION_KEY", "signing-kek")
# Previous keys, still accepted while a rotation is under way (comma-separated): sessions,
# password-reset links and backup codes for SECRET_KEY; `manage.py reencrypt_signing_keys`
# moves the stored signing keys and authenticator seeds to the current one.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS = env_list("SIGNING_KEY_ENCRYPTION_KEY_FALLBACKS", [])
# Previous OTP_HMAC_KEYs: codes stored under them are still found until they expire.
OTP_HMAC_KEY_FALLBACKS = env_list("OTP_HMAC_KEY_FALLBACKS", [])
# The key of the audit trail's links and of its checkpoints' signatures (docs/audit-trail.md):
# kept out of the database, so whoever can write the table cannot make an entry that verifies.
AUDIT_HMAC_KEY = _secret("AUDIT_HMAC_KEY", "audit-hmac")
# Previous AUDIT_HMAC_KEYs: what they made still verifies. Unlike the other fallbacks, keep each
# one for as long as the trail holds entries made under it (the audit trail is never deleted).
AUDIT_HMAC_KEY_FALLBACKS = env_list("AUDIT_HMAC_KEY_FALLBACKS", [])

DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ConfigurationError("DEBUG cannot be on in production")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError("ALLOWED_HOSTS must list the site's host names in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The site's own address, for the links in e-mails (a page knows its address, a worker does not).
SITE_URL = env_str("SITE_URL", None if PRODUCTION else "http://127.0.0.1:8000").rstrip("/")
if PRODUCTION and not SITE_URL.startswith("https://"):
    raise ConfigurationError(
        "SITE_URL must be the site's https:// address in production (e-mailed links use it)"
    )

# --- E-mail (docs/email.md) ------------------------------------------------------------------
# Invitations, password resets and lockout notices, sent by the Celery worker through SMTP.
# Production needs a server: without one a forgotten password and a lockout would be dealt
# with by nobody, silently. In development, without EMAIL_HOST, messages are files in var/mail/.
EMAIL_HOST = env_str("EMAIL_HOST", "")
if PRODUCTION and not EMAIL_HOST:
    raise ConfigurationError(
        "EMAIL_HOST must name the SMTP server in production (invitations, password resets and"
        " lockout notices are e-mailed); see docs/email.md"
    )
# starttls: plain connection upgraded with STARTTLS (port 587); tls: TLS from the start
# (port 465); none: no encryption (only for a relay on the same host or network).
EMAIL_SECURITY = env_choice("EMAIL_SECURITY", "starttls", {"starttls", "tls", "none"})
EMAIL_USE_TLS = EMAIL_SECURITY == "starttls"
EMAIL_USE_SSL = EMAIL_SECURITY == "tls"
EMAIL_PORT = env_int(
    "EMAIL_PORT",
    {"starttls": 587, "tls": 465, "none": 25}[EMAIL_SECURITY],
    minimum=1,
    maximum=65535,
)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
if PRODUCTION and EMAIL_HOST_PASSWORD and EMAIL_SECURITY == "none":
    raise ConfigurationError(
        "EMAIL_HOST_PASSWORD would cross the network in clear: set EMAIL_SECURITY to starttls or tls"
    )
# Seconds an SMTP connection or answer may take before the attempt fails (and is retried).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1, maximum=300)
DEFAULT_FROM_EMAIL = env_str(
    "DEFAULT_FROM_EMAIL",
    None if PRODUCTION else "Exposure Notification Authority <noreply@localhost>",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_FILE_PATH = VAR_DIR / "mail"
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"

INSTALLED_APPS = [
    "authority.apps.AuthorityAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "authority.accounts",
    "authority.audit",
    "authority.statistics",
    "authority.ingestion",
    "authority.operations",
    "authority.keys",
    "authority.otps",
    "authority.dashboard",
    "authority.federation",
    "authority.embedded",
    "authority.appconfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # In development runserver serves static files; in production whitenoise does.
    *(["whitenoise.middleware.WhiteNoiseMiddleware"] if PRODUCTION else []),
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "authority.keys.api.LanguageIndependentMiddleware",  # must precede LocaleMiddleware
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "authority.accounts.middleware.SecondFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "authority.urls"
WSGI_APPLICATION = "authority.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "authority.accounts.context_processors.navigation",
            ],
            "libraries": {"datetimes": "authority.l10n.templatetags"},
        },
    },
]

# --- Data -----------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'authority.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
# A connection pool per process (psycopg_pool) instead of a persistent connection per thread:
# gunicorn.conf.py turns it on for the web workers, whose many threads mostly wait out the
# device API's delay without a connection.
DATABASE_POOL_MAX_SIZE = env_int("DATABASE_POOL_MAX_SIZE", 0, minimum=0)
if DATABASE_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(2, DATABASE_POOL_MAX_SIZE),
        "max_size": DATABASE_POOL_MAX_SIZE,
        # Seconds a request waits for a free connection before it fails.
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for the lock instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

REDIS_URL = env_str("REDIS_URL", "")
CACHES: dict[str, dict[str, object]]
# The throttles and the guessing budgets live in the cache: one that culls at Django's default
# 300 entries would forget which networks were guessing as soon as many addresses call.
_CACHE_OPTIONS = {"MAX_ENTRIES": 1_000_000}
# How long a request waits for the cache's Redis before failing (not hanging).
REDIS_SOCKET_TIMEOUT = env_int("REDIS_SOCKET_TIMEOUT", 2, minimum=1, maximum=60)
if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis: one client per server, built once and reused (the throttles call
            # the cache twice a request), and a public get_redis_connection for what Django's
            # cache API lacks.
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            # Seconds: a Redis that stops answering fails a request, never hangs it.
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    # Shared by every process of the embedded run (web, worker, beat) without a server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "OPTIONS": _CACHE_OPTIONS,
        }
    }
if PRODUCTION and not REDIS_URL:
    raise ConfigurationError(
        "REDIS_URL must be set in production (cache, throttling, Celery broker)"
    )

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# --- People and logging in --------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions in the database under a hash of the cookie's value, their content sealed with it:
# a copy of the table logs nobody in (authority/accounts/sessions.py).
SESSION_ENGINE = "authority.accounts.sessions"
# Sessions end after this much inactivity; every request slides the window.
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30, minimum=2)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_HTTPONLY = True
# A refused form gets a page in the site's layout that says what to do (authority/errors.py).
CSRF_FAILURE_VIEW = "authority.errors.csrf_failure"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# Lockout per account, never per address (DESIGN.md 3.3: no IPs stored); counters live in the
# cache only, so no table keeps failed attempts with their user agents.
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_CLIENT_IP_CALLABLE = "authority.accounts.lockout.no_client_address"
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_minutes("LOGIN_LOCKOUT_MINUTES", 30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "authority.accounts.lockout.lockout_response"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True
SILENCED_SYSTEM_CHECKS = [
    # Locking out per address is what DESIGN.md 3.3 forbids (no IPs); per account is the rule.
    "axes.W006",
]

# Invitation links work this long (Django's password-reset tokens, until a password is chosen).
PASSWORD_RESET_TIMEOUT = env_int("INVITATION_LINK_DAYS", 3, minimum=1, maximum=30) * 24 * 3600
# A forgotten password's reset link works this long, once (authority/accounts/services/
# password_reset.py); one e-mail per account per interval, whatever the number of requests.
PASSWORD_RESET_LINK_MINUTES = env_int(
    "PASSWORD_RESET_LINK_MINUTES", 60, minimum=5, maximum=3 * 24 * 60
)
PASSWORD_RESET_EMAIL_INTERVAL_MINUTES = env_int(
    "PASSWORD_RESET_EMAIL_INTERVAL_MINUTES", 5, minimum=1, maximum=24 * 60
)

OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Exposure Notification Authority")
OTP_TOTP_THROTTLE_FACTOR = 1
BACKUP_CODE_COUNT = 10

# How staff reach the authority's help desk (an e-mail address, a phone number), named on the
# error pages; empty: the pages name the person's supervisors or the administrators only.
SUPPORT_CONTACT = env_str("SUPPORT_CONTACT", "")

# --- Language and time -----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("it", _("Italiano"))]
# Ours first; then Italian for what Django and third-party apps word otherwise or not at all
# (lowercase month names, axes, django-otp): kept apart so that makemessages never drops it.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "authority" / "l10n" / "locale"]
# One convention per language for dates and times (docs/dates-and-times.md).
FORMAT_MODULE_PATH = ["authority.l10n.formats"]
USE_I18N = True
TIME_ZONE = env_str("AUTHORITY_TIME_ZONE", "Europe/Rome")
USE_TZ = True

# --- Security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],  # Bootstrap Italia embeds one icon font
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Patient codes (OTPs) ---------------------------------------------------------------------
# Codes the server generates stay usable this long; codes typed from the app much less.
OTP_ISSUED_TTL_HOURS = env_int("OTP_ISSUED_TTL_HOURS", 24, minimum=1, maximum=24 * 14)
OTP_AUTHORIZED_TTL_MINUTES = env_int("OTP_AUTHORIZED_TTL_MINUTES", 30, minimum=1, maximum=24 * 60)
# The symptom-onset (or test) date may be at most this many days ago.
OTP_ONSET_MAX_AGE_DAYS = env_int("OTP_ONSET_MAX_AGE_DAYS", 14, minimum=0, maximum=60)
# Rows about single codes are deleted this long after use, expiry or revocation (DESIGN.md 3.2).
OTP_RECORD_GRACE_HOURS = env_int("OTP_RECORD_GRACE_HOURS", 24, minimum=0)
# Codes issued or authorized per operator and per region in one day (the authority's time zone).
OTP_QUOTA_PER_OPERATOR_PER_DAY = env_int("OTP_QUOTA_PER_OPERATOR_PER_DAY", 100, minimum=1)
OTP_QUOTA_PER_REGION_PER_DAY = env_int("OTP_QUOTA_PER_REGION_PER_DAY", 2000, minimum=1)
# Administrators are warned when a region's codes today exceed FACTOR x the mean of the previous
# WINDOW days and FLOOR.
OTP_SURGE_FACTOR = env_int("OTP_SURGE_FACTOR", 3, minimum=1)
OTP_SURGE_FLOOR = env_int("OTP_SURGE_FLOOR", 30, minimum=0)
OTP_SURGE_WINDOW_DAYS = env_int("OTP_SURGE_WINDOW_DAYS", 14, minimum=1)
OTP_PAGE_SIZE = 50

# --- Device API -------------------------------------------------------------------------------
# The largest request body of forms, and of API endpoints without their own limit. The
# device endpoints each take their largest valid request and no more (`max_body_bytes` in
# their views: an upload with everything at its largest and 150,000 characters of padding,
# 336 KiB): bigger API bodies get 413 with the error body (error 1001,
# authority.api.parsers), bigger form posts Django's 400.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int(
    "DATA_UPLOAD_MAX_MEMORY_SIZE", 512 * 1024, minimum=64 * 1024, maximum=16 * 1024 * 1024
)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["authority.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "authority.api.handlers.api_exception_handler",
    # No description of an endpoint to whoever sends OPTIONS: a method not allowed (405).
    "DEFAULT_METADATA_CLASS": None,
    "UNAUTHENTICATED_USER": None,
    # Who the client is, for the throttles: with 0, the connection's address; behind N
    # proxies that append to X-Forwarded-For, the N-th entry from the right. Never the
    # whole header, which any client can fill with a fresh made-up address per request.
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0, minimum=0),
}
if PRODUCTION and "TRUSTED_PROXY_COUNT" not in os.environ:
    # Behind a proxy, a forgotten setting makes every phone the proxy's address: one network,
    # whose guessing budget and request rate the whole country shares. 0 only when said.
    raise ConfigurationError(
        "TRUSTED_PROXY_COUNT must be set in production: the number of proxies in front of "
        "gunicorn that append to X-Forwarded-For (0 when clients connect to it directly)"
    )
SPECTACULAR_SETTINGS = {
    "TITLE": "Exposure Notification Authority API",
    "DESCRIPTION": "Device API compatible with the Immuni app, and the HIS endpoints.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the drf-spectacular-sidecar package, served by us: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# --- Celery (tasks/celery.py reads these with the CELERY_ prefix) -----------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Exposure keys, signing keys and publication (authority/keys) ----------------------------
# Phones look the signing key up by (id, version); the id is the mobile country code.
SIGNING_KEY_ID = env_str("SIGNING_KEY_ID", "222")
# No signing key is created or registered implicitly (authority/keys/README.md, Signing keys).
if env_str("SIGNING_KEY_PEM_FILE", ""):
    raise ConfigurationError(
        "SIGNING_KEY_PEM_FILE is no longer read: unset it, then register the file once with "
        "`manage.py rotate_signing_key --pem-file PATH`"
    )
KEYS_EXPORT_REGION = env_str("KEYS_EXPORT_REGION", SIGNING_KEY_ID)
# Keys are published this long after the end of their rolling period.
KEYS_EMBARGO_MINUTES = env_int("KEYS_EMBARGO_MINUTES", 120, minimum=0)
# Small files are padded with random look-alike keys up to this many (Google uses 1,000).
KEYS_MIN_PER_FILE = env_int("KEYS_MIN_PER_FILE", 1000, minimum=0, maximum=750_000)
KEYS_MAX_PER_FILE = env_int("KEYS_MAX_PER_FILE", 750_000, minimum=1, maximum=750_000)
if KEYS_MIN_PER_FILE > KEYS_MAX_PER_FILE:
    raise ConfigurationError("KEYS_MIN_PER_FILE cannot be above KEYS_MAX_PER_FILE")
KEYS_RETENTION_DAYS = env_int("KEYS_RETENTION_DAYS", 14, minimum=1)
BATCH_RETENTION_DAYS = env_int("BATCH_RETENTION_DAYS", 14, minimum=1)
# Cron fields (minute hour day-of-month month day-of-week) of the scheduled publication.
PUBLICATION_SCHEDULE = env_str("PUBLICATION_SCHEDULE", "5 * * * *")
if len(PUBLICATION_SCHEDULE.split()) != 5:
    raise ConfigurationError("PUBLICATION_SCHEDULE must have 5 cron fields, e.g. '5 * * * *'")
# A publication renews its lease as it works; a worker that died frees it after this long.
PUBLICATION_LEASE_SECONDS = env_int("PUBLICATION_LEASE_SECONDS", 300, minimum=1)
PUBLICATION_QUEUE_TIMEOUT_MINUTES = env_int("PUBLICATION_QUEUE_TIMEOUT_MINUTES", 15, minimum=1)
PUBLICATION_TIME_LIMIT_SECONDS = env_int("PUBLICATION_TIME_LIMIT_SECONDS", 1800, minimum=60)
# Administrators' home page warns when the newest signing key is older than this (a new one must
# be registered with Apple and Google before it signs: start early).
SIGNING_KEY_WARNING_DAYS = env_int("SIGNING_KEY_WARNING_DAYS", 365, minimum=1)
KEYS_INDEX_MAX_AGE = env_int("KEYS_INDEX_MAX_AGE", 300, minimum=0)
BATCH_STORAGE = env_choice("BATCH_STORAGE", "filesystem", {"filesystem", "s3"})
if BATCH_STORAGE == "s3":
    STORAGES["batches"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("BATCH_S3_BUCKET"),
            "location": env_str("BATCH_S3_PREFIX", "batches"),
            "endpoint_url": env_str("BATCH_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("BATCH_S3_REGION", "") or None,
            "access_key": env_str("BATCH_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("BATCH_S3_SECRET_ACCESS_KEY", "") or None,
            # Names are unique per attempt; overwriting saves a round trip per file.
            "file_overwrite": True,
            "default_acl": None,
        },
    }
else:
    STORAGES["batches"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env_str("BATCH_STORAGE_DIR", str(VAR_DIR / "batches")),
            "allow_overwrite": True,
        },
    }

# --- Federation with the European gateway, EFGS (authority/federation, docs/federation.md) ----
# Off until FEDERATION_GATEWAY_URL is set. Certificates and keys come from files (mounted
# secrets), never from the environment itself; production checks them at start-up.
FEDERATION_GATEWAY_URL = env_str("FEDERATION_GATEWAY_URL", "").rstrip("/")
FEDERATION_COUNTRY = env_str("FEDERATION_COUNTRY", "IT")
FEDERATION_TLS_CERT_FILE = env_str("FEDERATION_TLS_CERT_FILE", "")
FEDERATION_TLS_KEY_FILE = env_str("FEDERATION_TLS_KEY_FILE", "")
FEDERATION_SIGNING_CERT_FILE = env_str("FEDERATION_SIGNING_CERT_FILE", "")
FEDERATION_SIGNING_KEY_FILE = env_str("FEDERATION_SIGNING_KEY_FILE", "")
FEDERATION_TRUST_ANCHOR_FILE = env_str("FEDERATION_TRUST_ANCHOR_FILE", "")
# The CA bundle that vouches for the gateway's server certificate; empty: certifi's public CAs.
FEDERATION_SERVER_CA_FILE = env_str("FEDERATION_SERVER_CA_FILE", "")
FEDERATION_TIMEOUT_SECONDS = env_int("FEDERATION_TIMEOUT_SECONDS", 60, minimum=1, maximum=600)
# Network failures, timeouts and 5xx answers: attempts per request, waiting 2, 4, 8... s between.
FEDERATION_ATTEMPTS = env_int("FEDERATION_ATTEMPTS", 5, minimum=1, maximum=20)
FEDERATION_BACKOFF_SECONDS = env_int("FEDERATION_BACKOFF_SECONDS", 2, minimum=0, maximum=300)
# A gateway batch never holds fewer keys than this: 150 keys of at most 30 per upload come from
# at least 5 patients, so a batch does not single one out. Keys wait until there are enough.
FEDERATION_UPLOAD_MIN_KEYS = env_int("FEDERATION_UPLOAD_MIN_KEYS", 150, minimum=1)
FEDERATION_UPLOAD_MAX_KEYS = env_int("FEDERATION_UPLOAD_MAX_KEYS", 5000, minimum=1, maximum=5000)
# The days the gateway keeps batches (its max-age-in-days) and so the days a download goes back.
FEDERATION_DOWNLOAD_DAYS = env_int("FEDERATION_DOWNLOAD_DAYS", 2, minimum=0, maximum=14)
# Who we share with: the countries of interest an app may name (ISO 3166 alpha-2), ours excluded.
_EU_EEA_COUNTRIES = (
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IS LI LT LU LV MT NL NO PL PT RO SE SI SK"
)
FEDERATION_COUNTRIES = env_list("FEDERATION_COUNTRIES", _EU_EEA_COUNTRIES.split())
# Where the gateway notifies us of new batches (an https address of ours, behind mutual TLS);
# empty: no subscription, the scheduled downloads only. Checked, and registered again if the
# gateway dropped it, by every download run.
FEDERATION_CALLBACK_URL = env_str("FEDERATION_CALLBACK_URL", "")
FEDERATION_CALLBACK_ID = env_str("FEDERATION_CALLBACK_ID", "authority")
# The request header in which the TLS terminator in front of the callback endpoint
# (/v1/federation/callback) says it verified the gateway's client certificate: the value must
# be SUCCESS (nginx: `proxy_set_header X-SSL-Client-Verify $ssl_client_verify;`). Empty: not
# checked (development); production refuses to start with a callback URL and no header.
FEDERATION_CALLBACK_VERIFY_HEADER = env_str("FEDERATION_CALLBACK_VERIFY_HEADER", "")
# A notification queues a download at most this often (the gateway batches every 5 minutes).
FEDERATION_CALLBACK_MIN_INTERVAL_SECONDS = env_int(
    "FEDERATION_CALLBACK_MIN_INTERVAL_SECONDS", 60, minimum=0, maximum=3600
)
FEDERATION_UPLOAD_SCHEDULE = env_str("FEDERATION_UPLOAD_SCHEDULE", "20 */2 * * *")
FEDERATION_DOWNLOAD_SCHEDULE = env_str("FEDERATION_DOWNLOAD_SCHEDULE", "40 * * * *")
for _name in ("FEDERATION_UPLOAD_SCHEDULE", "FEDERATION_DOWNLOAD_SCHEDULE"):
    if len(globals()[_name].split()) != 5:
        raise ConfigurationError(f"{_name} must have 5 cron fields, e.g. '40 * * * *'")
if FEDERATION_UPLOAD_MIN_KEYS > FEDERATION_UPLOAD_MAX_KEYS:
    raise ConfigurationError(
        "FEDERATION_UPLOAD_MIN_KEYS cannot be above FEDERATION_UPLOAD_MAX_KEYS"
    )

# --- Logging: no addresses, no secrets (DESIGN.md 3.3; docs/operations-logging.md) ------------
# Every handler rewrites records through RedactSecrets. Django's own default handlers are
# replaced: "django" would mail errors with the request's headers and address to ADMINS, and
# runserver's "django.server" would print request lines as they came.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "server": {"format": "[%(asctime)s] %(message)s"},
    },
    "filters": {
        "device_api_client_errors": {
            "()": "authority.operations.logging.DeviceApiClientErrors",
        },
        "redact_secrets": {"()": "authority.operations.logging.RedactSecrets"},
        "suspicious_requests_on_one_line": {
            "()": "authority.operations.logging.SuspiciousRequestsOnOneLine",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["suspicious_requests_on_one_line", "redact_secrets"],
        },
        "server": {
            "class": "logging.StreamHandler",
            "formatter": "server",
            "filters": ["redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "axes": {"level": "WARNING"},
        # A phone's 4xx is an expected outcome, counted in the statistics: not a log line.
        "django.request": {"filters": ["device_api_client_errors"]},
    },
}

SESSION_WARNING_SECONDS = 120

# --- Audit trail (authority/audit, docs/audit-trail.md) ---------------------------------------
AUDIT_PAGE_SIZE = 50
# Every this many minutes a signed checkpoint of the chain's head is written outside the
# database: entries written since the newest checkpoint are the most a rollback can lose unseen.
AUDIT_CHECKPOINT_MINUTES = env_int("AUDIT_CHECKPOINT_MINUTES", 15, minimum=1, maximum=24 * 60)
# Where checkpoints go: by default the folder "audit-checkpoints/" of the batch storage. A sink
# the database's administrators cannot write is the point: a local folder of its own
# (AUDIT_CHECKPOINT_DIR, e.g. a write-once mount) or a bucket of its own with its own account and
# Object Lock (AUDIT_CHECKPOINT_S3_BUCKET) is better still.
AUDIT_CHECKPOINT_DIR = env_str("AUDIT_CHECKPOINT_DIR", "")
AUDIT_CHECKPOINT_S3_BUCKET = env_str("AUDIT_CHECKPOINT_S3_BUCKET", "")
if AUDIT_CHECKPOINT_DIR and AUDIT_CHECKPOINT_S3_BUCKET:
    raise ConfigurationError("Set AUDIT_CHECKPOINT_DIR or AUDIT_CHECKPOINT_S3_BUCKET, not both")
if AUDIT_CHECKPOINT_S3_BUCKET:
    STORAGES["audit_checkpoints"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AUDIT_CHECKPOINT_S3_BUCKET,
            "location": env_str("AUDIT_CHECKPOINT_S3_PREFIX", ""),
            "endpoint_url": env_str("AUDIT_CHECKPOINT_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AUDIT_CHECKPOINT_S3_REGION", "") or None,
            "access_key": env_str("AUDIT_CHECKPOINT_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("AUDIT_CHECKPOINT_S3_SECRET_ACCESS_KEY", "") or None,
            # A checkpoint is never rewritten; on a bucket with Object Lock it cannot be.
            "file_overwrite": False,
            "default_acl": None,
        },
    }
elif AUDIT_CHECKPOINT_DIR:
    STORAGES["audit_checkpoints"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": AUDIT_CHECKPOINT_DIR},
    }
AUDIT_CHECKPOINT_STORAGE = "audit_checkpoints" if "audit_checkpoints" in STORAGES else "batches"
# The batch storage is the one the application deletes from (retention) and, in production, the
# one served to every phone: a sink only for development, or when an operator says so knowingly.
AUDIT_CHECKPOINT_IN_BATCH_STORAGE = env_bool("AUDIT_CHECKPOINT_IN_BATCH_STORAGE", not PRODUCTION)
if AUDIT_CHECKPOINT_STORAGE == "batches" and not AUDIT_CHECKPOINT_IN_BATCH_STORAGE:
    raise ConfigurationError(
        "Audit checkpoints need a sink of their own in production: set AUDIT_CHECKPOINT_DIR or "
        "AUDIT_CHECKPOINT_S3_BUCKET (docs/audit-trail.md), or AUDIT_CHECKPOINT_IN_BATCH_STORAGE=true "
        "to accept the batch storage"
    )
# After a key rotation (or the upgrade that keyed the chain), processes not yet restarted still
# write under the previous key (or none) for a while; after this long, such an entry is reported
# as forged (its key may be the leaked one the rotation retired).
AUDIT_KEY_ROLLOVER_MINUTES = env_int("AUDIT_KEY_ROLLOVER_MINUTES", 30, minimum=0, maximum=24 * 60)

# --- Device API (authority/ingestion) ----------------------------------------------------------
# Per-client rates (DRF syntax). Clients are told apart by a keyed hash of their address, kept
# in the cache for the window only. Carrier-grade NAT puts many phones behind one address, so
# these stay generous: they bound requests; the guessing budgets below bound guesses.
DEVICE_API_RATES = {
    "check-otp": env_str("DEVICE_API_CHECK_OTP_RATE", "30/minute"),
    "upload": env_str("DEVICE_API_UPLOAD_RATE", "30/minute"),
    "analytics": env_str("DEVICE_API_ANALYTICS_RATE", "30/minute"),
}
# Guessing codes (authority/ingestion/guessing; the arithmetic is in docs/guessing.md). Failed
# code lookups are counted per network (an IPv4 /24, an IPv6 /48), known only by a daily-rotating
# keyed hash in the cache. Each network has a bucket of BURST failed lookups that refills by one
# every REFILL_SECONDS; a code that later turns out valid gives its failures back.
GUESSING_IPV4_PREFIX = env_int("GUESSING_IPV4_PREFIX", 24, minimum=8, maximum=32)
GUESSING_IPV6_PREFIX = env_int("GUESSING_IPV6_PREFIX", 48, minimum=16, maximum=64)
GUESSING_NETWORK_BURST = env_int("GUESSING_NETWORK_BURST", 30, minimum=1)
GUESSING_NETWORK_REFILL_SECONDS = env_int("GUESSING_NETWORK_REFILL_SECONDS", 300, minimum=1)
# The national guard: once THRESHOLD lookups failed nationally within 10 minutes, and for HOLD
# minutes after the last such 10 minutes, a network may fail at most DAILY_CAP lookups a day.
# Networks below that (every network that has not been guessing) are not affected.
GUESSING_GUARD_THRESHOLD = env_int("GUESSING_GUARD_THRESHOLD", 500, minimum=1)
GUESSING_GUARD_HOLD_MINUTES = env_int("GUESSING_GUARD_HOLD_MINUTES", 60, minimum=1)
GUESSING_GUARD_DAILY_CAP = env_int("GUESSING_GUARD_DAILY_CAP", 20, minimum=1)
# Every device response (real or dummy) takes floor + uniform(0, spread) milliseconds, so
# timing tells a network observer nothing. The floor must exceed the real work's time.
DEVICE_API_MIN_RESPONSE_MS = env_int("DEVICE_API_MIN_RESPONSE_MS", 150, minimum=0)
DEVICE_API_RESPONSE_SPREAD_MS = env_int("DEVICE_API_RESPONSE_SPREAD_MS", 100, minimum=0)
# The share of dummy check-otp requests answered 401, as a mistyped code is (Immuni's
# DUMMY_DATA_TOKEN_ERROR_CHANCE_PERCENT, 1): were dummies always 204, every 401 an observer saw
# would be a real person entering a code (DESIGN.md 3.7). tests/django_settings.py makes it 0.
DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT = env_int(
    "DEVICE_API_DUMMY_UNAUTHORIZED_PERCENT", 1, minimum=0, maximum=100
)

# --- Operations (authority/operations) ----------------------------------------------------------
# Bearer token for /metrics; without one the endpoint is open in development, absent in production.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# --- Statistics and the dashboard (authority/statistics, authority/dashboard) ------------------
# Buffered counters: increments go to a Redis hash, a beat task adds them to the database every
# STATISTICS_FLUSH_SECONDS (no hot row per request). On by default when Redis is configured.
STATISTICS_REDIS_URL = env_str("STATISTICS_REDIS_URL", REDIS_URL)
STATISTICS_BUFFERED = env_bool("STATISTICS_BUFFERED", bool(STATISTICS_REDIS_URL))
if STATISTICS_BUFFERED and not STATISTICS_REDIS_URL:
    raise ConfigurationError("STATISTICS_BUFFERED needs REDIS_URL (or STATISTICS_REDIS_URL)")
STATISTICS_REDIS_PREFIX = env_str("STATISTICS_REDIS_PREFIX", "authority:statistics")
STATISTICS_FLUSH_SECONDS = env_int("STATISTICS_FLUSH_SECONDS", 60, minimum=5)
# Read back at once by the daily quotas of codes: always written straight to the database.
STATISTICS_UNBUFFERED_METRICS = frozenset({"otp_issued", "otp_authorized"})
# Published statistics withhold counts from 1 to k-1 (DESIGN.md 3.6).
STATISTICS_SUPPRESS_BELOW = env_int("STATISTICS_SUPPRESS_BELOW", 5, minimum=2)
DASHBOARD_DEFAULT_DAYS = env_int("DASHBOARD_DEFAULT_DAYS", 90, minimum=1)
DASHBOARD_MAX_DAYS = env_int("DASHBOARD_MAX_DAYS", 1100, minimum=1)
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 120, minimum=0)
OPEN_DATA_DEFAULT_DAYS = env_int("OPEN_DATA_DEFAULT_DAYS", 90, minimum=1)
OPEN_DATA_MAX_DAYS = env_int("OPEN_DATA_MAX_DAYS", 400, minimum=1)
OPEN_DATA_CACHE_SECONDS = env_int("OPEN_DATA_CACHE_SECONDS", 3600, minimum=0)
# Checks the device attestation of the apps' operational info (docs/device-api.md). The
# development verifier accepts every well-formed report: production must name its verifier
# explicitly, so nobody runs on the development one by accident.
OPERATIONAL_INFO_VERIFIER = env_str(
    "OPERATIONAL_INFO_VERIFIER",
    None if PRODUCTION else "authority.ingestion.analytics.attestation.DevelopmentVerifier",
)
# The verifiers lived in authority.dashboard.attestation until the device API got them: the
# development one's old path still works, anything else there cannot (its interface changed).
if OPERATIONAL_INFO_VERIFIER == "authority.dashboard.attestation.DevelopmentVerifier":
    OPERATIONAL_INFO_VERIFIER = "authority.ingestion.analytics.attestation.DevelopmentVerifier"
elif OPERATIONAL_INFO_VERIFIER.startswith("authority.dashboard.attestation."):
    raise ConfigurationError(
        "OPERATIONAL_INFO_VERIFIER: the verifiers moved to"
        " authority.ingestion.analytics.attestation (with verify_android and"
        " verify_apple_device); update the dotted path"
    )
# --- The apps' settings (authority/appconfig, docs/app-settings.md) ----------------------------
# How long phones and caches (the CDN) may keep GET /v1/settings: Immuni's hour. Shorter when a
# scheduled version comes into force sooner.
APP_SETTINGS_MAX_AGE = env_int("APP_SETTINGS_MAX_AGE", 3600, minimum=0, maximum=86400)
# How often each web process asks the database whether a new version was published (one tiny
# query per process per interval, never one per request).
APP_SETTINGS_RECHECK_SECONDS = env_int("APP_SETTINGS_RECHECK_SECONDS", 2, minimum=0, maximum=300)

# Days of made-up history the embedded run's first start loads (seed_demo_history).
DEMO_HISTORY_DAYS = env_int("DEMO_HISTORY_DAYS", 365, minimum=1)
