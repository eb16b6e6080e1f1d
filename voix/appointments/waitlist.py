"""The waitlist: « prévenez-moi si un créneau plus tôt se libère ».

A person (with or without an appointment) subscribes for one reason, optionally one site
and one mode, before a date. When an appointment is cancelled, moved or excused, the
engine calls ``slot_freed`` on commit; a task then looks at the active entries that could
use the freed time, checks with the engine that an earlier slot really is free for each
one, and sends each ONE message with a link to book (or to move their appointment) and a
link to unsubscribe. An entry gets at most ``max_notifications`` messages (the
organisation's setting when it subscribed), then ends; it also ends once its date passed.

Each message is one « round » of the entry: the worker that moves notifications_sent from
n to n+1 (a conditional UPDATE) sends round n+1, and the log row, unique on (entry,
channel, round), backs that up — never two messages for the same round.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from voix.core import sms

from . import links
from .models import Appointment, Channel, Notification, Reason, Status, WaitlistEntry
from .notifications import _one_line, _tidy, claim, deliver, recipients, when

logger = logging.getLogger(__name__)


def subscribe(
    *,
    reason: Reason,
    site=None,
    mode: str = "",
    before: datetime,
    email: str = "",
    phone: str = "",
    appointment: Appointment | None = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Put a person on the waitlist (French ValidationError per field when something is
    wrong). An appointment has at most one active entry: subscribing again returns it."""
    from . import services

    now = now or timezone.now()
    errors = {}
    if appointment is not None:
        existing = WaitlistEntry.objects.filter(appointment=appointment, is_active=True).first()
        if existing is not None:
            return existing
        if appointment.status != Status.PLANNED or appointment.starts_at <= now:
            raise ValidationError(
                "Ce rendez-vous n'est plus prévu : la liste d'attente ne le concerne plus."
            )
        reason = appointment.reason
        email = email or appointment.email
        phone = phone or appointment.phone
    email = (email or "").strip()
    phone = (phone or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "Adresse électronique invalide : vérifiez-la (ex. nom@exemple.fr)."
    if phone:
        try:
            phone = sms.normalise_phone(phone)
        except ValidationError as exc:
            if appointment is None or not email:
                errors["phone"] = exc.messages[0] + " Un numéro fixe ne peut pas recevoir de SMS."
            phone = ""  # a landline of the appointment: e-mail only
    if not email and not phone and not errors:
        errors["email"] = (
            "Indiquez une adresse électronique ou un numéro de portable pour être prévenu."
        )
    if not reason.is_active:
        errors["reason"] = "Ce motif n'est plus proposé."
    if site is not None and not reason.sites.filter(pk=site.pk).exists():
        errors["site"] = "Ce motif n'est pas proposé sur ce site."
    if mode and mode not in reason.modes():
        errors["mode"] = "Ce mode de rendez-vous n'est pas proposé pour ce motif."
    if before is None:
        errors["before"] = "Indiquez jusqu'à quelle date vous voulez être prévenu."
    else:
        if appointment is not None and before > appointment.starts_at:
            before = appointment.starts_at  # « plus tôt » than the appointment they have
        if before <= now:
            errors["before"] = "La date doit être dans le futur."
    if errors:
        raise ValidationError(errors)
    booking_settings = services.ensure_settings(reason.organisation)
    with transaction.atomic():
        if appointment is not None:
            Appointment.objects.select_for_update().filter(pk=appointment.pk).first()
            existing = WaitlistEntry.objects.filter(appointment=appointment, is_active=True).first()
            if existing is not None:
                return existing
        return WaitlistEntry.objects.create(
            organisation_id=reason.organisation_id,
            reason=reason,
            site=site,
            mode=mode or "",
            appointment=appointment,
            before=before,
            email=email,
            phone=phone,
            max_notifications=max(1, booking_settings.waitlist_max_notifications),
        )


def unsubscribe(token: str) -> bool:
    """End the entry behind an unsubscribe link; False when the link matches no entry."""
    entry = WaitlistEntry.objects.filter(token=token or "").first()
    if entry is None:
        return False
    WaitlistEntry.objects.filter(pk=entry.pk).update(is_active=False)
    return True


def slot_freed(appointment: Appointment) -> None:
    """An appointment's time was freed (cancel, move, excused): enqueue the waitlist round.

    *appointment* carries the freed time (for a move, the engine passes a copy of the
    appointment as it was before)."""
    from .tasks import notify_waitlist

    try:
        notify_waitlist.enqueue(
            appointment.reason_id,
            appointment.site_id,
            appointment.starts_at.isoformat(),
            appointment.pk,
            timezone.now().isoformat(),
        )
    except Exception:  # committed already: a queue failure must not break the page
        logger.exception("Liste d'attente non prévenue pour le rendez-vous %s", appointment.pk)


def expire(now: datetime | None = None) -> int:
    """End the entries whose date has passed or whose appointment is no longer planned."""
    now = now or timezone.now()
    return (
        WaitlistEntry.objects.filter(is_active=True)
        .filter(
            Q(before__lte=now)
            | Q(appointment__isnull=False, appointment__starts_at__lte=now)
            | Q(appointment__isnull=False, appointment__status__in=_ended_statuses())
        )
        .update(is_active=False)
    )


def _ended_statuses():
    return [s for s in Status.values if s != Status.PLANNED]


def candidates(reason_id, site_id, freed_start: datetime, exclude_id, now, freed_at=None):
    """Active entries that could use a slot freed at *freed_start* at site *site_id*
    (not those told since the slot was freed: a task run twice sends nothing more)."""
    entries = (
        WaitlistEntry.objects.filter(
            reason_id=reason_id,
            is_active=True,
            before__gt=max(freed_start, now),
            notifications_sent__lt=F("max_notifications"),
        )
        .filter(Q(site__isnull=True) | Q(site_id=site_id))
        .select_related("reason__organisation", "site", "appointment__site")
        .order_by("created_at", "pk")
    )
    if exclude_id:
        entries = entries.exclude(appointment_id=exclude_id)
    if freed_at is not None:
        entries = entries.exclude(last_notified_at__gte=freed_at)
    return entries


def earlier_slot(entry: WaitlistEntry, site, now: datetime):
    """The first slot really free for *entry* before its date, or None."""
    from . import services

    reason = entry.reason
    channel = Channel.PUBLIC
    if not reason.bookable_by(Channel.PUBLIC):
        if entry.appointment is None:
            return None
        channel = Channel.AGENT  # moved through the manage link, booked by an agent or relay
    before = entry.before
    if entry.appointment is not None:
        before = min(before, entry.appointment.starts_at)
    slots = services.available_slots(
        reason,
        site,
        mode=entry.mode or None,
        channel=channel,
        now=now,
        limit=1,
        exclude=entry.appointment,
    )
    if slots and slots[0].starts_at < before:
        return slots[0]
    return None


def _links(entry: WaitlistEntry) -> tuple[str, str]:
    if entry.appointment is not None:
        book = links.manage_url(entry.appointment)
    else:
        book = settings.BASE_URL + reverse(
            "appointments:public_start", args=[entry.reason.organisation.slug]
        )
    unsubscribe_url = settings.BASE_URL + reverse(
        "appointments:waitlist_unsubscribe", args=[entry.token]
    )
    return book, unsubscribe_url


def _context(entry: WaitlistEntry, slot, site, round_number: int) -> dict:
    book_url, unsubscribe_url = _links(entry)
    return {
        "organisation": entry.reason.organisation.name,
        "reason": entry.reason.label,
        "when": when(slot.starts_at),
        "when_short": when(slot.starts_at, year=False),
        "site_name": site.name,
        "address": f"{site.address}, {site.postcode} {site.commune}",
        "has_appointment": entry.appointment is not None,
        "reference": entry.appointment.reference if entry.appointment else "",
        "book_url": book_url,
        "unsubscribe_url": unsubscribe_url,
        "remaining": max(0, entry.max_notifications - round_number),
    }


def notify_entry(entry: WaitlistEntry, slot, site, now: datetime) -> int:
    """Send *entry* its next round about *slot*; returns the messages sent (0 when another
    worker took this round)."""
    round_number = entry.notifications_sent + 1
    won = WaitlistEntry.objects.filter(
        pk=entry.pk, is_active=True, notifications_sent=entry.notifications_sent
    ).update(
        notifications_sent=round_number,
        last_notified_at=now,
        is_active=round_number < entry.max_notifications,
    )
    if not won:
        return 0
    entry.notifications_sent = round_number
    data = _context(entry, slot, site, round_number)
    sent = 0
    for via, to in recipients(entry.email, entry.phone):
        note = claim(
            waitlist_entry=entry,
            appointment=None,
            kind=Notification.Kind.WAITLIST,
            via=via,
            to=to,
            version=round_number,
        )
        if note is None:
            continue
        if via == Notification.Via.EMAIL:
            body = _tidy(render_to_string("appointments/messages/email_waitlist.txt", data))
            message = EmailMessage(
                f"Un créneau plus tôt s'est libéré : {data['when']}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [to],
            )
            sent += deliver(note, message.send)
        else:
            text = _one_line(render_to_string("appointments/messages/sms_waitlist.txt", data))
            sent += deliver(note, lambda to=to, text=text: sms.send_sms(to, text))
    return sent


def run_round(
    reason_id: int,
    site_id: int,
    freed_start: datetime,
    exclude_id=None,
    *,
    freed_at: datetime | None = None,
    now: datetime | None = None,
) -> int:
    """The task's work after a slot was freed (at *freed_at*); returns the entries told."""
    from voix.core.models import Site

    now = now or timezone.now()
    expire(now)
    freed_site = Site.objects.filter(pk=site_id).first()
    if freed_site is None:
        return 0
    notified = 0
    for entry in list(candidates(reason_id, site_id, freed_start, exclude_id, now, freed_at)):
        slot = earlier_slot(entry, entry.site or freed_site, now)
        if slot is None:
            continue
        if notify_entry(entry, slot, entry.site or freed_site, now):
            notified += 1
    return notified
