"""Sending short text messages (SMS), through a backend chosen by the setting SMS_BACKEND.

    from voix.core.sms import send_sms
    send_sms("+33612345678", "Votre tour approche : ticket A012.")

Backends (dotted path in SMS_BACKEND, or one of the short names):

- ``console`` (default): prints the message on the standard output (development);
- ``file``: appends one line per message to the file SMS_FILE_PATH (a demo, a test bench);
- ``locmem``: keeps messages in ``voix.core.sms.outbox`` (tests);
- any class with a ``send(to, text)`` method (a real operator's gateway).

Call it from a background task: an operator may be slow, and a page must not wait.
"""

import json
import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone
from django.utils.module_loading import import_string

SHORT_NAMES = {
    "console": "voix.core.sms.ConsoleBackend",
    "file": "voix.core.sms.FileBackend",
    "locmem": "voix.core.sms.LocmemBackend",
}

# Messages kept by the locmem backend (tests empty it with outbox.clear()).
outbox: list["Sms"] = []
_file_lock = threading.Lock()


@dataclass(frozen=True)
class Sms:
    to: str
    text: str


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
