"""The agents' agenda (issue 5, point 4): day and week views per advisor and per site, an
appointment's page with its history and actions (move, cancel, status, check-in), and
booking for someone (at the desk or on the phone).

Who: agents, managers and administrators of the organisation. Other roles get 403; an
appointment outside the person's organisations answers 404 — a partner relay too, even
for its own referrals (it follows them on the relay pages, never in the agenda).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core import workdays
from voix.core.models import AuditEvent, Membership, Organisation, Role
from voix.core.scoping import (
    get_scoped_or_404,
    has_role,
    organisations_with_role,
    scope_for,
    visible_sites,
)
from voix.core.views import role_required

from .. import services
from ..forms import (
    AgendaForm,
    BookingForm,
    CancelForm,
    MoveForm,
    MoveSearchForm,
    SlotSearchForm,
    StatusForm,
)
from ..models import (
    HOLDING_STATUSES,
    Absence,
    Appointment,
    Channel,
    Mode,
    OpeningSlot,
    Reason,
    SlotException,
    Status,
)

ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)
NAV = "rendez_vous"
DAYS_SHOWN = 5  # days of free slots listed at once on the booking and moving pages
SLOT_LIMIT = 300


# ----- scope ---------------------------------------------------------------------------


def _organisations(user):
    return organisations_with_role(user, *ROLES)


def _below(organisation_ids) -> set:
    """The organisations *organisation_ids* and every organisation under them."""
    found, frontier = set(organisation_ids), set(organisation_ids)
    while frontier:
        frontier = (
            set(Organisation.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            - found
        )
        found |= frontier
    return found


def _sites(user, *, active_only=True):
    """The sites whose appointments *user* holds: every site of an organisation where they
    are agent, manager or administrator for the whole organisation (and the organisations
    under it), only their own site where that membership is narrowed to one site."""
    sites = visible_sites(user).filter(organisation__in=_organisations(user))
    if active_only:
        sites = sites.filter(is_active=True)
    if not scope_for(user).everything:
        memberships = list(
            Membership.objects.filter(user=user, role__in=ROLES).values_list(
                "organisation_id", "site_id"
            )
        )
        whole = _below({org for org, site in memberships if site is None})
        narrowed = {site for _org, site in memberships if site is not None}
        sites = sites.filter(Q(organisation__in=whole) | Q(pk__in=narrowed))
    return sites.order_by("organisation__name", "name")


def _advisors(sites):
    """People with opening slots at *sites* (the agenda's « conseillers »)."""
    return (
        get_user_model()
        .objects.filter(pk__in=OpeningSlot.objects.filter(site__in=sites).values("advisor_id"))
        .order_by("full_name")
    )


def _appointment_for(request, pk) -> Appointment:
    """An appointment of the person's organisations (else 404), for an agent, a manager or
    an administrator there (else 403). Partners never reach it: their scope holds their
    relay only, and an appointment is found here by its organisation."""
    appointment = get_scoped_or_404(
        Appointment.objects.select_related(
            "organisation", "site", "reason", "advisor", "relay", "booked_by"
        ),
        request.user,
        organisation="organisation",
        site=None,
        pk=pk,
    )
    if not has_role(request.user, *ROLES, organisation=appointment.organisation):
        raise PermissionDenied("Les rendez-vous sont réservés aux agents de l'organisme.")
    if not _sites(request.user, active_only=False).filter(pk=appointment.site_id).exists():
        raise Http404("Introuvable.")  # an agent narrowed to another site of the organisation
    return appointment


# ----- agenda --------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the agenda: an appointment, or a free stretch of an opening slot."""

    starts_at: datetime
    ends_at: datetime
    advisor: object
    site: object
    appointment: Appointment | None = None

    @property
    def is_free(self) -> bool:
        return self.appointment is None

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


@dataclass
class Column:
    advisor: object
    entries: list = field(default_factory=list)


def _subtract(intervals, busy):
    """*intervals* minus *busy* (lists of (start, end)), sorted."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for b_start, b_end in busy:
            next_pieces = []
            for p_start, p_end in pieces:
                if b_end <= p_start or b_start >= p_end:
                    next_pieces.append((p_start, p_end))
                    continue
                if p_start < b_start:
                    next_pieces.append((p_start, b_start))
                if b_end < p_end:
                    next_pieces.append((b_end, p_end))
            pieces = next_pieces
        result.extend(pieces)
    return sorted(result)


def _round_up(at: datetime) -> datetime:
    """The next 5-minute boundary (free time starts on the grid the engine uses)."""
    at = at.replace(second=0, microsecond=0)
    return at + timedelta(minutes=(-at.minute) % 5)


def _free_entries(first: date, last: date, *, sites, advisor=None, site=None, now):
    """The free stretches of the advisors' opening slots between *first* and *last*: the
    slots valid that day (exceptions, absences, public holidays and closures left out),
    minus every active appointment of the advisor, wherever it is; only the future."""
    tz = timezone.get_current_timezone()
    slots = (
        OpeningSlot.objects.filter(site__in=sites, valid_from__lte=last)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=first))
        .select_related("advisor", "site")
    )
    if advisor is not None:
        slots = slots.filter(advisor=advisor)
    if site is not None:
        slots = slots.filter(site=site)
    slots = list(slots)
    if not slots:
        return []
    advisor_ids = {s.advisor_id for s in slots}
    start = datetime.combine(first, time(0), tz)
    end = datetime.combine(last + timedelta(days=1), time(0), tz)
    skipped = set(
        SlotException.objects.filter(slot__in=slots, day__gte=first, day__lte=last).values_list(
            "slot_id", "day"
        )
    )
    busy: dict[int, list] = {}
    for advisor_id, b_start, b_end in list(
        Absence.objects.filter(
            advisor_id__in=advisor_ids, starts_at__lt=end, ends_at__gt=start
        ).values_list("advisor_id", "starts_at", "ends_at")
    ) + list(
        Appointment.objects.filter(
            advisor_id__in=advisor_ids,
            status__in=HOLDING_STATUSES,
            starts_at__lt=end,
            ends_at__gt=start,
        ).values_list("advisor_id", "starts_at", "ends_at")
    ):
        busy.setdefault(advisor_id, []).append((b_start, b_end))
    closed: dict[int, set] = {}
    for s in {slot.site for slot in slots}:
        cal = s.calendar()
        days = set(cal.closures)
        for year in range(first.year, last.year + 1):
            days |= set(workdays.public_holidays(cal.region, year))
        closed[s.pk] = days
    entries = []
    day = first
    while day <= last:
        for slot in slots:
            if (
                slot.weekday != day.weekday()
                or slot.valid_from > day
                or (slot.valid_until and slot.valid_until < day)
                or (slot.pk, day) in skipped
                or day in closed[slot.site_id]
            ):
                continue
            opening = (
                datetime.combine(day, slot.starts, tz),
                datetime.combine(day, slot.ends, tz),
            )
            for f_start, f_end in _subtract([opening], busy.get(slot.advisor_id, [])):
                f_start = max(f_start, _round_up(now))
                if f_end - f_start >= timedelta(minutes=5):
                    entries.append(Entry(f_start, f_end, slot.advisor, slot.site))
        day += timedelta(days=1)
    return entries


def _default_choice(request, advisors, sites):
    """Today's agenda of the person when they receive, else of their site."""
    if advisors.filter(pk=request.user.pk).exists():
        return request.user, None
    membership = (
        Membership.objects.filter(user=request.user, role__in=ROLES, site__in=sites)
        .select_related("site")
        .first()
    )
    if membership is not None:
        return None, membership.site
    with_slots = sites.filter(opening_slots__isnull=False).distinct().first()
    return None, with_slots or sites.first()


def _week_grid(days, entries):
    """Rows of one hour (th) × columns of days: the entries starting in each cell; the
    free stretches are cut at the hours so each piece sits in its row."""
    pieces = []
    for entry in entries:
        if not entry.is_free:
            pieces.append(entry)
            continue
        start = timezone.localtime(entry.starts_at)
        end = timezone.localtime(entry.ends_at)
        while start < end:
            cut = min(end, start.replace(minute=0) + timedelta(hours=1))
            if cut - start >= timedelta(minutes=5):
                pieces.append(Entry(start, cut, entry.advisor, entry.site))
            start = cut
    hours = {timezone.localtime(p.starts_at).hour for p in pieces} or set(range(9, 17))
    rows = []
    for hour in range(min(hours), max(hours) + 1):
        cells = []
        for day in days:
            cells.append(
                sorted(
                    (
                        p
                        for p in pieces
                        if timezone.localtime(p.starts_at).date() == day
                        and timezone.localtime(p.starts_at).hour == hour
                    ),
                    key=lambda p: (p.starts_at, p.is_free, getattr(p.advisor, "full_name", "")),
                )
            )
        rows.append({"hour": hour, "cells": cells})
    return rows


@role_required(*ROLES)
def agenda(request):
    """Day or week view, per advisor or per site (GET filters, no JavaScript needed)."""
    sites = _sites(request.user).own_sites()
    advisors = _advisors(sites)
    form = AgendaForm(request.GET or None, advisors=advisors, sites=sites)
    valid = form.is_valid() if form.is_bound else True
    data = form.cleaned_data if form.is_bound else {}
    view = data.get("vue") or "jour"
    now = timezone.now()
    today = timezone.localdate(now)
    day = data.get("date") or today
    advisor, site = data.get("conseiller"), data.get("site")
    if "conseiller" not in request.GET and "site" not in request.GET:
        advisor, site = _default_choice(request, advisors, sites)
    if valid:  # show what is displayed, defaults included
        form = AgendaForm(
            initial={"vue": view, "date": day, "conseiller": advisor, "site": site},
            advisors=advisors,
            sites=sites,
        )

    if view == "semaine":
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)
    else:
        first = last = day
    tz = timezone.get_current_timezone()
    appointments = (
        Appointment.objects.filter(
            site__in=_sites(request.user, active_only=False),
            starts_at__lt=datetime.combine(last + timedelta(days=1), time(0), tz),
            ends_at__gt=datetime.combine(first, time(0), tz),
        )
        .select_related("reason", "site", "advisor", "relay")
        .order_by("starts_at", "advisor__full_name")
    )
    if advisor is not None:
        appointments = appointments.filter(advisor=advisor)
    if site is not None:
        appointments = appointments.filter(site=site)
    entries = [Entry(a.starts_at, a.ends_at, a.advisor, a.site, a) for a in appointments]
    entries += _free_entries(first, last, sites=sites, advisor=advisor, site=site, now=now)
    entries.sort(key=lambda e: (e.starts_at, e.is_free))

    context = {
        "form": form,
        "form_valid": valid,
        "view": view,
        "day": day,
        "today": today,
        "advisor": advisor,
        "site": site,
        "first": first,
        "last": last,
        "count": sum(1 for e in entries if not e.is_free and e.appointment.is_active),
        "several_sites": site is None and len({e.site.pk for e in entries}) > 1,
        "nav": NAV,
        "can_configure": has_role(request.user, Role.MANAGER, Role.ADMIN),
    }
    params = {"vue": view}
    if advisor is not None:
        params["conseiller"] = advisor.pk
    if site is not None:
        params["site"] = site.pk
    if advisor is None and site is None:
        params.update(conseiller="", site="")
    step = timedelta(days=7 if view == "semaine" else 1)
    base = reverse("appointments:agenda")
    context["nav_links"] = {
        "previous": f"{base}?{urlencode({**params, 'date': (day - step).isoformat()})}",
        "next": f"{base}?{urlencode({**params, 'date': (day + step).isoformat()})}",
        "today": f"{base}?{urlencode({**params, 'date': today.isoformat()})}",
        "day": f"{base}?{urlencode({**params, 'vue': 'jour', 'date': day.isoformat()})}",
        "week": f"{base}?{urlencode({**params, 'vue': 'semaine', 'date': day.isoformat()})}",
    }
    if view == "semaine":
        days = [first + timedelta(days=i) for i in range(7)]
        busy_days = {timezone.localtime(e.starts_at).date() for e in entries}
        days = [d for d in days if d.weekday() < 5 or d in busy_days]
        context["days"] = days
        context["rows"] = _week_grid(days, entries)
    else:
        columns: dict[int, Column] = {}
        for entry in entries:
            columns.setdefault(entry.advisor.pk, Column(entry.advisor)).entries.append(entry)
        if advisor is not None and advisor.pk not in columns:
            columns[advisor.pk] = Column(advisor)
        context["columns"] = sorted(
            columns.values(), key=lambda c: c.advisor.full_name or c.advisor.email
        )
    return render(request, "appointments/staff/agenda.html", context, status=200 if valid else 400)


# ----- one appointment -----------------------------------------------------------------


CHOICE_LABELS = {
    **dict(Mode.choices),
    **dict(Channel.choices),
    **dict(Status.choices),
}


def _readable(value, key="", sites=None):
    """An audit detail value in French reading (dates in local time, choices and sites by
    name)."""
    if key == "site" and isinstance(value, int) and sites and value in sites:
        return sites[value]
    if isinstance(value, str) and value in CHOICE_LABELS:
        return CHOICE_LABELS[value]
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return {"True": "oui", "False": "non"}.get(value, value)
        if timezone.is_aware(moment):
            return timezone.localtime(moment).strftime("%d/%m/%Y %H:%M")
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return " → ".join(str(_readable(v, key, sites)) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} : {_readable(v, k, sites)}" for k, v in value.items())
    return value


def _history(appointment):
    events = AuditEvent.objects.filter(
        object_type=Appointment._meta.model_name, object_id=str(appointment.pk)
    ).order_by("at", "pk")
    sites = dict(appointment.organisation.sites.values_list("pk", "name"))
    return [
        {
            "event": event,
            "details": [
                (key.replace("_", " "), _readable(value, key, sites))
                for key, value in event.changes.items()
            ],
        }
        for event in events
    ]


def _detail_actions(appointment, now):
    today = timezone.localdate(now)
    planned = appointment.status == Status.PLANNED
    started = appointment.starts_at <= now
    statuses = []
    if planned:
        if started:
            statuses += [(Status.HONOURED, "Honoré"), (Status.NO_SHOW, "Non venu")]
        statuses.append((Status.EXCUSED, "Excusé"))
    elif appointment.status in (Status.HONOURED, Status.NO_SHOW, Status.EXCUSED):
        statuses.append((Status.PLANNED, "Remettre à « prévu »"))
        if appointment.status != Status.HONOURED and started:
            statuses.append((Status.HONOURED, "Honoré"))
        if appointment.status != Status.NO_SHOW and started:
            statuses.append((Status.NO_SHOW, "Non venu"))
    return {
        "can_move": planned,
        "can_cancel": planned,
        "can_check_in": planned
        and appointment.mode == Mode.ON_SITE
        and appointment.checked_in_at is None
        and timezone.localdate(appointment.starts_at) == today,
        "statuses": statuses,
    }


@role_required(*Role.values)
def detail(request, pk):
    appointment = _appointment_for(request, pk)
    now = timezone.now()
    return render(
        request,
        "appointments/staff/detail.html",
        {
            "appointment": appointment,
            "a": appointment,
            "history": _history(appointment),
            "notifications": appointment.notifications.all(),
            "actions": _detail_actions(appointment, now),
            "nav": NAV,
        },
    )


def _detail_url(appointment):
    return reverse("appointments:detail", args=[appointment.pk])


def _summary(*forms):
    """The error summary at the top of a form page: (anchor, label, message) triples."""
    items = []
    for form in forms:
        if form is None or not form.is_bound:
            continue
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                items += [("", "", message) for message in errors]
                continue
            bound = form[name]
            anchor = "creneaux" if bound.is_hidden else bound.id_for_label
            items += [(anchor, bound.label, message) for message in errors]
    return items


def _slot_error(form):
    errors = form.errors.get("creneau") if form.is_bound else None
    return errors[0] if errors else ""


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@require_POST
@role_required(*Role.values)
def set_status(request, pk):
    appointment = _appointment_for(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["statut"]))
        return redirect(_detail_url(appointment))
    status = form.cleaned_data["statut"]
    try:
        services.set_status(request.user, appointment, status)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request, f"Statut du rendez-vous {appointment.reference} : {Status(status).label}."
        )
    return redirect(_detail_url(appointment))


@require_POST
@role_required(*Role.values)
def check_in(request, pk):
    """On arrival: a ticket in the site's reception queue; its number is shown."""
    appointment = _appointment_for(request, pk)
    try:
        ticket = services.check_in(request.user, appointment)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(
            request,
            f"Arrivée enregistrée : ticket {ticket.code} dans la file « {ticket.queue.label} ». "
            "Donnez ce numéro à la personne.",
        )
    return redirect(_detail_url(appointment))


@role_required(*Role.values)
def cancel(request, pk):
    """Confirm with a reason (required), then cancel: the time is free again."""
    appointment = _appointment_for(request, pk)
    form = CancelForm(request.POST or None)
    status = 200
    if appointment.status != Status.PLANNED:
        messages.error(request, "Ce rendez-vous n'est plus prévu : il ne peut pas être annulé.")
        return redirect(_detail_url(appointment))
    if request.method == "POST":
        if form.is_valid():
            try:
                services.cancel(request.user, appointment, reason_text=form.cleaned_data["motif"])
            except ValidationError as error:
                if hasattr(error, "error_dict") and "reason_text" in error.error_dict:
                    form.add_error("motif", error.error_dict["reason_text"])
                else:
                    form.add_error(None, error.messages)
            else:
                messages.success(
                    request,
                    f"Rendez-vous {appointment.reference} annulé ; le créneau est de nouveau "
                    "libre. La personne est prévenue si elle a laissé un courriel ou un portable.",
                )
                return redirect(_detail_url(appointment))
        status = 400
    return render(
        request,
        "appointments/staff/cancel.html",
        {"a": appointment, "form": form, "errors": _summary(form), "nav": NAV},
        status=status,
    )


# ----- slot pickers (move, book) -------------------------------------------------------


def _slot_days(slots):
    """The first days with free slots, and the date to ask for to see the next ones."""
    days = services.days_with_slots(slots)
    shown = days[:DAYS_SHOWN]
    more = shown[-1][0] + timedelta(days=1) if len(days) > DAYS_SHOWN else None
    return shown, more


def _with_date(request_params: dict, when: date | None) -> str:
    params = {k: v for k, v in request_params.items() if k not in ("date", "csrfmiddlewaretoken")}
    if when is not None:
        params["date"] = when.isoformat()
    return "?" + urlencode(params)


@role_required(*Role.values)
def move(request, pk):
    """Pick a new free slot (same reason; site and mode may change), or type a date and a
    time; the engine checks it again."""
    appointment = _appointment_for(request, pk)
    if appointment.status != Status.PLANNED:
        messages.error(request, "Seul un rendez-vous prévu peut être déplacé.")
        return redirect(_detail_url(appointment))
    reason = appointment.reason
    sites = _sites(request.user).filter(pk__in=reason.sites.values("pk"))
    source = request.POST if request.method == "POST" else request.GET
    search = MoveSearchForm(
        source if "site" in source else None,
        reason=reason,
        sites=sites,
        initial={"site": appointment.site, "mode": appointment.mode},
    )
    search_ok = search.is_valid() if search.is_bound else True
    if search.is_bound:
        data = {"site": appointment.site, "mode": appointment.mode, **search.cleaned_data}
    else:
        data = {"site": appointment.site, "mode": appointment.mode}
    site, mode = data.get("site"), data.get("mode")
    form = MoveForm(request.POST if request.method == "POST" else None)
    alternatives = None
    status = 200
    if request.method == "POST":
        if form.is_valid() and search_ok:
            try:
                services.move(
                    request.user,
                    appointment,
                    starts_at=form.cleaned_data["starts_at"],
                    mode=mode,
                    site=site,
                )
            except services.SlotTaken as error:
                alternatives = error.alternatives
                form.add_error(None, error.messages)
                status = 409
            except ValidationError as error:
                field = "creneau" if form.cleaned_data.get("creneau") else "jour"
                _errors_on(form, error, {"starts_at": field}, search)
                status = 400
            else:
                appointment.refresh_from_db()
                messages.success(
                    request,
                    f"Rendez-vous déplacé au {_when(appointment.starts_at)}. La personne est "
                    "prévenue si elle a laissé un courriel ou un portable.",
                )
                return redirect(_detail_url(appointment))
        else:
            status = 400
    elif not search_ok:
        status = 400
    days, more = [], None
    if site is not None and mode:
        if alternatives is not None:
            days = services.days_with_slots(alternatives)
        else:
            slots = services.available_slots(
                reason,
                site,
                mode=mode,
                channel=Channel.AGENT,
                start=data.get("date"),
                exclude=appointment,
                limit=SLOT_LIMIT,
            )
            # the appointment's own time is not a move
            slots = [
                s
                for s in slots
                if s.starts_at != appointment.starts_at or s.site_id != appointment.site_id
            ]
            days, more = _slot_days(slots)
    params = {"site": site.pk if site else "", "mode": mode or ""}
    return render(
        request,
        "appointments/staff/move.html",
        {
            "a": appointment,
            "search": search,
            "form": form,
            "days": days,
            "alternatives": alternatives is not None,
            "more_url": _with_date(params, more) if more else None,
            "first_url": _with_date(params, None) if data.get("date") else None,
            "chosen": source.get("creneau", ""),
            "hidden": params,
            "errors": _summary(search, form),
            "slot_error": _slot_error(form),
            "nav": NAV,
        },
        status=status,
    )


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%d/%m/%Y} à {local:%H:%M}"


def _errors_on(form, error: ValidationError, renames: dict, other=None):
    """Put the engine's errors on the fields they name (renamed to the form's), the rest
    on the form (or on *other*, the search form, when the field lives there)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, errors in error.error_dict.items():
        target = renames.get(name, name)
        if target in form.fields:
            form.add_error(target, errors)
        elif other is not None and target in other.fields:
            other.add_error(target, errors)
        else:
            form.add_error(None, errors)


@role_required(*ROLES)
def book(request):
    """Book for someone: reason, site, mode, then a free slot and the person's details."""
    sites = _sites(request.user).own_sites()
    reasons = (
        Reason.objects.filter(organisation__in=_organisations(request.user), is_active=True)
        .select_related("organisation")
        .prefetch_related("sites")
        .order_by("organisation__name", "position", "label")
    )
    advisors = _advisors(sites)
    source = request.POST if request.method == "POST" else request.GET
    initial = {}
    for name in ("site", "conseiller", "mode", "date"):
        if source.get(name):
            initial[name] = source.get(name)
    search = SlotSearchForm(
        source if "motif" in source else None,
        reasons=reasons,
        sites=sites,
        advisors=advisors,
        initial=initial,
    )
    ready = search.is_bound and search.is_valid()
    data = search.cleaned_data if ready else {}
    form = BookingForm(request.POST if request.method == "POST" and ready else None)
    alternatives = None
    status = 200 if not search.is_bound or ready else 400
    if request.method == "POST" and ready:
        form.is_valid()
        if data["mode"] == Mode.PHONE and not form.cleaned_data.get("phone", "x").strip():
            form.add_error(
                "phone", "Pour un rendez-vous par téléphone, indiquez le numéro à appeler."
            )
        if form.is_valid():
            person = form.cleaned_data
            try:
                appointment = services.book(
                    request.user,
                    data["motif"],
                    site=data["site"],
                    mode=data["mode"],
                    starts_at=person["creneau"],
                    channel=Channel.AGENT,
                    full_name=person["full_name"],
                    phone=person["phone"],
                    email=person["email"],
                    note=person["note"],
                    advisor=data.get("conseiller"),
                )
            except services.SlotTaken as error:
                alternatives = error.alternatives
                form.add_error(None, error.messages)
                status = 409
            except ValidationError as error:
                _errors_on(form, error, {"starts_at": "creneau"}, search)
                status = 400
            else:
                messages.success(
                    request,
                    f"Rendez-vous réservé pour {appointment.full_name} le "
                    f"{_when(appointment.starts_at)} avec {appointment.advisor.full_name} "
                    f"(référence {appointment.reference}).",
                )
                return redirect(_detail_url(appointment))
        else:
            status = 400
    days, more = [], None
    if ready:
        if alternatives is not None:
            days = services.days_with_slots(alternatives)
        else:
            slots = services.available_slots(
                data["motif"],
                data["site"],
                mode=data["mode"],
                channel=Channel.AGENT,
                start=data.get("date"),
                advisor=data.get("conseiller"),
                limit=SLOT_LIMIT,
            )
            days, more = _slot_days(slots)
    hidden = {}
    if ready:
        hidden = {
            "motif": data["motif"].pk,
            "site": data["site"].pk,
            "mode": data["mode"],
            "conseiller": data["conseiller"].pk if data.get("conseiller") else "",
        }
    return render(
        request,
        "appointments/staff/book.html",
        {
            "search": search,
            "form": form,
            "ready": ready,
            "choice": data,
            "days": days,
            "alternatives": alternatives is not None,
            "more_url": _with_date(hidden, more) if more else None,
            "first_url": _with_date(hidden, None) if data.get("date") else None,
            "chosen": source.get("creneau", ""),
            "hidden": hidden,
            "mode_label": Mode(data["mode"]).label if ready else "",
            "errors": _summary(search, form),
            "slot_error": _slot_error(form),
            "nav": NAV,
        },
        status=status,
    )


urls = [
    path("rendez-vous/", agenda, name="agenda"),
    path("rendez-vous/nouveau/", book, name="book"),
    path("rendez-vous/<int:pk>/", detail, name="detail"),
    path("rendez-vous/<int:pk>/deplacer/", move, name="move"),
    path("rendez-vous/<int:pk>/annuler/", cancel, name="cancel"),
    path("rendez-vous/<int:pk>/statut/", set_status, name="set_status"),
    path("rendez-vous/<int:pk>/arrivee/", check_in, name="check_in"),
]
