"""The .ics file attached to appointment e-mails (RFC 5545, written by hand).

One VEVENT per appointment: UID ``<reference>@voix`` stays the same across changes and
SEQUENCE follows the appointment's version, so calendars update the event they already
have (METHOD:REQUEST) or remove it (METHOD:CANCEL). Times are in UTC (the ``Z`` form),
lines end in CRLF and are folded at 75 octets without splitting a UTF-8 character.
"""

from datetime import UTC, datetime
from email.utils import parseaddr

from django.conf import settings
from django.utils import timezone

from . import links
from .models import Appointment, Mode, Status

METHODS = ("REQUEST", "CANCEL", "PUBLISH")
LINE_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _param(value: str) -> str:
    """A parameter value (CN=…): quoted, without the characters a quoted value cannot hold."""
    cleaned = "".join(ch for ch in str(value) if ch not in '"\r\n' and ord(ch) >= 32)
    return f'"{cleaned}"'


def fold(line: str) -> str:
    """Fold one content line into chunks of at most 75 octets joined by CRLF + space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= LINE_OCTETS:
        return line
    parts, current, size, limit = [], [], 0, LINE_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append("".join(current))
            current, size, limit = [], 0, LINE_OCTETS - 1  # the leading space counts
        current.append(ch)
        size += width
    parts.append("".join(current))
    return "\r\n ".join(parts)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def location(appointment: Appointment) -> str:
    if appointment.mode == Mode.PHONE:
        return "Par téléphone"
    if appointment.mode == Mode.VIDEO:
        return appointment.video_link or "En visio"
    site = appointment.site
    return f"{site.name}, {site.address}, {site.postcode} {site.commune}"


def appointment_ics(appointment: Appointment, *, method: str = "REQUEST", now=None) -> str:
    """The calendar text of *appointment* (CRLF line endings, folded, ready to attach)."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"Méthode iCalendar inconnue : {method}")
    cancelled = method == "CANCEL" or appointment.status == Status.CANCELLED
    organisation = appointment.organisation
    manage = links.manage_url(appointment)
    summary = f"Rendez-vous {organisation.name} : {appointment.reason.label}"
    lines = [
        f"Motif : {appointment.reason.label}",
        f"Mode : {appointment.get_mode_display()}",
        f"Référence : {appointment.reference}",
    ]
    if appointment.mode == Mode.VIDEO and appointment.video_link:
        lines.append(f"Lien de la visio : {appointment.video_link}")
    elif appointment.mode == Mode.PHONE:
        lines.append(
            "Un conseiller vous appellera au "
            + (appointment.phone or "numéro que vous avez indiqué")
            + "."
        )
    else:
        site = appointment.site
        lines.append(f"Adresse : {site.name}, {site.address}, {site.postcode} {site.commune}")
    lines.append(f"Déplacer ou annuler : {manage}")
    organizer_name, organizer_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    stamp = now or timezone.now()
    content = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Voix//Rendez-vous//FR",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
        "BEGIN:VEVENT",
        f"UID:{appointment.reference}@voix",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(appointment.starts_at)}",
        f"DTEND:{_utc(appointment.ends_at)}",
        f"SEQUENCE:{appointment.version}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        f"SUMMARY:{escape_text(('Annulé — ' if cancelled else '') + summary)}",
        f"LOCATION:{escape_text(location(appointment))}",
        f"DESCRIPTION:{escape_text(chr(10).join(lines))}",
        f"URL:{manage}",
    ]
    if organizer_email:
        content.append(
            f"ORGANIZER;CN={_param(organizer_name or organisation.name)}:mailto:{organizer_email}"
        )
    if appointment.email:
        content.append(
            f"ATTENDEE;CN={_param(appointment.full_name)};ROLE=REQ-PARTICIPANT:"
            f"mailto:{appointment.email}"
        )
    if not cancelled:
        content += [
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            f"DESCRIPTION:{escape_text(summary)}",
            "TRIGGER:-PT1H",
            "END:VALARM",
        ]
    content += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + "\r\n" for line in content)
