"""Protection of the public forms against robots, without a CAPTCHA that blocks people.

Three checks, all server-side so they work without JavaScript:

- a honeypot: a field labelled « Ne pas remplir », out of sight and out of the tab order;
  people leave it empty, form-filling robots do not;
- timing: a signed timestamp set when the form is shown; a form sent less than
  ``PUBLIC_FORM_MIN_SECONDS`` (3 s) after, or more than ``PUBLIC_FORM_MAX_SECONDS``
  (2 h) after, is refused with a clear message and shown again with a fresh timestamp;
- a rate limit per client: at most ``PUBLIC_RATE_LIMIT`` (10) sends per
  ``PUBLIC_RATE_WINDOW`` seconds (1 h) from one address, counted in the cache under a
  salted SHA-256 of the address (the salt changes every day and derives from SECRET_KEY),
  so the address itself is never stored.

The client address is REMOTE_ADDR: behind a reverse proxy, have the proxy set it (e.g.
uWSGI / gunicorn forwarded headers), never trust a header a client can write.
"""

import hashlib
from datetime import datetime

from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.shortcuts import render
from django.utils import timezone

HONEYPOT_FIELD = "site_internet"
STAMP_FIELD = "horodatage"
SALT = "voix.core.antibot"
TOO_FAST = (
    "Le formulaire a été envoyé trop vite pour avoir été rempli par une personne : "
    "vérifiez vos informations, puis envoyez-le de nouveau."
)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def min_seconds() -> int:
    return _setting("PUBLIC_FORM_MIN_SECONDS", 3)


def max_seconds() -> int:
    return _setting("PUBLIC_FORM_MAX_SECONDS", 2 * 3600)


def rate_limit() -> int:
    return _setting("PUBLIC_RATE_LIMIT", 10)


def rate_window() -> int:
    return _setting("PUBLIC_RATE_WINDOW", 3600)


# ----- timing ---------------------------------------------------------------------------


def stamp(now: datetime | None = None) -> str:
    """The signed « form shown at » value to put in the form."""
    moment = now or timezone.now()
    return signing.Signer(salt=SALT).sign(str(int(moment.timestamp())))


def check_stamp(value: str, now: datetime | None = None) -> str | None:
    """None if the form was filled in a human time; else the French message to show."""
    try:
        shown = int(signing.Signer(salt=SALT).unsign(value or ""))
    except (signing.BadSignature, ValueError):
        return (
            "Le formulaire n'a pas pu être vérifié : vérifiez vos informations, puis "
            "envoyez-le de nouveau."
        )
    age = (now or timezone.now()).timestamp() - shown
    if age < min_seconds():
        return TOO_FAST
    if age > max_seconds():
        hours = max_seconds() // 3600
        span = f"{hours} heure{'s' if hours > 1 else ''}" if hours else "longtemps"
        return (
            f"Le formulaire est ouvert depuis plus de {span} : vérifiez que le créneau "
            "vous convient toujours, puis envoyez-le de nouveau."
        )
    return None


# ----- the form part --------------------------------------------------------------------


class AntibotForm(forms.Form):
    """Base of the public forms: the honeypot and the timestamp. Pass *now* to test."""

    def __init__(self, *args, now=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._now = now
        self.fields[HONEYPOT_FIELD] = forms.CharField(
            label="Ne pas remplir",
            required=False,
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )
        self.fields[STAMP_FIELD] = forms.CharField(required=False, widget=forms.HiddenInput)
        # A fresh timestamp each time the form is shown (again): a person corrects a
        # mistake and sends it again without waiting two hours or being « too fast ».
        self.fields[STAMP_FIELD].initial = stamp(now)
        self.robot = False

    def clean(self):
        data = super().clean()
        if (self.data.get(HONEYPOT_FIELD) or "").strip():
            self.robot = True
            raise forms.ValidationError(
                "Votre demande n'a pas été envoyée : le champ « Ne pas remplir » doit rester vide.",
                code="honeypot",
            )
        problem = check_stamp(self.data.get(STAMP_FIELD, ""), self._now)
        if problem:
            raise forms.ValidationError(problem, code="timing")
        return data

    def antibot_fields(self):
        return [self[HONEYPOT_FIELD], self[STAMP_FIELD]]

    def visible_fields(self):
        return [f for f in super().visible_fields() if f.name != HONEYPOT_FIELD]

    def render_stamp(self):
        """The hidden timestamp: the one sent, while it is genuine and not too old (a
        person who corrects a mistake is not held back as « too fast »), else a fresh one."""
        value = self.fields[STAMP_FIELD].initial
        sent = self.data.get(STAMP_FIELD, "") if self.is_bound else ""
        if sent:
            problem = check_stamp(sent, self._now)
            if problem in (None, TOO_FAST):
                value = sent
        return forms.HiddenInput().render(STAMP_FIELD, value, attrs={"id": f"id_{STAMP_FIELD}"})


# ----- rate limit -----------------------------------------------------------------------


def client_key(request, now: datetime | None = None) -> str:
    """A salted SHA-256 of the client address; the salt changes every day (Paris time)."""
    moment = now or timezone.now()
    day = timezone.localdate(moment).isoformat()
    salt = hashlib.sha256(f"{settings.SECRET_KEY}:{SALT}:{day}".encode()).hexdigest()
    address = request.META.get("REMOTE_ADDR", "") or "inconnue"
    return hashlib.sha256(f"{salt}:{address}".encode()).hexdigest()


def hit(
    request, scope: str = "reservation", now: datetime | None = None, limit: int | None = None
) -> bool:
    """Count one send from this client; False once *limit* (default ``PUBLIC_RATE_LIMIT``)
    sends were counted in the window for this *scope*."""
    moment = now or timezone.now()
    window = rate_window()
    bucket = int(moment.timestamp()) // window
    key = f"voix:limite:{scope}:{client_key(request, moment)}:{bucket}"
    cache.add(key, 0, timeout=window + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 60)
        count = 1
    return count <= (rate_limit() if limit is None else limit)


def too_many(request, *, what: str = "la prise de rendez-vous"):
    """The 429 page, in French; *what* names the protected form."""
    minutes = max(1, rate_window() // 60)
    return render(
        request,
        "core/too_many.html",
        {"minutes": minutes, "nav": "public", "what": what},
        status=429,
    )
