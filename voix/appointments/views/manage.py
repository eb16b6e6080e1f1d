"""« Mon rendez-vous »: the pages behind the signed link of every message (no account).

See what, when, where and how; download the .ics; cancel; move to another slot of the
same reason, site and mode; ask to be told when an earlier slot frees up. An expired link
answers 410 (with the number to call), an invalid one 404. Past or cancelled appointments
show their state and no action.
"""

from datetime import timedelta

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone

from .. import links, services
from ..models import Appointment, Channel, Mode, Status, WaitlistEntry
from ..public_forms import CancelForm
from .public import parse_slot_param, slot_param, week_context


class _LinkGone(Exception):
    def __init__(self, message, status, organisation=None):
        super().__init__(message)
        self.message, self.status, self.organisation = message, status, organisation


def _appointment(token) -> Appointment:
    try:
        return links.appointment_for(token)
    except links.LinkError as error:
        expired = isinstance(error.__cause__, signing.SignatureExpired)
        organisation = None
        if expired:
            # The signature is genuine, only old: say whom to call.
            secret = signing.TimestampSigner(salt=links.SALT).unsign(token)
            found = Appointment.objects.select_related("organisation").filter(token=secret)
            organisation = found[0].organisation if found else None
        raise _LinkGone(str(error), 410 if expired else 404, organisation) from error


def _link_error(request, error: _LinkGone):
    return render(
        request,
        "appointments/manage/link_error.html",
        {"message": error.message, "organisation": error.organisation, "nav": "public"},
        status=error.status,
    )


def with_appointment(view):
    """Resolve the link to its appointment (or the 410 / 404 page) before *view*."""

    def wrapped(request, token, *args, **kwargs):
        try:
            appointment = _appointment(token)
        except _LinkGone as error:
            return _link_error(request, error)
        return view(request, token, appointment, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def can_change(appointment: Appointment, now) -> bool:
    return appointment.status == Status.PLANNED and appointment.starts_at > now


def _state(appointment: Appointment, now) -> str:
    if appointment.status == Status.CANCELLED:
        return "annule"
    if appointment.status == Status.EXCUSED:
        return "excuse"
    if appointment.status in (Status.HONOURED, Status.NO_SHOW) or appointment.ends_at <= now:
        return "passe"
    if appointment.starts_at <= now:
        return "en_cours"
    return "prevu"


def _context(appointment, token, now, **extra):
    return {
        "appointment": appointment,
        "token": token,
        "organisation": appointment.organisation,
        "site": appointment.site,
        "state": _state(appointment, now),
        "can_change": can_change(appointment, now),
        "Mode": Mode,
        "nav": "public",
        **extra,
    }


@with_appointment
def manage(request, token, appointment):
    """What, when, where and how; the actions while the appointment is ahead."""
    now = timezone.now()
    waiting = WaitlistEntry.objects.filter(appointment=appointment, is_active=True).first()
    return render(
        request,
        "appointments/manage/detail.html",
        _context(
            appointment,
            token,
            now,
            confirmation=request.GET.get("confirmation") == "1",
            waiting=waiting,
        ),
    )


@with_appointment
def manage_ics(request, token, appointment):
    """The appointment as a calendar file (.ics)."""
    from .. import ics

    response = HttpResponse(
        ics.appointment_ics(appointment, method="PUBLISH"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{appointment.reference}.ics"'
    return response


@with_appointment
def manage_cancel(request, token, appointment):
    """Confirm, then cancel (POST); the time is offered to others at once."""
    now = timezone.now()
    form = CancelForm(request.POST or None)
    status = 200
    if request.method == "POST" and can_change(appointment, now) and form.is_valid():
        try:
            services.cancel(
                None, appointment, reason_text=form.cleaned_data["reason_text"], by_user=True
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
            status = 400
        else:
            messages.success(request, "Votre rendez-vous est annulé. Merci de nous avoir prévenus.")
            return redirect("appointments:manage", token=token)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "appointments/manage/cancel.html",
        _context(appointment, token, now, form=form),
        status=status,
    )


def _move_slots(appointment, now):
    """Free starts for the same reason, site and mode, in the user's booking window."""
    reason = appointment.reason
    channel = Channel.PUBLIC if reason.bookable_by(Channel.PUBLIC) else Channel.AGENT
    earliest = now + timedelta(hours=reason.min_notice_hours)
    latest = now + timedelta(days=reason.max_horizon_days)
    slots = services.available_slots(
        reason,
        appointment.site,
        mode=appointment.mode,
        channel=channel,
        now=now,
        exclude=appointment,
    )
    return [
        slot
        for slot in slots
        if earliest <= slot.starts_at <= latest and slot.starts_at != appointment.starts_at
    ]


@with_appointment
def manage_move(request, token, appointment):
    """Another slot of the same reason, site and mode: choose (GET ?debut=), confirm (POST)."""
    now = timezone.now()
    context = {"taken": False, "alternatives": [], "chosen": None, "error": ""}
    status = 200
    if not can_change(appointment, now):
        return render(
            request, "appointments/manage/move.html", _context(appointment, token, now, **context)
        )
    chosen = request.POST.get("debut") if request.method == "POST" else request.GET.get("debut")
    starts_at = None
    if chosen:
        try:
            starts_at = parse_slot_param(chosen)
        except Http404:
            context["error"] = "Cet horaire est illisible : choisissez-en un dans la liste."
            status = 400
    if request.method == "POST":
        if starts_at is None:
            context["error"] = context["error"] or "Choisissez un nouvel horaire dans la liste."
            status = 400
        else:
            try:
                services.move(None, appointment, starts_at=starts_at, by_user=True)
            except services.SlotTaken as taken:
                context["taken"] = True
                context["alternatives"] = [
                    (slot, f"?debut={slot_param(slot.starts_at)}") for slot in taken.alternatives
                ]
                status = 409
            except ValidationError as error:
                context["error"] = " ".join(
                    message for messages_ in _messages(error) for message in messages_
                )
                status = 400
            else:
                local = timezone.localtime(starts_at)
                messages.success(
                    request,
                    f"Votre rendez-vous est déplacé au {local:%d/%m/%Y} à {local:%H:%M}. "
                    "Un message de confirmation vous est envoyé.",
                )
                return redirect("appointments:manage", token=token)
    slots = _move_slots(appointment, now)
    context.update(
        week_context(request, slots, lambda slot: f"?debut={slot_param(slot.starts_at)}")
    )
    if starts_at is not None and not context["error"] and not context["taken"]:
        if any(slot.starts_at == starts_at for slot in slots):
            context["chosen"] = starts_at
            context["chosen_param"] = slot_param(starts_at)
        else:
            context["error"] = "Cet horaire n'est plus libre : choisissez-en un autre ci-dessous."
    return render(
        request,
        "appointments/manage/move.html",
        _context(appointment, token, now, **context),
        status=status,
    )


def _messages(error: ValidationError):
    if hasattr(error, "error_dict"):
        return [[str(m) for m in errors] for errors in error.message_dict.values()]
    return [error.messages]


@with_appointment
def manage_waitlist(request, token, appointment):
    """« Prévenez-moi si un créneau plus tôt se libère »: explain (GET), subscribe (POST)."""
    from .. import waitlist

    now = timezone.now()
    waiting = WaitlistEntry.objects.filter(appointment=appointment, is_active=True).first()
    error = ""
    status = 200
    if request.method == "POST" and can_change(appointment, now) and waiting is None:
        try:
            waitlist.subscribe(
                reason=appointment.reason,
                site=appointment.site,
                mode=appointment.mode,
                before=appointment.starts_at,
                email=appointment.email,
                phone=appointment.phone,
                appointment=appointment,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
            status = 400
        else:
            messages.success(
                request,
                "C'est noté : nous vous prévenons si un créneau plus tôt se libère. Votre "
                "rendez-vous actuel reste réservé tant que vous ne le déplacez pas.",
            )
            return redirect("appointments:manage", token=token)
    elif request.method == "POST" and waiting is None:
        error = "Ce rendez-vous n'est plus prévu : l'inscription n'est pas possible."
        status = 400
    booking_settings = services.ensure_settings(appointment.organisation)
    return render(
        request,
        "appointments/manage/waitlist.html",
        _context(
            appointment,
            token,
            now,
            waiting=waiting,
            error=error,
            max_notifications=booking_settings.waitlist_max_notifications,
        ),
        status=status,
    )


def waitlist_unsubscribe(request, token):
    """Stop the « créneau libéré » messages of one waitlist entry (link in each message)."""
    from .. import waitlist

    entry = (
        WaitlistEntry.objects.select_related("reason", "organisation", "site")
        .filter(token=token)
        .first()
    )
    if entry is None:
        return render(
            request,
            "appointments/manage/link_error.html",
            {
                "message": "Ce lien ne correspond à aucune inscription sur liste d'attente. "
                "Vérifiez qu'il a été copié en entier.",
                "nav": "public",
            },
            status=404,
        )
    done = False
    if request.method == "POST":
        waitlist.unsubscribe(token)
        done = True
        entry.refresh_from_db()
    return render(
        request,
        "appointments/manage/unsubscribe.html",
        {"entry": entry, "done": done, "organisation": entry.organisation, "nav": "public"},
    )


urls = [
    path(
        "mon-rendez-vous/liste-attente/<str:token>/desinscription/",
        waitlist_unsubscribe,
        name="waitlist_unsubscribe",
    ),
    path("mon-rendez-vous/<str:token>/", manage, name="manage"),
    path("mon-rendez-vous/<str:token>/rendez-vous.ics", manage_ics, name="manage_ics"),
    path("mon-rendez-vous/<str:token>/annuler/", manage_cancel, name="manage_cancel"),
    path("mon-rendez-vous/<str:token>/deplacer/", manage_move, name="manage_move"),
    path("mon-rendez-vous/<str:token>/liste-attente/", manage_waitlist, name="manage_waitlist"),
]
