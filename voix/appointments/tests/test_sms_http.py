"""The HTTP SMS provider adapter, against a real gateway listening on 127.0.0.1."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ImproperlyConfigured

from voix.core import sms


class Gateway:
    """A tiny operator gateway: records each request and answers with *status*."""

    def __init__(self):
        self.requests = []
        self.status = 202
        self.answer = b'{"id": "msg-1"}'
        self.delay = 0.0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                length = int(self.headers.get("Content-Length") or 0)
                gateway.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": self.rfile.read(length),
                    }
                )
                if gateway.delay:
                    time.sleep(gateway.delay)
                try:
                    self.send_response(gateway.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(gateway.answer)))
                    self.end_headers()
                    self.wfile.write(gateway.answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def gateway(settings):
    with Gateway() as gateway:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = gateway.url
        settings.SMS_HTTP_TOKEN = "jeton-secret"
        settings.SMS_HTTP_SENDER = "CafTest"
        yield gateway


def test_http_backend_posts_json_with_the_bearer_token(gateway):
    message = sms.send_sms("06 12 34 56 78", "Rappel : rendez-vous demain à 9h00, « Caf ».")
    assert message.to == "+33612345678"
    assert len(gateway.requests) == 1
    request = gateway.requests[0]
    assert request["path"] == "/v1/sms"
    assert request["headers"]["Authorization"] == "Bearer jeton-secret"
    assert request["headers"]["Content-Type"].startswith("application/json")
    assert json.loads(request["body"].decode("utf-8")) == {
        "to": "+33612345678",
        "text": "Rappel : rendez-vous demain à 9h00, « Caf ».",
        "sender": "CafTest",
    }


def test_http_backend_is_the_short_name_http(gateway):
    assert isinstance(sms.get_backend(), sms.HttpBackend)


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_a_refusal_raises_a_french_error_with_the_status(gateway, status):
    gateway.status = status
    gateway.answer = b'{"error": "quota depasse"}'
    with pytest.raises(sms.SmsError) as caught:
        sms.send_sms("0712345678", "Bonjour")
    text = str(caught.value)
    assert f"réponse HTTP {status}" in text
    assert "refusé" in text
    assert "quota depasse" in text
    assert "jeton-secret" not in text


def test_a_non_2xx_success_code_is_refused_too(gateway):
    gateway.status = 304
    with pytest.raises(sms.SmsError, match="réponse HTTP 304"):
        sms.send_sms("0712345678", "Bonjour")


def test_an_unreachable_gateway_raises_a_french_error(gateway, settings):
    gateway.server.shutdown()
    gateway.server.server_close()
    with pytest.raises(sms.SmsError, match="injoignable"):
        sms.send_sms("0712345678", "Bonjour")


def test_a_slow_gateway_times_out(gateway, monkeypatch):
    monkeypatch.setattr(sms.HttpBackend, "timeout", 0.3)
    gateway.delay = 1.5
    with pytest.raises(sms.SmsError, match="n'a pas répondu en 0.3 secondes"):
        sms.send_sms("0712345678", "Bonjour")


def test_the_default_timeout_is_ten_seconds():
    assert sms.HttpBackend.timeout == 10


@pytest.mark.parametrize(
    "url,token,expected",
    [
        ("", "t", "SMS_HTTP_URL est obligatoire"),
        ("file:///etc/passwd", "t", "SMS_HTTP_URL est obligatoire"),
        ("https://sms.example.fr/", "", "SMS_HTTP_TOKEN est obligatoire"),
    ],
)
def test_missing_settings_are_explained(settings, url, token, expected):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = url
    settings.SMS_HTTP_TOKEN = token
    with pytest.raises(ImproperlyConfigured, match=expected):
        sms.get_backend()


def test_through_the_delivery_log_a_refusal_is_recorded_then_retried(
    world, gateway, django_capture_on_commit_callbacks
):
    from django.core import mail

    from voix.appointments import notifications, services
    from voix.appointments.models import Channel, Mode, Notification

    gateway.status = 503
    slot = services.first_available(world.rdv_reason, world.site)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.book(
            None,
            world.rdv_reason,
            site=world.site,
            mode=Mode.ON_SITE,
            starts_at=slot.starts_at,
            channel=Channel.PUBLIC,
            full_name="Camille Usager",
            phone="06 12 34 56 78",
            email="camille@example.org",
            consent=True,
        )
    assert len(mail.outbox) == 1
    note = Notification.objects.get(appointment=appointment, via="sms")
    assert note.state == "echec" and "réponse HTTP 503" in note.error
    gateway.status = 200
    assert notifications.retry_failed() == 1
    note.refresh_from_db()
    assert note.state == "envoye" and note.attempts == 2
    body = json.loads(gateway.requests[-1]["body"])
    assert body["to"] == "+33612345678" and "/mon-rendez-vous/" in body["text"]
