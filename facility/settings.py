"""Haven settings, read from the environment. Bad values fail at start-up, not at first use."""

import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_flag(name: str, default: bool) -> bool:
    """A yes/no setting; anything but a clear yes or no stops start-up."""
    raw = env.str(name, default="1" if default else "0").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off.")
    return raw in _TRUE


DEBUG = env_flag("DEBUG", False)
# Test settings only when asked for: `./run test` exports HAVEN_TESTING=1, and a bare `pytest`
# loads facility/settings_pytest.py, which defaults it to 1. Nothing is guessed.
TESTING = env_flag("HAVEN_TESTING", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "haven-development-only-secret-key-not-for-production-use-0123456789"
if not (DEBUG or TESTING) and len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters in production.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

DATABASE_URL = env.str("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/haven")
if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
    raise ImproperlyConfigured(
        "DATABASE_URL must be a postgres:// URL; Haven runs on PostgreSQL only."
    )
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if TESTING else 60)
# A kept connection is checked before a request reuses it: after PostgreSQL restarts, the first
# request of each web process would otherwise fail on the dead one (tests/faults).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"].setdefault("TEST", {})
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"]["TEST"]["NAME"] = env.str("TEST_DATABASE_NAME")
if TESTING:
    # Where the test session is not a superuser, a transactional test's end falls back to
    # Django's flush (tests/conftest.py), whose TRUNCATE the audit tables refuse unless the
    # session opts in (facility/migrations/0004_audit_no_truncate).
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    # A test database is thrown away: its commits (migrations, transactional tests) need not
    # wait for the disk.
    _pg_options["options"] = (
        _pg_options.get("options", "")
        + " -c haven.allow_audit_truncate=on -c synchronous_commit=off"
    ).strip()

# Tests use their own Redis database: they flush it between tests.
REDIS_URL = env.str("REDIS_URL", default=f"redis://127.0.0.1:6379/{15 if TESTING else 0}")
_redis = urlsplit(REDIS_URL)
if _redis.scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured("REDIS_URL must be redis://, rediss:// or unix:// (a socket path).")


def celery_broker_url(redis_url: str) -> str:
    """Celery spells a unix socket `redis+socket://`; redis-py and Django's cache spell it `unix://`."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        query = f"?{parts.query}" if parts.query else ""
        return f"redis+socket://{parts.path}{query}"
    return redis_url


INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "auditlog",
    "django_htmx",
    "template_partials",
    "csp",
    "facility",
    "clients",
    "observations",
    "medications",
    "screening",
    "transport",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "facility.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "facility.middleware.RequireMfaMiddleware",
    "facility.middleware.FacilityTimezoneMiddleware",
    "facility.middleware.NoStoreMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # After MessageMiddleware: "Draft incident opened" for whoever's action opened one.
    "observations.middleware.IncidentDraftBannerMiddleware",
]

ROOT_URLCONF = "facility.urls"
WSGI_APPLICATION = "facility.wsgi.application"

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
                "facility.context_processors.haven",
            ],
        },
    }
]

AUTH_USER_MODEL = "facility.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
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
if TESTING:
    # PBKDF2 at full strength costs ~0.3 s a login; tests log in hundreds of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# allauth: staff accounts are made by admins, never by sign-up.
ACCOUNT_ADAPTER = "facility.adapters.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
# Set-password links that never create unverified addresses (facility/accounts.py).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "facility.accounts.StaffPasswordResetTokenGenerator"
# Failed sign-ins lock out after 5 in 15 minutes (privacy.md, 164.312(d)), counted in PostgreSQL by
# facility/throttle.py, not by allauth's cache-backed limits: from a browser that trusts the
# account (device cookie), per account and browser only; from any other, per account from one
# address, per account from all addresses, and a much higher ceiling per address (a nursing
# station's tablets share one). allauth's per-address `login` limit (30/min) would answer 429 to a
# whole station, so it is off unless HAVEN_LOGIN_RATE_LIMIT names one (allauth syntax, "30/m/ip").
ACCOUNT_RATE_LIMITS = {
    "login_failed": None,
    "login": env.str("HAVEN_LOGIN_RATE_LIMIT", default="") or None,
}
HAVEN_SIGNIN_WINDOW_MINUTES = env.int("HAVEN_SIGNIN_WINDOW_MINUTES", default=15)
HAVEN_SIGNIN_ACCOUNT_LIMIT = env.int("HAVEN_SIGNIN_ACCOUNT_LIMIT", default=5)
HAVEN_SIGNIN_ADDRESS_LIMIT = env.int("HAVEN_SIGNIN_ADDRESS_LIMIT", default=50)
HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT = env.int("HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT", default=20)
HAVEN_COSIGN_ACTOR_LIMIT = env.int("HAVEN_COSIGN_ACTOR_LIMIT", default=10)
HAVEN_DEVICE_COOKIE_DAYS = env.int("HAVEN_DEVICE_COOKIE_DAYS", default=30)
if not 5 <= HAVEN_SIGNIN_WINDOW_MINUTES <= 60:
    raise ImproperlyConfigured("HAVEN_SIGNIN_WINDOW_MINUTES must be between 5 and 60.")
if not 3 <= HAVEN_SIGNIN_ACCOUNT_LIMIT <= 10:
    raise ImproperlyConfigured("HAVEN_SIGNIN_ACCOUNT_LIMIT must be between 3 and 10 (privacy.md).")
if not 2 * HAVEN_SIGNIN_ACCOUNT_LIMIT <= HAVEN_SIGNIN_ADDRESS_LIMIT <= 1000:
    raise ImproperlyConfigured(
        "HAVEN_SIGNIN_ADDRESS_LIMIT must be 2 x HAVEN_SIGNIN_ACCOUNT_LIMIT to 1000."
    )
if not HAVEN_SIGNIN_ACCOUNT_LIMIT <= HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT <= 100:
    raise ImproperlyConfigured(
        "HAVEN_SIGNIN_UNTRUSTED_ACCOUNT_LIMIT must be HAVEN_SIGNIN_ACCOUNT_LIMIT to 100."
    )
if not HAVEN_SIGNIN_ACCOUNT_LIMIT <= HAVEN_COSIGN_ACTOR_LIMIT <= 50:
    raise ImproperlyConfigured("HAVEN_COSIGN_ACTOR_LIMIT must be HAVEN_SIGNIN_ACCOUNT_LIMIT to 50.")
if not 1 <= HAVEN_DEVICE_COOKIE_DAYS <= 90:
    raise ImproperlyConfigured("HAVEN_DEVICE_COOKIE_DAYS must be between 1 and 90.")
# The current password at password change counts towards the same lock-out.
ACCOUNT_FORMS = {"change_password": "facility.adapters.ChangePasswordForm"}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
# The sign-in and re-authentication code steps count wrong codes towards the same lock-out as
# wrong passwords.
MFA_FORMS = {
    "authenticate": "facility.adapters.MfaAuthenticateForm",
    "reauthenticate": "facility.adapters.MfaReauthenticateForm",
}
MFA_TOTP_ISSUER = "Haven"
HAVEN_MFA_REQUIRED_ROLES = env.list("HAVEN_MFA_REQUIRED_ROLES", default=["supervisor", "admin"])

# Sessions live in the database so any web process can serve any request.
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
HAVEN_IDLE_TIMEOUT_MINUTES = env.int("HAVEN_IDLE_TIMEOUT_MINUTES", default=15)
if not 5 <= HAVEN_IDLE_TIMEOUT_MINUTES <= 30:
    raise ImproperlyConfigured("HAVEN_IDLE_TIMEOUT_MINUTES must be between 5 and 30 (privacy.md).")
HAVEN_IDLE_WARNING_MINUTES = 2
# Break-the-glass (specs/privacy.md "Emergency access"): how long one access to one client lasts.
HAVEN_BREAK_GLASS_MINUTES = env.int("HAVEN_BREAK_GLASS_MINUTES", default=60)
if not 5 <= HAVEN_BREAK_GLASS_MINUTES <= 240:
    raise ImproperlyConfigured("HAVEN_BREAK_GLASS_MINUTES must be between 5 and 240.")
# The longest leave off site before the client must be discharged instead (clients/services.py).
HAVEN_LEAVE_MAX_DAYS = env.int("HAVEN_LEAVE_MAX_DAYS", default=30)
if not 1 <= HAVEN_LEAVE_MAX_DAYS <= 90:
    raise ImproperlyConfigured("HAVEN_LEAVE_MAX_DAYS must be between 1 and 90.")

CACHES = {
    "default": {
        # Redis down must not stop sign-in: the cache only holds allauth's nuisance rate limits.
        "BACKEND": "facility.cache.DegradingRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="haven"),
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}

CELERY_BROKER_URL = celery_broker_url(REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="haven")
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "var" / "celerybeat-schedule")
)
# Every periodic scan, in one place. The interval is an environment knob so tests can run a real
# beat without waiting a minute.
HAVEN_SCAN_SECONDS = env.float("HAVEN_SCAN_SECONDS", default=60.0)
CELERY_BEAT_SCHEDULE = {
    "missed-checks": {
        "task": "observations.tasks.scan_missed_checks",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "doses": {
        "task": "medications.tasks.scan_doses",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "orientation-overdue": {
        "task": "clients.tasks.scan_orientation_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "leaves-overdue": {
        "task": "clients.tasks.scan_leaves_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "vitals-overdue": {
        "task": "observations.tasks.scan_vitals_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "reassessments-overdue": {
        "task": "observations.tasks.scan_reassessments_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "cssrs-overdue": {
        "task": "observations.tasks.scan_cssrs_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "incidents": {
        "task": "observations.tasks.scan_incidents",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "trips-overdue": {
        "task": "transport.tasks.scan_trips_overdue",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    # Expired fleet documents take a vehicle out of service; the scan is idempotent and cheap,
    # so it runs with the others rather than once a night (a missed night would miss a day).
    "fleet-expiries": {
        "task": "transport.tasks.scan_fleet_expiries",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    # A shift's report not received 30 minutes into the next shift alerts the supervisor (issue 15).
    "handoffs-unreceived": {
        "task": "facility.tasks.scan_handoffs_unreceived",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    # The audit chain (issue 16): data changes sealed into it every minute, anchored outside the
    # database every 6 hours, verified (and anchored) every night.
    "audit-seal": {
        "task": "facility.tasks.seal_audit_changes",
        "schedule": HAVEN_SCAN_SECONDS,
    },
    "audit-anchor": {
        "task": "facility.tasks.anchor_audit_chain",
        "schedule": crontab(minute=5, hour="*/6"),
    },
    "audit-verify": {
        "task": "facility.tasks.verify_audit_chain",
        "schedule": crontab(minute=20, hour=3),
    },
    # A dated Part 2 consent expiring within 14 days alerts clinicians and supervisors (issue 16).
    "consents-expiring": {
        "task": "clients.tasks.scan_consents_expiring",
        "schedule": crontab(minute=40, hour="*/6"),
    },
}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))
# Uploads (client photos) are PHI: readable by Haven's own user only, never served by URL.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not (DEBUG or TESTING)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

EMAIL_BACKEND = (
    "django.core.mail.backends.locmem.EmailBackend"
    if TESTING
    else env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="haven@localhost")

# Security headers. A strict CSP: no inline script anywhere; data: images for the MFA QR code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
_production = not (DEBUG or TESTING)
SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE", _production)
CSRF_COOKIE_SECURE = env_flag("CSRF_COOKIE_SECURE", _production)
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT", _production)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if _production else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = _production
SECURE_HSTS_PRELOAD = _production
SECURE_PROXY_SSL_HEADER = None
if env_flag("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# django-auditlog: every model of ours and allauth's is tracked with the acting user.
AUDITLOG_INCLUDE_ALL_MODELS = True
AUDITLOG_EXCLUDE_TRACKING_MODELS = (
    "sessions",
    "contenttypes",
    "admin.logentry",
    "auditlog.logentry",
    "facility.accessevent",
    # Failed sign-ins are already audited as AccessEvents; these rows are only a counter.
    "facility.signinfailure",
)
# "pdf": a handoff's frozen report (issue 15) is bytes; its sha256 is logged instead. So is a
# consent's "signed_copy" (issue 16: an uploaded PDF or image; `signed_copy_sha256` is logged).
AUDITLOG_EXCLUDE_TRACKING_FIELDS = (
    "password", "last_login", "secret", "data", "pdf", "signed_copy",
)  # fmt: skip
# The audit chain's anchors (issue 16, facility/audit_chain.py): signed with a key that only the
# environment holds, never the database; appended to a file outside it. `check --deploy` fails
# without a key (haven.E016); ./run generates a development key into var/ when none is set.
# Tests get a fixed key and an anchor log of their own process (a test that checks anchors sets
# its own path: anchors of a rolled-back chain would not match the next test's).
HAVEN_AUDIT_ANCHOR_KEY = env.str(
    "HAVEN_AUDIT_ANCHOR_KEY",
    default="haven-tests-only-audit-anchor-key-0123456789" if TESTING else "",
)
HAVEN_AUDIT_ANCHOR_PATH = env.str(
    "HAVEN_AUDIT_ANCHOR_PATH",
    default=(
        str(Path(tempfile.mkdtemp(prefix="haven-test-anchors-")) / "audit-anchors.jsonl")
        if TESTING
        else str(BASE_DIR / "var" / "audit-anchors.jsonl")
    ),
)
# Data changes younger than this are sealed next time (their transaction may still be open).
HAVEN_AUDIT_SEAL_GRACE_SECONDS = env.int("HAVEN_AUDIT_SEAL_GRACE_SECONDS", default=120)
HAVEN_AUDIT_ANCHOR_MAX_AGE_HOURS = 26

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}
