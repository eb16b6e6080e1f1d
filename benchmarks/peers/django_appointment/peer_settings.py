"""Minimal Django project for django-appointment, the peer of the availability benchmark.

Only what its models and slot functions need. The database comes from PEER_DATABASE_URL
(postgres://user@host:port/name, or sqlite:///path); the same time zone as Voix.
"""

import os
from urllib.parse import urlparse

SECRET_KEY = "bench-peer-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
LANGUAGE_CODE = "fr"
ROOT_URLCONF = "peer_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "phonenumber_field",
    "appointment",
]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# django-appointment ships no migrations: bench_peer.py makes them for the installed
# version, inside the virtualenv (never committed).
MIGRATION_MODULES = {"appointment": "peer_migrations.appointment"}
APPOINTMENT_SLOT_DURATION = 20
APPOINTMENT_BUFFER_TIME = 0
APPOINTMENT_LEAD_TIME = (9, 0)
APPOINTMENT_FINISH_TIME = (16, 30)

_url = urlparse(os.environ.get("PEER_DATABASE_URL", "sqlite:///peer.sqlite3"))
if _url.scheme.startswith("postgres"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.path.lstrip("/"),
            "USER": _url.username or "",
            "PASSWORD": _url.password or "",
            "HOST": _url.hostname or "",
            "PORT": str(_url.port or ""),
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": _url.path.lstrip("/")}}
