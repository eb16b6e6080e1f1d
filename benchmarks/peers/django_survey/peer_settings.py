"""Minimal Django project for django-survey-and-report, the peer of surveys_answers.py.

What ``django-admin startproject`` gives (the same middleware as Voix: sessions, CSRF,
messages…) plus the ``survey`` app and the settings it reads. Production-like: DEBUG off,
cached template loader (Django's default when DEBUG is off), persistent database
connections like Voix (CONN_MAX_AGE 60). The database comes from PEER_DATABASE_URL
(postgres://user@host:port/name); the same time zone and language as Voix.
"""

import os
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
SECRET_KEY = "bench-peer-not-secret-" + "x" * 40
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "Europe/Paris"
USE_I18N = True
LANGUAGE_CODE = "fr"
ROOT_URLCONF = "peer_urls"
WSGI_APPLICATION = "peer_wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "survey",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
STATIC_ROOT = HERE / ".venv" / "static"
LOGIN_URL = "/admin/login/"

# Read by the survey app (its documented settings).
CHOICES_SEPARATOR = ","
USER_DID_NOT_ANSWER = "Sans réponse"
TEX_CONFIGURATION_FILE = None
SURVEY_DEFAULT_PIE_COLOR = "red!50"
EXCEL_COMPATIBLE_CSV = False
DEFAULT_SURVEY_PUBLISHING_DURATION = 365

_url = urlparse(os.environ.get("PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _url.path.lstrip("/"),
        "USER": _url.username or "",
        "PASSWORD": _url.password or "",
        "HOST": _url.hostname or "",
        "PORT": str(_url.port or ""),
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
