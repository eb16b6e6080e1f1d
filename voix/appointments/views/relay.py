"""Partner booking (issue 5, point 3): a France Services advisor books an appointment with
a Caf advisor for the person sitting next to them, and follows the bookings of their relay
— those only — and their outcome.

The booking pages are a plain step-by-step form (motif → site → mode → créneau →
coordonnées) carried in the query string and hidden fields, so they work without
JavaScript; each step can be changed from the summary.
"""

import csv
from datetime import date, datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode

from voix.core.forms import DsfrFormMixin
from voix.core.models import Site
from voix.core.views import form_errors_to_messages

from .. import services
from ..models import Appointment, Channel, Mode, Reason

NAV = "rendez_vous"
DAYS_PER_PAGE = 5
NOTE_MAX = 1000
CONSENT_LABEL = (
    "La personne accepte que ses coordonnées soient transmises à la Caf pour ce rendez-vous"
)
STEPS = [
    ("motif", "Motif du rendez-vous"),
    ("site", "Site de la Caf"),
    ("mode", "Sur place, par téléphone ou en visio"),
    ("creneau", "Date et heure"),
    ("coordonnees", "Coordonnées de la personne et situation"),
]
PERIODS = {"a-venir": "À venir", "passes": "Passés", "tous": "Tous"}
MODE_HINTS = {
    Mode.ON_SITE: "La personne se rend sur le site de la Caf choisi.",
    Mode.PHONE: "Le conseiller de la Caf appelle la personne au numéro indiqué.",
    Mode.VIDEO: "La personne reçoit un lien de visio, à ouvrir sur un ordinateur ou un "
    "téléphone, ou ici, au relais.",
}


def _relay(request) -> Site:
    """The person's relay (their « partenaire » membership); anyone else gets 403."""
    relay = services.relay_of(request.user)
    if relay is None:
        raise PermissionDenied(
            "Cette page est réservée aux conseillers des relais partenaires (France Services). "
            "Les agents de l'organisme utilisent l'agenda."
        )
    return relay


def _bookings(relay):
    return Appointment.objects.filter(relay=relay).select_related("reason", "site")


def _filtered(request, relay):
    """(period code, queryset) for ?periode=a-venir|passes|tous."""
    period = request.GET.get("periode")
    if period not in PERIODS:
        period = "a-venir"
    now = timezone.now()
    qs = _bookings(relay)
    if period == "a-venir":
        qs = qs.filter(ends_at__gte=now).order_by("starts_at")
    elif period == "passes":
        qs = qs.filter(ends_at__lt=now).order_by("-starts_at")
    else:
        qs = qs.order_by("-starts_at")
    return period, qs


# ----- the relay's bookings ------------------------------------------------------------


@login_required
def relay_index(request):
    relay = _relay(request)
    period, qs = _filtered(request, relay)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "appointments/relay/index.html",
        {
            "relay": relay,
            "period": period,
            "periods": PERIODS.items(),
            "page": page,
            "total": qs.count(),
            "nav": NAV,
        },
    )


def _csv_text(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@login_required
def relay_export(request):
    relay = _relay(request)
    period, qs = _filtered(request, relay)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="rendez-vous-{relay.slug}-{period}.csv"'
    )
    response.write("\ufeff")  # so a spreadsheet opens it as UTF-8
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        ["reference", "date", "heure", "motif", "mode", "lieu", "statut", "personne", "reserve_le"]
    )
    for appointment in qs.iterator(chunk_size=2000):
        starts = timezone.localtime(appointment.starts_at)
        writer.writerow(
            [
                appointment.reference,
                f"{starts:%d/%m/%Y}",
                f"{starts:%H:%M}",
                _csv_text(appointment.reason.label),
                appointment.get_mode_display(),
                _csv_text(appointment.site.name),
                appointment.get_status_display(),
                _csv_text(appointment.full_name),
                f"{timezone.localtime(appointment.created_at):%d/%m/%Y %H:%M}",
            ]
        )
    return response


@login_required
def relay_detail(request, pk):
    """A booking of the relay: the confirmation to read or print for the person."""
    relay = _relay(request)
    appointment = get_object_or_404(
        _bookings(relay).select_related("organisation", "booked_by"), pk=pk
    )
    return render(
        request,
        "appointments/relay/detail.html",
        {
            "relay": relay,
            "appointment": appointment,
            "mode_hint": MODE_HINTS.get(appointment.mode, ""),
            "nav": NAV,
        },
    )


# ----- booking, step by step -----------------------------------------------------------


class RelayBookingForm(DsfrFormMixin, forms.Form):
    full_name = forms.CharField(
        label="Nom et prénom de la personne",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": "Indiquez le nom et le prénom de la personne reçue."},
    )
    phone = forms.CharField(
        label="Son téléphone",
        required=False,
        max_length=20,
        help_text="Pour la confirmation et le rappel par SMS. Ex. 06 12 34 56 78.",
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Son adresse électronique",
        required=False,
        max_length=254,
        help_text="Pour la confirmation par courriel. Ex. prenom.nom@exemple.fr. Le téléphone "
        "ou l'adresse électronique est obligatoire.",
        error_messages={"invalid": "Adresse électronique invalide (ex. prenom.nom@exemple.fr)."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    referral_note = forms.CharField(
        label="La situation en quelques mots",
        max_length=NOTE_MAX,
        help_text=(
            f"Pour que le conseiller de la Caf prépare le rendez-vous ({NOTE_MAX} caractères "
            "au plus). Ex. « Séparation récente, revenus en baisse ». Pas de donnée de santé."
        ),
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": NOTE_MAX}),
        error_messages={
            "required": "Décrivez en quelques mots la situation de la personne.",
            "max_length": f"La note ne doit pas dépasser {NOTE_MAX} caractères "
            "(elle en compte %(show_value)d).",
        },
    )
    consent = forms.BooleanField(
        label=CONSENT_LABEL,
        error_messages={
            "required": "Cochez la case après avoir recueilli l'accord de la personne : sans "
            "son accord, le rendez-vous ne peut pas être pris."
        },
    )

    def clean(self):
        data = super().clean()
        if (
            "phone" not in self.errors
            and "email" not in self.errors
            and not data.get("phone", "").strip()
            and not data.get("email", "").strip()
        ):
            self.add_error(
                "phone",
                "Indiquez un numéro de téléphone ou une adresse électronique : la personne y "
                "reçoit la confirmation, le rappel et le lien pour déplacer ou annuler.",
            )
        return data


def _local_datetime(value) -> datetime | None:
    """« 2027-03-12T09:00 » (local time, as these pages write it) → an aware datetime."""
    try:
        parsed = datetime.strptime(value or "", "%Y-%m-%dT%H:%M")
    except ValueError:
        return None
    return timezone.make_aware(parsed)


def _slot_value(slot) -> str:
    return f"{timezone.localtime(slot.starts_at):%Y-%m-%dT%H:%M}"


def _pick(options, raw):
    """The option whose pk is *raw*, or None."""
    return next((o for o in options if str(o.pk) == (raw or "")), None)


def _bookable_reasons(organisation):
    return [
        reason
        for reason in Reason.objects.filter(organisation=organisation, is_active=True)
        .prefetch_related("sites")
        .order_by("position", "label")
        if reason.bookable_by(Channel.PARTNER)
    ]


def _query(**params) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _slot_days(reason, site, mode, start, now):
    """(days with their slots for one page, first day of the next page or None)."""
    slots = services.available_slots(
        reason, site, mode=mode, channel=Channel.PARTNER, start=start, now=now
    )
    days = services.days_with_slots(slots)
    shown = days[:DAYS_PER_PAGE]
    following = days[DAYS_PER_PAGE][0] if len(days) > DAYS_PER_PAGE else None
    return [(day, [(slot, _slot_value(slot)) for slot in day_slots]) for day, day_slots in shown], (
        following
    )


@login_required
def relay_book(request):
    """Book for the person sitting at the relay; one step per page, no JavaScript."""
    relay = _relay(request)
    organisation = relay.organisation
    params = request.POST if request.method == "POST" else request.GET
    submitted_step = params.get("etape", "")
    now = timezone.now()
    context = {"relay": relay, "organisation": organisation, "nav": NAV, "errors": []}

    def step(name, status=200, **extra):
        number = [code for code, _ in STEPS].index(name)
        context.update(
            step=name,
            step_number=number + 1,
            step_count=len(STEPS),
            step_title=STEPS[number][1],
            next_title=STEPS[number + 1][1] if number + 1 < len(STEPS) else "",
            field_errors=dict(context["errors"]),
            **extra,
        )
        return render(request, "appointments/relay/book.html", context, status=status)

    # 1. motif
    reasons = _bookable_reasons(organisation)
    reason = _pick(reasons, params.get("motif"))
    context["reasons"] = reasons
    if reason is None:
        if submitted_step == "motif" or params.get("motif"):
            context["errors"].append(("motif", "Choisissez le motif du rendez-vous."))
        return step("motif", status=400 if context["errors"] else 200)
    context["reason"] = reason
    context["change"] = {"site": _query(motif=reason.pk)}

    # 2. site (skipped when there is only one)
    sites = [s for s in reason.sites.all() if s.is_active and not s.is_relay]
    site = _pick(sites, params.get("site"))
    if site is None and len(sites) == 1:
        site = sites[0]
        context["only_site"] = True
    context["sites"] = sites
    if site is None:
        if submitted_step == "site" or params.get("site"):
            context["errors"].append(("site", "Choisissez le site de la Caf."))
        return step("site", status=400 if context["errors"] else 200)
    context["site"] = site
    context["change"]["mode"] = _query(motif=reason.pk, site=site.pk)

    # 3. mode (skipped when there is only one)
    modes = [(m, Mode(m).label, MODE_HINTS[m]) for m in reason.modes()]
    mode = params.get("mode") if params.get("mode") in reason.modes() else None
    if mode is None and len(modes) == 1:
        mode = modes[0][0]
        context["only_mode"] = True
    context["modes"] = modes
    if mode is None:
        if submitted_step == "mode" or params.get("mode"):
            context["errors"].append(("mode", "Choisissez comment le rendez-vous aura lieu."))
        return step("mode", status=400 if context["errors"] else 200)
    context.update(mode=mode, mode_label=Mode(mode).label, mode_hint=MODE_HINTS[mode])
    base = {"motif": reason.pk, "site": site.pk, "mode": mode}
    context["base"] = base
    context["change"]["creneau"] = _query(**base)

    # 4. créneau
    starts_at = _local_datetime(params.get("creneau"))

    def slot_step(error=None, status=200):
        try:
            start = date.fromisoformat(request.GET.get("debut", ""))
        except ValueError:
            start = None
        days, following = _slot_days(reason, site, mode, start, now)
        if error:
            context["errors"].append(("creneau", error))
        return step(
            "creneau",
            status=status,
            days=days,
            next_url=_query(**base, debut=following.isoformat()) if following else None,
            first_url=_query(**base) if start else None,
        )

    if starts_at is None:
        if submitted_step == "creneau" or params.get("creneau"):
            return slot_step("Choisissez un créneau dans la liste.", status=400)
        return slot_step()
    context.update(starts_at=starts_at, ends_at=starts_at + reason.duration)
    context["slot_value"] = params.get("creneau")

    # 5. coordonnées, then the booking
    if request.method != "POST":
        day_slots = services.available_slots(
            reason,
            site,
            mode=mode,
            channel=Channel.PARTNER,
            start=timezone.localtime(starts_at).date(),
            days=1,
            now=now,
        )
        if not any(s.starts_at == starts_at for s in day_slots):
            return slot_step(
                "Ce créneau n'est plus libre ou n'est pas proposé : choisissez-en un autre.",
                status=400,
            )
        return step("coordonnees", form=RelayBookingForm())
    form = RelayBookingForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            appointment = services.book(
                request.user,
                reason,
                site=site,
                mode=mode,
                starts_at=starts_at,
                channel=Channel.PARTNER,
                full_name=data["full_name"],
                phone=data["phone"],
                email=data["email"],
                consent=data["consent"],
                relay=relay,
                referral_note=data["referral_note"],
                now=now,
            )
        except services.SlotTaken as taken:
            context["alternatives"] = [(slot, _slot_value(slot)) for slot in taken.alternatives]
            context["errors"].append(("creneau", taken.messages[0]))
        except ValidationError as error:
            form_errors_to_messages(request, error, form)
        else:
            messages.success(
                request,
                f"Rendez-vous réservé : référence {appointment.reference}. La personne reçoit "
                "la confirmation par message.",
            )
            return redirect("appointments:relay_detail", pk=appointment.pk)
    return step("coordonnees", status=400, form=form)


urls = [
    path("rendez-vous/relais/", relay_index, name="relay_index"),
    path("rendez-vous/relais/export.csv", relay_export, name="relay_export"),
    path("rendez-vous/relais/nouveau/", relay_book, name="relay_book"),
    path("rendez-vous/relais/<int:pk>/", relay_detail, name="relay_detail"),
]
