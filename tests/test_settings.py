"""Start-up configuration: unsafe or unreadable environments stop Voix with a French message."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "voix.exemple.fr",
}


def manage(*args, **env):
    # A clean environment: only what finds the interpreter, none of the test suite's settings.
    base = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({**PRODUCTION, "SECRET_KEY": ""}, "SECRET_KEY"),
        ({**PRODUCTION, "SECRET_KEY": "trop-courte"}, "SECRET_KEY"),
        ({**PRODUCTION, "ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({**PRODUCTION, "DEBUG": "peut-être"}, "DEBUG"),
        ({**PRODUCTION, "DATABASE_URL": "inconnu://base"}, "DATABASE_URL"),
        ({**PRODUCTION, "TASK_BACKEND": "celery"}, "TASK_BACKEND"),
        ({**PRODUCTION, "TASK_BACKEND": "redis"}, "REDIS_URL"),
        ({**PRODUCTION, "EMAIL_PORT": "vingt-cinq"}, "EMAIL_PORT"),
    ],
)
def test_unsafe_configuration_is_refused_naming_the_variable(env, variable):
    result = manage("check", **env)
    assert result.returncode == 2
    assert f"Configuration invalide — {variable} :" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_reported_without_traceback():
    result = manage(
        "migrate", DEBUG="true", DATABASE_URL="postgres://voix@127.0.0.1:9/voix?connect_timeout=2"
    )
    assert result.returncode == 2
    assert "Base de données injoignable" in result.stderr
    assert "Traceback" not in result.stderr


def test_development_mode_needs_no_configuration():
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr


SERVE_STATIC = """
import re
import django
from django.core.management import call_command

django.setup()
call_command("migrate", verbosity=0)
call_command("collectstatic", interactive=False, verbosity=0)
from django.test import Client

client = Client(HTTP_HOST="voix.exemple.fr")
page = client.get("/", secure=True)
css = re.search(r'href="(/static/voix/voix\\.[0-9a-f]{12}\\.css)"', page.content.decode()).group(1)
static = client.get(css, secure=True)
body = b"".join(static.streaming_content)
print(page.status_code, static.status_code, static["Cache-Control"], b".voix-cards" in body)
"""


def test_production_serves_fingerprinted_static_files_with_whitenoise(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", SERVE_STATIC],
        cwd=ROOT,
        env={
            **{k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ},
            **PRODUCTION,
            "STATIC_ROOT": str(tmp_path / "static"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'voix.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "voix.settings",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [
        "200",
        "200",
        "max-age=315360000,",
        "public,",
        "immutable",
        "True",
    ]
