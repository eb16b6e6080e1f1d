"""Public booking, no account: reason → mode → site → slot → contact details.

Each step is a plain GET page whose choices are links carrying the choices made so far in
the address (bookmarkable, the back button works, no JavaScript, no session); only the last
step posts a form. The site step sorts the sites nearest to a commune first (?commune=),
the slot step pages by week (?semaine=AAAA-MM-JJ, the Monday).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from voix.core import antibot
from voix.core.models import Organisation, Site

from .. import links, nearby, services
from ..models import Channel, Mode, Reason
from ..public_forms import BookingForm, CommuneForm, WaitlistForm

PREFIX = "prendre-rendez-vous/<slug:org_slug>/"
STEPS = [
    "Choisir le motif",
    "Choisir le mode",
    "Choisir le lieu",
    "Choisir l'horaire",
    "Vos coordonnées",
]
SOONEST = 3
SLOT_FORMAT = "%Y-%m-%d-%Hh%M"

MODE_HELP = {
    Mode.ON_SITE: "Vous venez au lieu d'accueil choisi.",
    Mode.PHONE: "Un conseiller vous appelle au numéro que vous indiquez.",
    Mode.VIDEO: "Vous rejoignez le conseiller par un lien de visio, depuis un ordinateur, une "
    "tablette ou un téléphone.",
}


# ----- the choices carried in the address -----------------------------------------------


@dataclass
class Flow:
    organisation: Organisation
    reason: Reason | None = None
    mode: str | None = None
    site: Site | None = None

    @property
    def mode_label(self) -> str:
        return Mode(self.mode).label if self.mode else ""

    def url(self, name, *extra):
        args = [self.organisation.slug]
        for value in (self.reason and self.reason.pk, self.mode, self.site and self.site.slug):
            if value is None:
                break
            args.append(value)
        return reverse(f"appointments:{name}", args=[*args, *extra])


def public_reasons(organisation: Organisation):
    """The reasons a person may book online, each offered at one open site at least."""
    reasons = organisation.appointment_reasons.filter(
        is_active=True, sites__is_active=True
    ).distinct()
    return [reason for reason in reasons if reason.bookable_by(Channel.PUBLIC)]


def _flow(org_slug, reason_pk=None, mode=None, site_slug=None) -> Flow:
    organisation = get_object_or_404(Organisation, slug=org_slug, is_public=True)
    flow = Flow(organisation)
    if reason_pk is not None:
        flow.reason = next((r for r in public_reasons(organisation) if r.pk == reason_pk), None)
        if flow.reason is None:
            raise Http404("Ce motif n'est pas proposé en ligne.")
    if mode is not None:
        if mode not in flow.reason.modes():
            raise Http404("Ce mode de rendez-vous n'est pas proposé pour ce motif.")
        flow.mode = mode
    if site_slug is not None:
        flow.site = get_object_or_404(flow.reason.sites, slug=site_slug, is_active=True)
    return flow


def slot_param(moment: datetime) -> str:
    """A start time as it appears in the address: « 2026-12-01-09h20 » (local time)."""
    return timezone.localtime(moment).strftime(SLOT_FORMAT)


def parse_slot_param(value: str) -> datetime:
    try:
        naive = datetime.strptime(value, SLOT_FORMAT)
    except ValueError:
        raise Http404("Horaire illisible.") from None
    return timezone.make_aware(naive)


def _render(request, template, flow, step, context, status=200):
    context = {
        "flow": flow,
        "organisation": flow.organisation,
        "step": step,
        "steps": len(STEPS),
        "step_title": STEPS[step - 1],
        "next_step_title": STEPS[step] if step < len(STEPS) else "",
        "nav": "public",
        **context,
    }
    return render(request, template, context, status=status)


def _contact(flow: Flow) -> dict:
    """Who to call when the web cannot help: the site's phone, else the organisation's."""
    site = flow.site
    return {
        "phone": (site.phone if site and site.phone else "") or flow.organisation.phone,
        "where": site.name if site and site.phone else flow.organisation.name,
    }


# ----- steps ---------------------------------------------------------------------------


def start(request, org_slug):
    """Step 1: the reasons that can be booked online."""
    flow = _flow(org_slug)
    reasons = public_reasons(flow.organisation)
    return _render(
        request,
        "appointments/public/start.html",
        flow,
        1,
        {"reasons": reasons, "contact": _contact(flow)},
    )


def choose_mode(request, org_slug, reason_pk):
    """Step 2: on site, by phone or by video (as the reason allows)."""
    flow = _flow(org_slug, reason_pk)
    modes = [(mode, Mode(mode).label, MODE_HELP[mode]) for mode in flow.reason.modes()]
    return _render(request, "appointments/public/mode.html", flow, 2, {"modes": modes})


def choose_site(request, org_slug, reason_pk, mode):
    """Step 3: the sites where the reason is offered, the nearest to a commune first."""
    flow = _flow(org_slug, reason_pk, mode)
    form = CommuneForm(request.GET or None)
    query = form.cleaned_data["commune"].strip() if form.is_valid() else ""
    sites = flow.reason.sites.filter(is_active=True)
    ordered, commune = nearby.sort_sites(sites, query)
    now = timezone.now()
    for item in ordered:
        item.first = services.first_available(
            flow.reason, item.site, mode=flow.mode, channel=Channel.PUBLIC, now=now
        )
    return _render(
        request,
        "appointments/public/site.html",
        flow,
        3,
        {"form": form, "sites": ordered, "query": query, "commune": commune},
    )


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def choose_slot(request, org_slug, reason_pk, mode, site_slug):
    """Step 4: the soonest slots first, then the days of one week (?semaine=)."""
    flow = _flow(org_slug, reason_pk, mode, site_slug)
    now = timezone.now()
    slots = services.available_slots(
        flow.reason, flow.site, mode=flow.mode, channel=Channel.PUBLIC, now=now
    )

    def url(slot):
        return flow.url("public_details", slot_param(slot.starts_at))

    context = {"contact": _contact(flow), **week_context(request, slots, url)}
    return _render(request, "appointments/public/slots.html", flow, 4, context)


def week_context(request, slots, url) -> dict:
    """The soonest slots, the week shown (?semaine=, else the first with slots) and links
    to its neighbours; each slot comes with its link (*url(slot)*)."""
    linked = [(slot, url(slot)) for slot in slots]
    weeks = sorted({_week_start(timezone.localtime(slot.starts_at).date()) for slot in slots})
    context = {"soonest": linked[:SOONEST], "has_slots": bool(slots)}
    if not weeks:
        return {**context, "week": None, "days": [], "previous_week": None, "next_week": None}
    try:
        wanted = _week_start(date.fromisoformat(request.GET.get("semaine", "")))
    except ValueError:
        wanted = weeks[0]
    week = wanted if wanted in weeks else next((w for w in weeks if w >= wanted), weeks[-1])
    index = weeks.index(week)
    in_week = [
        slot for slot in slots if _week_start(timezone.localtime(slot.starts_at).date()) == week
    ]
    urls = dict(linked)
    return {
        **context,
        "week": week,
        "week_end": week + timedelta(days=6),
        "days": [
            (day, [(slot, urls[slot]) for slot in day_slots])
            for day, day_slots in services.days_with_slots(in_week)
        ],
        "previous_week": weeks[index - 1] if index > 0 else None,
        "next_week": weeks[index + 1] if index + 1 < len(weeks) else None,
    }


def _alternatives_around(flow, starts_at, now, count=SOONEST):
    slots = services.available_slots(
        flow.reason, flow.site, mode=flow.mode, channel=Channel.PUBLIC, now=now
    )
    later = [slot for slot in slots if slot.starts_at >= starts_at]
    return [
        (slot, flow.url("public_details", slot_param(slot.starts_at)))
        for slot in (later or slots)[:count]
    ]


def details(request, org_slug, reason_pk, mode, site_slug, debut):
    """Step 5: who the appointment is for; the POST books it (no account, no JavaScript)."""
    flow = _flow(org_slug, reason_pk, mode, site_slug)
    starts_at = parse_slot_param(debut)
    now = timezone.now()
    booking_settings = services.ensure_settings(flow.organisation)
    form_kwargs = {"consent_text": booking_settings.consent_text, "mode": flow.mode}
    context = {
        "starts_at": starts_at,
        "ends_at": starts_at + flow.reason.duration,
        "contact": _contact(flow),
        "taken": False,
        "alternatives": [],
    }
    status = 200
    if request.method == "POST":
        if not antibot.hit(request, "reservation", now):
            return antibot.too_many(request)
        form = BookingForm(request.POST, **form_kwargs)
        if form.is_valid():
            data = form.cleaned_data
            try:
                appointment = services.book(
                    None,
                    flow.reason,
                    site=flow.site,
                    mode=flow.mode,
                    starts_at=starts_at,
                    channel=Channel.PUBLIC,
                    full_name=data["full_name"],
                    phone=data["phone"],
                    email=data["email"],
                    consent=data["consent"],
                    note=data["note"],
                    now=now,
                )
            except services.SlotTaken as taken:
                context["taken"] = True
                context["alternatives"] = [
                    (slot, flow.url("public_details", slot_param(slot.starts_at)))
                    for slot in taken.alternatives
                ]
                status = 409
            except ValidationError as error:
                _errors_on_form(form, error)
                status = 400
            else:
                return redirect(links.manage_url(appointment, absolute=False) + "?confirmation=1")
        else:
            status = 400
    else:
        form = BookingForm(**form_kwargs)
        available = services.available_slots(
            flow.reason,
            flow.site,
            mode=flow.mode,
            channel=Channel.PUBLIC,
            start=timezone.localtime(starts_at).date(),
            days=1,
            now=now,
        )
        if not any(slot.starts_at == starts_at for slot in available):
            context["gone"] = True
            context["alternatives"] = _alternatives_around(flow, starts_at, now)
    context["form"] = form
    context["error_list"] = error_summary(form)
    return _render(request, "appointments/public/details.html", flow, 5, context, status)


def _errors_on_form(form, error: ValidationError):
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def error_summary(form) -> list[tuple[str, str, str]]:
    """[(field id or "", label, message)] for the error summary at the top of the page."""
    rows = []
    for message in form.non_field_errors():
        rows.append(("", "", message))
    for field in form:
        for message in field.errors:
            label = field.label if field.name != "consent" else "Consentement"
            rows.append((field.id_for_label, label, message))
    return rows


def waitlist_subscribe(request, org_slug, reason_pk, mode, site_slug):
    """No slot fits: « prévenez-moi quand un créneau se libère » (no appointment yet)."""
    from .. import waitlist

    flow = _flow(org_slug, reason_pk, mode, site_slug)
    booking_settings = services.ensure_settings(flow.organisation)
    consent_text = (
        f"J'accepte que {flow.organisation.name} utilise ces coordonnées pour me prévenir "
        f"quand un créneau se libère (au plus {booking_settings.waitlist_max_notifications} "
        "messages). Elles sont effacées ensuite."
    )
    now = timezone.now()
    status = 200
    if request.method == "POST":
        if not antibot.hit(request, "liste_attente", now):
            return antibot.too_many(request)
        form = WaitlistForm(request.POST, consent_text=consent_text)
        if form.is_valid():
            try:
                entry = waitlist.subscribe(
                    reason=flow.reason,
                    site=flow.site,
                    mode=flow.mode,
                    before=now + timedelta(days=flow.reason.max_horizon_days),
                    email=form.cleaned_data["email"],
                    phone=form.cleaned_data["phone"],
                    appointment=None,
                )
            except ValidationError as error:
                _errors_on_form(form, error)
                status = 400
            else:
                return _render(
                    request,
                    "appointments/public/waitlist_done.html",
                    flow,
                    4,
                    {"entry": entry, "contact": _contact(flow)},
                )
        else:
            status = 400
    else:
        form = WaitlistForm(consent_text=consent_text)
    return _render(
        request,
        "appointments/public/waitlist.html",
        flow,
        4,
        {"form": form, "error_list": error_summary(form), "contact": _contact(flow)},
        status,
    )


urls = [
    path(PREFIX, start, name="public_start"),
    path(PREFIX + "<int:reason_pk>/", choose_mode, name="public_mode"),
    path(PREFIX + "<int:reason_pk>/<str:mode>/", choose_site, name="public_site"),
    path(
        PREFIX + "<int:reason_pk>/<str:mode>/<slug:site_slug>/",
        choose_slot,
        name="public_slots",
    ),
    path(
        PREFIX + "<int:reason_pk>/<str:mode>/<slug:site_slug>/liste-attente/",
        waitlist_subscribe,
        name="public_waitlist",
    ),
    path(
        PREFIX + "<int:reason_pk>/<str:mode>/<slug:site_slug>/<str:debut>/",
        details,
        name="public_details",
    ),
]
