"""Configuration of appointments (issue 5, point 1), for the managers and administrators
of the organisation: booking settings, reasons (motifs), advisors' opening slots with
their exceptions, absences. Other roles get 403; another organisation's objects, 404."""

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone

from voix.core.models import Role
from voix.core.scoping import has_role, organisations_with_role
from voix.core.views import form_errors_to_messages, role_required, submitted

from .. import services
from ..models import Absence, Audience, OpeningSlot, Reason, SlotException
from ..settings_forms import (
    AbsenceForm,
    BookingSettingsForm,
    OpeningSlotForm,
    ReasonForm,
    SlotExceptionForm,
)

EDITORS = (Role.MANAGER, Role.ADMIN)
editor_required = role_required(*EDITORS)
NAV = "rendez_vous"


def _organisation(request):
    """The organisation configured (?organisme=<slug> among those the person manages)."""
    organisations = organisations_with_role(request.user, *EDITORS).order_by("name")
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    organisation = organisations.filter(kind="organisme").first() or organisations.first()
    if organisation is None:
        raise PermissionDenied("Cette page est réservée aux managers et administrateurs.")
    return organisation


def _check(request, organisation):
    """404 for an object outside the organisations the person manages."""
    if not has_role(request.user, *EDITORS, organisation=organisation):
        raise Http404("Introuvable.")
    return organisation


def _back(organisation, anchor=""):
    return reverse("appointments:settings") + f"?organisme={organisation.slug}{anchor}"


def _form_page(request, form, title, organisation, *, anchor="", **extra):
    return render(
        request,
        "appointments/settings/form.html",
        {
            "form": form,
            "title": title,
            "organisation": organisation,
            "back": _back(organisation, anchor),
            "nav": NAV,
            **extra,
        },
    )


def _confirm_page(request, title, question, confirm_label, organisation, anchor):
    return render(
        request,
        "appointments/settings/confirm.html",
        {
            "title": title,
            "question": question,
            "confirm_label": confirm_label,
            "organisation": organisation,
            "back": _back(organisation, anchor),
            "nav": NAV,
        },
    )


# ----- index ---------------------------------------------------------------------------


def _slot_groups(organisation, today):
    """[(advisor, [(site, [slot, …]), …]), …]: the opening slots by advisor, then site."""
    slots = (
        OpeningSlot.objects.filter(site__organisation=organisation)
        .select_related("advisor", "site")
        .prefetch_related("reasons")
        .order_by("advisor__full_name", "advisor__email", "site__name", "weekday", "starts")
    )
    exceptions = defaultdict(list)
    for exception in SlotException.objects.filter(
        slot__site__organisation=organisation, day__gte=today
    ).order_by("day"):
        exceptions[exception.slot_id].append(exception)
    grouped: dict = {}
    for slot in slots:
        slot.upcoming_exceptions = exceptions.get(slot.pk, [])
        slot.expired = bool(slot.valid_until and slot.valid_until < today)
        grouped.setdefault(slot.advisor, {}).setdefault(slot.site, []).append(slot)
    return [(advisor, list(sites.items())) for advisor, sites in grouped.items()]


@editor_required
def settings_index(request):
    organisation = _organisation(request)
    now = timezone.now()
    today = timezone.localdate(now)
    reasons = (
        Reason.objects.filter(organisation=organisation)
        .prefetch_related("sites")
        .order_by("position", "label")
    )
    absences = (
        Absence.objects.filter(organisation=organisation, ends_at__gte=now)
        .select_related("advisor")
        .order_by("starts_at")
    )
    return render(
        request,
        "appointments/settings/index.html",
        {
            "organisation": organisation,
            "others": organisations_with_role(request.user, *EDITORS)
            .exclude(pk=organisation.pk)
            .order_by("name"),
            "booking_settings": services.ensure_settings(organisation),
            "reasons": reasons,
            "slot_groups": _slot_groups(organisation, today),
            "absences": absences,
            "past_absences": Absence.objects.filter(
                organisation=organisation, ends_at__lt=now
            ).count(),
            "audience_agent": Audience.AGENT,
            "nav": NAV,
        },
    )


# ----- booking settings ----------------------------------------------------------------


@editor_required
def settings_edit(request):
    organisation = _organisation(request)
    current = services.ensure_settings(organisation)
    form = BookingSettingsForm(request.POST or None, instance=current)
    done = submitted(
        request,
        form,
        lambda data: services.save_settings(request.user, organisation, **data),
        "Réglages des rendez-vous enregistrés.",
        _back(organisation, "#reglages"),
    )
    return done or _form_page(
        request, form, "Réglages des rendez-vous", organisation, anchor="#reglages"
    )


# ----- reasons -------------------------------------------------------------------------


def _reason_page(request, organisation, reason=None):
    form = ReasonForm(request.POST or None, organisation=organisation, instance=reason)

    def save(_data):
        fresh = Reason.objects.get(pk=reason.pk) if reason else None
        return services.save_reason(
            request.user,
            organisation,
            fresh,
            sites=list(form.cleaned_data["sites"]),
            **form.service_fields(),
        )

    done = submitted(
        request,
        form,
        save,
        lambda r: f"Le motif « {r.label} » est enregistré.",
        _back(organisation, "#motifs"),
    )
    title = f"Modifier le motif « {reason.label} »" if reason else "Nouveau motif de rendez-vous"
    return done or _form_page(request, form, title, organisation, anchor="#motifs")


@editor_required
def reason_create(request):
    return _reason_page(request, _organisation(request))


@editor_required
def reason_edit(request, pk):
    reason = get_object_or_404(Reason.objects.select_related("organisation"), pk=pk)
    return _reason_page(request, _check(request, reason.organisation), reason)


# ----- opening slots -------------------------------------------------------------------


def _slot_for(request, pk) -> OpeningSlot:
    slot = get_object_or_404(
        OpeningSlot.objects.select_related("site__organisation", "advisor"), pk=pk
    )
    _check(request, slot.site.organisation)
    return slot


def _slot_page(request, organisation, slot=None):
    initial = {}
    if slot is None and request.GET.get("conseiller", "").isdigit():
        initial["advisor"] = int(request.GET["conseiller"])
    form = OpeningSlotForm(
        request.POST or None, organisation=organisation, instance=slot, initial=initial
    )

    def save(data):
        fresh = OpeningSlot.objects.get(pk=slot.pk) if slot else None
        return services.save_opening_slot(
            request.user,
            data["advisor"],
            data["site"],
            fresh,
            reasons=list(data["reasons"]),
            **form.service_fields(),
        )

    done = submitted(
        request,
        form,
        save,
        lambda s: (
            f"Plage du {s.get_weekday_display().lower()} {s.starts:%H:%M}–{s.ends:%H:%M} "
            f"enregistrée pour {s.advisor}."
        ),
        _back(organisation, "#plages"),
    )
    title = (
        f"Modifier la plage « {slot} » — {slot.advisor}" if slot else "Nouvelle plage d'ouverture"
    )
    note = (
        "Les rendez-vous déjà pris ne sont pas déplacés : vérifiez l'agenda du conseiller "
        "après une modification."
        if slot
        else "Une plage se répète chaque semaine le jour choisi, pendant sa période de "
        "validité. Pour une permanence ponctuelle, donnez-lui le même jour de début et de fin."
    )
    return done or _form_page(request, form, title, organisation, anchor="#plages", note=note)


@editor_required
def slot_create(request):
    return _slot_page(request, _organisation(request))


@editor_required
def slot_edit(request, pk):
    slot = _slot_for(request, pk)
    return _slot_page(request, slot.site.organisation, slot)


@editor_required
def slot_delete(request, pk):
    slot = _slot_for(request, pk)
    organisation = slot.site.organisation
    if request.method == "POST":
        try:
            services.delete_opening_slot(request.user, slot)
        except ValidationError as error:
            form_errors_to_messages(request, error)
        else:
            messages.success(request, f"Plage « {slot} » ({slot.advisor}, {slot.site}) supprimée.")
        return redirect(_back(organisation, "#plages"))
    return _confirm_page(
        request,
        f"Supprimer la plage « {slot} » — {slot.advisor}",
        f"La plage du {slot} à {slot.site} ne sera plus proposée à la réservation. Les "
        "rendez-vous déjà pris sur cette plage sont conservés : déplacez-les ou annulez-les "
        "depuis l'agenda si besoin. Continuer ?",
        "Supprimer la plage",
        organisation,
        "#plages",
    )


@editor_required
def exception_create(request, pk):
    slot = _slot_for(request, pk)
    organisation = slot.site.organisation
    form = SlotExceptionForm(request.POST or None, slot=slot)
    done = submitted(
        request,
        form,
        lambda data: services.add_slot_exception(
            request.user, slot, day=data["day"], label=data["label"]
        ),
        lambda e: f"Pas de plage « {slot} » le {e.day:%d/%m/%Y} pour {slot.advisor}.",
        _back(organisation, "#plages"),
    )
    return done or _form_page(
        request,
        form,
        f"Exception à la plage « {slot} » — {slot.advisor}",
        organisation,
        anchor="#plages",
        note="Ce jour-là, la plage ne sera pas proposée à la réservation. Les rendez-vous "
        "déjà pris ce jour-là sont conservés : déplacez-les depuis l'agenda si besoin.",
        submit_label="Ajouter l'exception",
    )


# ----- absences ------------------------------------------------------------------------


@editor_required
def absence_create(request):
    organisation = _organisation(request)
    initial = {}
    if request.GET.get("conseiller", "").isdigit():
        initial["advisor"] = int(request.GET["conseiller"])
    form = AbsenceForm(request.POST or None, organisation=organisation, initial=initial)
    done = submitted(
        request,
        form,
        lambda data: services.add_absence(
            request.user,
            data["advisor"],
            organisation,
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            label=data["label"],
        ),
        lambda a: f"Absence enregistrée pour {a.advisor}.",
        _back(organisation, "#absences"),
    )
    return done or _form_page(
        request,
        form,
        "Nouvelle absence",
        organisation,
        anchor="#absences",
        note="Pendant une absence, aucun créneau du conseiller n'est proposé. Les rendez-vous "
        "déjà pris sont conservés : déplacez-les depuis l'agenda si besoin.",
    )


@editor_required
def absence_delete(request, pk):
    absence = get_object_or_404(Absence.objects.select_related("organisation", "advisor"), pk=pk)
    organisation = _check(request, absence.organisation)
    if request.method == "POST":
        services.delete_absence(request.user, absence)
        messages.success(request, f"Absence supprimée pour {absence.advisor}.")
        return redirect(_back(organisation, "#absences"))
    starts = timezone.localtime(absence.starts_at)
    ends = timezone.localtime(absence.ends_at)
    return _confirm_page(
        request,
        f"Supprimer une absence — {absence.advisor}",
        f"L'absence du {starts:%d/%m/%Y %H:%M} au {ends:%d/%m/%Y %H:%M} sera supprimée : les "
        "créneaux du conseiller redeviendront réservables sur cette période. Continuer ?",
        "Supprimer l'absence",
        organisation,
        "#absences",
    )


urls = [
    path("rendez-vous/parametres/", settings_index, name="settings"),
    path("rendez-vous/parametres/reglages/", settings_edit, name="settings_edit"),
    path("rendez-vous/parametres/motifs/nouveau/", reason_create, name="reason_create"),
    path("rendez-vous/parametres/motifs/<int:pk>/", reason_edit, name="reason_edit"),
    path("rendez-vous/parametres/plages/nouvelle/", slot_create, name="slot_create"),
    path("rendez-vous/parametres/plages/<int:pk>/", slot_edit, name="slot_edit"),
    path("rendez-vous/parametres/plages/<int:pk>/supprimer/", slot_delete, name="slot_delete"),
    path(
        "rendez-vous/parametres/plages/<int:pk>/exception/",
        exception_create,
        name="slot_exception_create",
    ),
    path("rendez-vous/parametres/absences/nouvelle/", absence_create, name="absence_create"),
    path(
        "rendez-vous/parametres/absences/<int:pk>/supprimer/",
        absence_delete,
        name="absence_delete",
    ),
]
