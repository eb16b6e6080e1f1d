"""Messages about appointments: confirmation, reminder, change, cancellation — by e-mail
(Django's e-mail backend: SMTP in production) and SMS (``voix.core.sms``), sent by the task
backend, each recorded in the delivery log (``Notification``).

Sent once, even with several workers: before sending, a worker INSERTS the message's row,
unique on (appointment, kind, channel, version). Only the worker whose insert succeeded
sends; the others get an IntegrityError and skip. A moved appointment has a new version,
so it gets a new change message and a new reminder for its new time.

A reminder is never sent after its appointment started: the sweep only picks planned
appointments still in the future, and the appointment is read again just before each
message goes (status, version and start time).
"""

import contextlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from email.mime.text import MIMEText

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from voix.core import sms

from . import ics, links
from .models import Appointment, BookingSettings, Mode, Notification, Status

logger = logging.getLogger(__name__)

Kind = Notification.Kind
Via = Notification.Via
State = Notification.State

MAX_ATTEMPTS = 3  # a failed message is tried again by the sweep, up to this many times
STALE = "Non envoyé : "  # the log's error when a message was held back (too late, changed)
DEFAULT_REMINDER_HOURS = BookingSettings._meta.get_field("reminder_hours").default

SUBJECTS = {
    Kind.CONFIRMATION: "Votre rendez-vous du {when} est confirmé",
    Kind.REMINDER: "Rappel : votre rendez-vous du {when}",
    Kind.CHANGE: "Votre rendez-vous a changé : nouveau rendez-vous le {when}",
    Kind.CANCELLATION: "Votre rendez-vous du {when} est annulé",
}


# ------------------------------------------------------------------------- what is said


def when(moment: datetime, *, year: bool = True) -> str:
    """« mardi 1 décembre 2026 à 9h30 » (local time; without the year for SMS)."""
    with translation.override("fr"):
        local = timezone.localtime(moment)
        day = date_format(local, "l j F Y" if year else "l j F")
    minutes = f"{local.minute:02d}" if local.minute else "00"
    return f"{day} à {local.hour}h{minutes}"


def recipients(email: str, phone: str) -> list[tuple[str, str]]:
    """The (channel, address) pairs a person can be reached on: their e-mail, and their
    phone when it is a French mobile (a landline cannot receive an SMS)."""
    found = []
    if email:
        found.append((Via.EMAIL, email.strip()))
    if phone:
        with contextlib.suppress(ValidationError):  # a landline: no SMS
            found.append((Via.SMS, sms.normalise_phone(phone)))
    return found


def context(appointment: Appointment, kind: str) -> dict:
    site = appointment.site
    return {
        "kind": kind,
        "appointment": appointment,
        "organisation": appointment.organisation.name,
        "reason": appointment.reason.label,
        "when": when(appointment.starts_at),
        "when_short": when(appointment.starts_at, year=False),
        "duration": appointment.reason.duration_minutes,
        "mode": appointment.mode,
        "mode_label": appointment.get_mode_display().lower(),
        "on_site": appointment.mode == Mode.ON_SITE,
        "by_phone": appointment.mode == Mode.PHONE,
        "by_video": appointment.mode == Mode.VIDEO,
        "site_name": site.name,
        "address": f"{site.address}, {site.postcode} {site.commune}",
        "access_info": getattr(site, "access_info", ""),
        "phone": appointment.phone,
        "video_link": appointment.video_link,
        "reference": appointment.reference,
        "manage_url": links.manage_url(appointment),
        "cancel_reason": appointment.cancel_reason,
        "description": appointment.reason.description,
    }


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def render_email(appointment: Appointment, kind: str) -> tuple[str, str]:
    """(subject, plain-text body) of the e-mail of *kind* about *appointment*."""
    data = context(appointment, kind)
    subject = SUBJECTS[kind].format(when=data["when"])
    body = render_to_string("appointments/messages/email_appointment.txt", data)
    return subject, _tidy(body)


def render_sms(appointment: Appointment, kind: str) -> str:
    data = context(appointment, kind)
    return _one_line(render_to_string("appointments/messages/sms_appointment.txt", data))


def email_message(appointment: Appointment, kind: str, to: str) -> EmailMessage:
    """The e-mail, with the appointment's .ics attached (METHOD:CANCEL for a cancellation)."""
    subject, body = render_email(appointment, kind)
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
    method = "CANCEL" if kind == Kind.CANCELLATION else "REQUEST"
    part = MIMEText(ics.appointment_ics(appointment, method=method), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header(
        "Content-Disposition", "attachment", filename=f"rendez-vous-{appointment.reference}.ics"
    )
    message.attach(part)
    return message


# --------------------------------------------------------------------------- sending


def claim(**fields) -> Notification | None:
    """Insert the message's log row; None when another worker already has it."""
    try:
        with transaction.atomic():
            return Notification.objects.create(attempts=1, **fields)
    except IntegrityError:
        return None


def deliver(note: Notification, send: Callable[[], object]) -> bool:
    """Send through *send* and record the outcome on the log row. True when sent."""
    try:
        send()
    except Exception as exc:  # noqa: BLE001 - any backend failure is recorded, not raised
        logger.warning("Message %s (%s) non envoyé : %s", note.pk, note.via, exc)
        note.state = State.FAILED
        note.error = f"{type(exc).__name__} : {exc}"[:2000]
    else:
        note.state = State.SENT
        note.sent_at = timezone.now()
        note.error = ""
    note.save(update_fields=["state", "error", "sent_at"])
    return note.state == State.SENT


def _sender(appointment: Appointment, kind: str, via: str, to: str) -> Callable[[], object]:
    if via == Via.EMAIL:
        return lambda: email_message(appointment, kind, to).send()
    return lambda: sms.send_sms(to, render_sms(appointment, kind))


def _refuse(note: Notification, why: str) -> None:
    note.state = State.FAILED
    note.error = why
    note.save(update_fields=["state", "error"])


def _current(appointment_id: int, kind: str, version: int, moment: datetime):
    """The appointment read again just before sending, or None when the message is no
    longer due: started, or a later version / status made it stale."""
    appointment = (
        Appointment.objects.select_related("organisation", "site", "reason")
        .filter(pk=appointment_id)
        .first()
    )
    if appointment is None or appointment.starts_at <= moment:
        return None
    if kind == Kind.CANCELLATION:
        return appointment if appointment.status == Status.CANCELLED else None
    if appointment.status != Status.PLANNED or appointment.version != version:
        return None
    return appointment


def _moment(now: datetime | None) -> datetime:
    # an injected *now* may be ahead of the clock (tests), never behind it
    real = timezone.now()
    return max(now, real) if now else real


def send_message(appointment_id: int, kind: str, version: int, *, now=None) -> int:
    """Send the message of *kind* on each channel the person gave; returns messages sent.

    Stale messages are not sent (a confirmation or change superseded by a later move, any
    message once the appointment has started); a message already logged is never resent.
    """
    moment = _moment(now)
    appointment = _current(appointment_id, kind, version, moment)
    if appointment is None:
        return 0
    sent = 0
    for via, to in recipients(appointment.email, appointment.phone):
        note = claim(appointment=appointment, kind=kind, via=via, to=to, version=version)
        if note is None:
            continue  # another worker has this one
        fresh = _current(appointment_id, kind, version, _moment(now))
        if fresh is None:
            _refuse(note, STALE + "le rendez-vous a commencé ou a changé entre-temps.")
            continue
        sent += deliver(note, _sender(fresh, kind, via, to))
    return sent


def queue(appointment: Appointment, kind: str) -> None:
    """Enqueue the message of *kind* about *appointment* (the engine calls this on commit)."""
    from .tasks import send_appointment_message

    try:
        send_appointment_message.enqueue(appointment.pk, str(kind), appointment.version)
    except Exception:  # the booking is committed: a queue failure must not undo the page
        logger.exception("Message %s du rendez-vous %s non mis en file", kind, appointment.pk)


# ------------------------------------------------------------------------- reminders


def reminder_hours() -> dict[int, int]:
    return dict(BookingSettings.objects.values_list("organisation_id", "reminder_hours"))


def due_reminders(now: datetime):
    """Planned appointments starting within their organisation's reminder delay, still
    in the future, without a reminder for their current version yet — nor a confirmation
    or change of that version sent inside the delay (booked or moved late: that message
    already told them, a reminder minutes later would be noise)."""
    hours = reminder_hours()
    future = Appointment.objects.filter(status=Status.PLANNED, starts_at__gt=now)
    organisations = future.order_by().values_list("organisation_id", flat=True).distinct()
    already = Notification.objects.filter(
        appointment=OuterRef("pk"), kind=Kind.REMINDER, version=OuterRef("version")
    )
    for organisation_id in sorted(set(organisations)):
        delay = timedelta(hours=hours.get(organisation_id, DEFAULT_REMINDER_HOURS))
        told_late = Notification.objects.filter(
            appointment=OuterRef("pk"),
            kind__in=[Kind.CONFIRMATION, Kind.CHANGE],
            version=OuterRef("version"),
            created_at__gt=OuterRef("starts_at") - delay,
        )
        yield from (
            future.filter(organisation_id=organisation_id, starts_at__lte=now + delay)
            .exclude(Exists(already))
            .exclude(Exists(told_late))
            .select_related("organisation", "site", "reason")
            .order_by("starts_at", "pk")
        )


def send_due_reminders(now: datetime | None = None) -> int:
    """Send the reminders that are due (``manage.py send_reminders``, every 15 minutes).
    Returns the messages sent by this sweep; safe to run on several workers at once."""
    moment = now or timezone.now()
    sent = 0
    for appointment in list(due_reminders(moment)):
        sent += send_message(appointment.pk, Kind.REMINDER, appointment.version, now=now)
    return sent


def retry_failed(now: datetime | None = None) -> int:
    """Try again the messages that failed (operator down, SMTP refused), at most
    MAX_ATTEMPTS times each, while they still make sense. Returns the messages sent."""
    moment = _moment(now)
    candidates = (
        Notification.objects.filter(
            state=State.FAILED,
            attempts__lt=MAX_ATTEMPTS,
            appointment__isnull=False,
            appointment__starts_at__gt=moment,
        )
        .exclude(error__startswith=STALE)  # held back on purpose, not a delivery failure
        .select_related("appointment")
    )
    sent = 0
    for note in list(candidates):
        won = Notification.objects.filter(
            pk=note.pk, state=State.FAILED, attempts=note.attempts
        ).update(state=State.PENDING, attempts=F("attempts") + 1)
        if not won:
            continue  # another worker retries it
        note.refresh_from_db()
        appointment = _current(note.appointment_id, note.kind, note.version, _moment(now))
        if appointment is None:
            _refuse(note, STALE + "le rendez-vous a commencé ou a changé entre-temps.")
            continue
        sent += deliver(note, _sender(appointment, note.kind, note.via, note.to))
    return sent
