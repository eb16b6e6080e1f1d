"""Sending short text messages (SMS), through a backend chosen by the setting SMS_BACKEND.

    from voix.core.sms import send_sms
    send_sms("+33612345678", "Votre tour approche : ticket A012.")

Backends (dotted path in SMS_BACKEND, or one of the short names):

- ``console`` (default): prints the message on the standard output (development);
- ``file``: appends one line per message to the file SMS_FILE_PATH (a demo, a test bench);
- ``locmem``: keeps messages in ``voix.core.sms.outbox`` (tests);
- ``http``: posts each message to an operator's HTTP gateway (``HttpBackend``: settings
  SMS_HTTP_URL, SMS_HTTP_TOKEN, SMS_HTTP_SENDER);
- any class with a ``send(to, text)`` method (a real operator's gateway).

Call it from a background task: an operator may be slow, and a page must not wait.
"""

import json
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from django.utils.module_loading import import_string

SHORT_NAMES = {
    "console": "voix.core.sms.ConsoleBackend",
    "file": "voix.core.sms.FileBackend",
    "locmem": "voix.core.sms.LocmemBackend",
    "http": "voix.core.sms.HttpBackend",
}

# Messages kept by the locmem backend (tests empty it with outbox.clear()).
outbox: list["Sms"] = []
_file_lock = threading.Lock()


@dataclass(frozen=True)
class Sms:
    to: str
    text: str


class SmsError(Exception):
    """The message could not be handed to the operator; the text says why, in French."""


def normalise_phone(raw: str) -> str:
    """A French mobile number in international form (+336…/+337…), or ValidationError.

    Accepts « 06 12 34 56 78 », « 06.12.34.56.78 », « +33 6 12 34 56 78 », « 0033612345678 ».
    """
    digits = "".join(ch for ch in (raw or "") if ch.isdigit() or ch == "+")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("0") and len(digits) == 10:
        digits = "+33" + digits[1:]
    if not (digits.startswith("+33") and len(digits) == 12 and digits[3] in "67"):
        raise ValidationError(
            "Numéro de téléphone portable invalide : indiquez 10 chiffres commençant par "
            "06 ou 07 (ex. 06 12 34 56 78)."
        )
    return digits


class ConsoleBackend:
    def send(self, to: str, text: str) -> None:
        sys.stdout.write(f"SMS à {to} : {text}\n")
        sys.stdout.flush()


class FileBackend:
    def send(self, to: str, text: str) -> None:
        path = getattr(settings, "SMS_FILE_PATH", "")
        if not path:
            raise ImproperlyConfigured("SMS_FILE_PATH est obligatoire avec SMS_BACKEND=file.")
        line = json.dumps(
            {"at": timezone.now().isoformat(), "to": to, "text": text}, ensure_ascii=False
        )
        with _file_lock, open(path, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


class LocmemBackend:
    def send(self, to: str, text: str) -> None:
        outbox.append(Sms(to, text))


class HttpBackend:
    """An SMS operator's HTTP gateway: one POST per message, in JSON
    ``{"to": "+336…", "text": "…", "sender": SMS_HTTP_SENDER}``, with the header
    ``Authorization: Bearer SMS_HTTP_TOKEN``. Any answer other than 2xx, a timeout or an
    unreachable gateway raises SmsError (the delivery log records it)."""

    timeout = 10  # seconds: a task waits at most this long for the operator

    def __init__(self):
        self.url = getattr(settings, "SMS_HTTP_URL", "")
        self.token = getattr(settings, "SMS_HTTP_TOKEN", "")
        self.sender = getattr(settings, "SMS_HTTP_SENDER", "") or "Voix"
        if not self.url.startswith(("https://", "http://")):
            raise ImproperlyConfigured(
                "SMS_HTTP_URL est obligatoire avec SMS_BACKEND=http et doit commencer par "
                "https:// (ou http://)."
            )
        if not self.token:
            raise ImproperlyConfigured("SMS_HTTP_TOKEN est obligatoire avec SMS_BACKEND=http.")

    def send(self, to: str, text: str) -> None:
        body = json.dumps({"to": to, "text": text, "sender": self.sender}).encode("utf-8")
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
                answer = response.read(500)
        except urllib.error.HTTPError as exc:
            detail = _excerpt(exc.read(500) if exc.fp else b"")
            raise SmsError(
                f"Le fournisseur SMS a refusé le message (réponse HTTP {exc.code})"
                + (f" : {detail}" if detail else ".")
            ) from exc
        except TimeoutError as exc:
            raise SmsError(
                f"Le fournisseur SMS n'a pas répondu en {self.timeout} secondes."
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise SmsError(
                    f"Le fournisseur SMS n'a pas répondu en {self.timeout} secondes."
                ) from exc
            raise SmsError(f"Le fournisseur SMS est injoignable ({reason}).") from exc
        if not 200 <= status < 300:
            detail = _excerpt(answer)
            raise SmsError(
                f"Le fournisseur SMS a refusé le message (réponse HTTP {status})"
                + (f" : {detail}" if detail else ".")
            )


def _excerpt(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", "replace").split())[:200]


def get_backend():
    name = getattr(settings, "SMS_BACKEND", "") or "console"
    try:
        return import_string(SHORT_NAMES.get(name, name))()
    except ImportError as exc:
        raise ImproperlyConfigured(f"SMS_BACKEND « {name} » introuvable.") from exc


def send_sms(to: str, text: str) -> Sms:
    """Send one SMS to *to* (any French mobile form) through the configured backend."""
    message = Sms(normalise_phone(to), text)
    get_backend().send(message.to, message.text)
    return message
