"""Voix settings: one file, read from the environment (see docs/deploy.md).

Development (`make run`) sets DEBUG=true; production leaves DEBUG unset or false and
must then provide a safe configuration, or Voix refuses to start and says which
variable to fix.
"""

import os
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def config_error(variable: str, message: str):
    """Stop at start-up with a French message naming the variable (no traceback)."""
    sys.stderr.write(f"Configuration invalide — {variable} : {message}\n")
    raise SystemExit(2)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on", "oui", "vrai"}:
        return True
    if value in {"0", "false", "no", "off", "non", "faux"}:
        return False
    config_error(name, f"« {raw} » n'est pas une valeur booléenne (attendu : true ou false).")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        config_error(name, f"« {raw} » n'est pas un nombre entier.")


DEBUG = env_bool("DEBUG", False)
PRODUCTION = not DEBUG

DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip()
if not SECRET_KEY:
    if PRODUCTION:
        config_error(
            "SECRET_KEY",
            "obligatoire hors mode développement (DEBUG=false). Générez une clé de 50 caractères "
            "aléatoires au moins, par exemple : "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"',
        )
    SECRET_KEY = DEV_SECRET_KEY
elif PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == DEV_SECRET_KEY):
    config_error("SECRET_KEY", "trop courte ou connue : il faut au moins 50 caractères aléatoires.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if PRODUCTION and not ALLOWED_HOSTS:
    config_error(
        "ALLOWED_HOSTS", "indiquez le ou les noms de domaine servis, séparés par des virgules."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

try:
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'voix.sqlite3'}",
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    config_error("DATABASE_URL", f"adresse de base de données illisible ({exc}).")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (server, task worker) share the file: wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.forms",
    "widget_tweaks",
    "dsfr",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "voix.core",
    "voix.commitments",
    "voix.contacts",
    "voix.reception",
    "voix.appointments",
    "voix.surveys",
    "voix.complaints",
    "voix.field_reports",
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
]

ROOT_URLCONF = "voix.urls"
WSGI_APPLICATION = "voix.wsgi.application"
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

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
                "voix.core.context_processors.voix",
            ],
        },
    }
]

AUTH_USER_MODEL = "core.User"
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:public_index"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
FORMS_URLFIELD_ASSUME_HTTPS = True

# E-mail: console in development, SMTP when EMAIL_HOST is set.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Voix <ne-pas-repondre@voix.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute address of this Voix, for links in e-mails sent outside a request.
BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# SMS (voix/core/sms.py): console, file (SMS_FILE_PATH), locmem, http (an operator's HTTP
# gateway: SMS_HTTP_URL, SMS_HTTP_TOKEN, SMS_HTTP_SENDER) or a gateway class path.
SMS_BACKEND = os.environ.get("SMS_BACKEND", "console")
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", "")
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_HTTP_SENDER = os.environ.get("SMS_HTTP_SENDER", "Voix")
if SMS_BACKEND == "http" and not SMS_HTTP_URL.startswith(("https://", "http://")):
    config_error("SMS_HTTP_URL", "obligatoire avec SMS_BACKEND=http (adresse https://…).")
if SMS_BACKEND == "http" and not SMS_HTTP_TOKEN:
    config_error("SMS_HTTP_TOKEN", "obligatoire avec SMS_BACKEND=http.")

# Video appointments: the meeting link of each appointment, from this template ({jeton}:
# a unique secret, {reference}: the appointment's reference); an organisation may set its own.
VIDEO_LINK_TEMPLATE = os.environ.get("VIDEO_LINK_TEMPLATE", "https://visio.voix.localhost/{jeton}")
# Uploaded import files wait here for their task; shared by web servers and workers.
IMPORT_UPLOAD_DIR = os.environ.get("IMPORT_UPLOAD_DIR", "")
# Files people send (complaint attachments): private, never served as static files — only
# through a view that checks who asks. Shared by web servers and workers.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media"))

# Anti-robot checks of the public forms (voix/core/antibot.py): time to fill a form and
# sends per connection and window; surveys have their own per-connection and per-kiosk
# limits (docs/surveys.md), derived from these when unset.
PUBLIC_FORM_MIN_SECONDS = env_int("PUBLIC_FORM_MIN_SECONDS", 3)
PUBLIC_FORM_MAX_SECONDS = env_int("PUBLIC_FORM_MAX_SECONDS", 2 * 3600)
PUBLIC_RATE_LIMIT = env_int("PUBLIC_RATE_LIMIT", 10)
PUBLIC_RATE_WINDOW = env_int("PUBLIC_RATE_WINDOW", 3600)
if os.environ.get("SURVEY_RATE_LIMIT"):
    SURVEY_RATE_LIMIT = env_int("SURVEY_RATE_LIMIT", 30)
if os.environ.get("SURVEY_KIOSK_RATE_LIMIT"):
    SURVEY_KIOSK_RATE_LIMIT = env_int("SURVEY_KIOSK_RATE_LIMIT", 120)

# Background work: Django's Tasks API. Database backend by default; Redis (RQ) when
# REDIS_URL is set. TASK_BACKEND=immediate runs tasks in the request (tests, demos).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
TASK_BACKEND = os.environ.get("TASK_BACKEND", "redis" if REDIS_URL else "database").strip()
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "redis": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASK_BACKEND not in TASK_BACKENDS:
    config_error(
        "TASK_BACKEND", f"« {TASK_BACKEND} » inconnu (attendu : database, redis ou immediate)."
    )
if TASK_BACKEND == "redis" and not REDIS_URL:
    config_error("REDIS_URL", "obligatoire quand TASK_BACKEND=redis.")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASK_BACKEND], "QUEUES": ["default"]}}
INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }

# Security: strict in production, relaxed for local HTTP development.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# django-dsfr: mark optional fields (the DSFR recommendation) rather than required ones.
DSFR_MARK_OPTIONAL_FIELDS = True
