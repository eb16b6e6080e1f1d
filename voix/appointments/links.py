"""The signed, expiring link that lets a person manage (cancel, move) their appointment.

The token signs the appointment's secret ``token`` field with a timestamp; it expires
``MANAGE_LINK_DAYS`` days after it was made (every message carries a fresh one), and is
useless once the appointment's token is renewed.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .models import Appointment

SALT = "voix.appointments.manage"
MANAGE_LINK_DAYS = 60


class LinkError(Exception):
    """The link is expired or invalid; the message says which, in French."""


def manage_token(appointment: Appointment) -> str:
    return signing.TimestampSigner(salt=SALT).sign(appointment.token)


def manage_url(appointment: Appointment, *, absolute: bool = True) -> str:
    path = reverse("appointments:manage", args=[manage_token(appointment)])
    return f"{settings.BASE_URL}{path}" if absolute else path


def appointment_for(token: str) -> Appointment:
    """The appointment behind a manage link, or LinkError with a French message."""
    try:
        secret = signing.TimestampSigner(salt=SALT).unsign(token, max_age=MANAGE_LINK_DAYS * 86400)
    except signing.SignatureExpired as exc:
        raise LinkError(
            "Ce lien a expiré. Utilisez le lien du dernier message reçu, ou appelez-nous."
        ) from exc
    except signing.BadSignature as exc:
        raise LinkError("Ce lien n'est pas valide. Vérifiez qu'il a été copié en entier.") from exc
    appointment = (
        Appointment.objects.select_related("reason", "site", "organisation", "advisor")
        .filter(token=secret)
        .first()
    )
    if appointment is None:
        raise LinkError("Ce lien ne correspond plus à un rendez-vous.")
    return appointment
