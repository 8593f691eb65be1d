"""Django settings for the neweid server.

Everything that differs between a laptop and production comes from the environment:

- ``NEWEID_HOME``: data directory (default ``~/.neweid``): the SQLite database and the generated dev key.
- ``NEWEID_SECRET_KEY``: the secret key; without it a random key is generated once and kept in
  ``$NEWEID_HOME/secret_key`` (mode 0600). No key is ever stored in the repository.
- ``DATABASE_URL``: e.g. ``postgres://user@host:5432/neweid``; default SQLite in the data directory.
- ``NEWEID_DEBUG=1``: Django debug mode (off by default; never in production).
- ``NEWEID_ALLOWED_HOSTS``: comma-separated host names (default localhost names).
- ``NEWEID_HTTPS=1``: behind TLS: secure cookies, HSTS, redirect to https.
"""

from __future__ import annotations

import datetime
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent


def data_dir() -> Path:
    """$NEWEID_HOME or ~/.neweid (the same place the CLI keeps its data)."""
    return Path(os.environ.get("NEWEID_HOME", Path.home() / ".neweid"))


def load_secret_key(directory: Path) -> str:
    """NEWEID_SECRET_KEY, or the dev key stored in ``directory`` (generated on first use, mode 0600)."""
    from_env = os.environ.get("NEWEID_SECRET_KEY")
    if from_env:
        return from_env
    path = directory / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = data_dir()
SECRET_KEY = load_secret_key(DATA_DIR)
DEBUG = _flag("NEWEID_DEBUG")
ALLOWED_HOSTS = [h.strip() for h in
                 os.environ.get("NEWEID_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "neweid.server.accounts",
    "neweid.server.audit",
    "neweid.server.registry",
    "neweid.server.console",
    "neweid.server.applications",
    "neweid.server.cards",
    "neweid.server.operations",
    "neweid.server.exchange",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "neweid.server.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "neweid.server.urls"
WSGI_APPLICATION = "neweid.server.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite in the data directory unless DATABASE_URL names another (PostgreSQL in production).
_default_db = f"sqlite:///{DATA_DIR / 'neweid.sqlite3'}"
DATABASES = {"default": dj_database_url.config(default=_default_db, conn_max_age=60, conn_health_checks=True)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # BEGIN IMMEDIATE: a writer takes the lock when its transaction starts, so concurrent writers wait
    # (timeout) instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Authentication: django-axes first (lockout), then the model backend.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "console:login"
LOGIN_REDIRECT_URL = "console:home"
LOGOUT_REDIRECT_URL = "console:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "neweid.server.accounts.passwords.CharacterClassValidator"},
    {"NAME": "neweid.server.accounts.passwords.PasswordHistoryValidator", "OPTIONS": {"history": 5}},
]

# Lockout (SEC-1): 3 failures lock the account (from any address) and the source address (for any
# account) for 30 minutes.
AXES_FAILURE_LIMIT = 3
AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "neweid.server.console.views.lockout"
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # its log lines would carry user names
AXES_CLIENT_IP_CALLABLE = "neweid.server.audit.context.client_ip"

# Sessions (SEC-1): staff sessions end after 15 idle minutes; every request renews the expiry; the session
# id is random, rotated at login by django.contrib.auth.login, kept in an HttpOnly cookie, never in URLs.
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_NAME = "neweid_session"
CSRF_COOKIE_HTTPONLY = False  # the console uses form tokens; kept readable for future API clients
CSRF_COOKIE_SAMESITE = "Strict"
CSRF_FAILURE_VIEW = "neweid.server.console.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _flag("NEWEID_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# TOTP second factor (django-otp).
OTP_TOTP_ISSUER = "neweid"
OTP_TOTP_TOLERANCE = 1

# Internationalisation: zh-Hant first, English second.
LANGUAGE_CODE = "zh-hant"
LANGUAGES = [("zh-hant", "繁體中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "neweid_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Taipei"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# Logging: to stderr. Library and server code log no personal data and no secrets (house rule).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("NEWEID_LOG_LEVEL", "WARNING")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# External systems and production parameters (docs/operations.md): dotted paths of adapter factories and
# numbers, from the environment; unset means the simulated implementations and the built-in defaults.
for _name in ("NEWEID_CITIZEN_CA", "NEWEID_CITIZEN_CA_DIR", "NEWEID_PRODUCTION_CENTRE", "NEWEID_NOTIFIER",
              "NEWEID_HOUSEHOLD_REGISTRY"):
    if os.environ.get(_name):
        globals()[_name] = os.environ[_name]
for _name in ("NEWEID_DAILY_CAPACITY", "NEWEID_BATCH_SIZE"):
    if os.environ.get(_name):
        globals()[_name] = int(os.environ[_name])
