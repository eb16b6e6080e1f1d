"""Settings of the contact log: reasons taxonomy (theme › reason), teams, clock policies.

Managers and administrators of the organisation edit; quality leads read.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from voix.core.models import Role
from voix.core.scoping import has_role
from voix.core.views import role_required, submitted

from .. import clocks, services
from ..forms import PolicyForm, ReasonForm, TeamForm
from ..models import Channel, ClockPolicy, Reason, Team
from .log import nav_flags, organisation_for

EDITORS = (Role.MANAGER, Role.ADMIN)
READERS = (*EDITORS, Role.QUALITE)
reader_required = role_required(*READERS)
editor_required = role_required(*EDITORS)


def _editable(request, obj_organisation):
    """404 outside the user's organisations, 403 for readers who may not edit."""
    if not has_role(request.user, *READERS, organisation=obj_organisation):
        from django.http import Http404

        raise Http404("Introuvable.")
    if not has_role(request.user, *EDITORS, organisation=obj_organisation):
        raise PermissionDenied("Seuls les managers et administrateurs modifient ces réglages.")


@reader_required
def settings_index(request):
    organisation = organisation_for(request, READERS)
    saved = {
        (p.channel, p.reason_id): p
        for p in ClockPolicy.objects.filter(organisation=organisation).select_related("reason")
    }
    channel_rows = [
        {
            "channel": label,
            "code": code,
            "policy": saved.get((code, None)) or clocks.default_policy(organisation, code),
        }
        for code, label in Channel.choices
    ]
    specific = [p for key, p in saved.items() if key[1] is not None]
    themes = Reason.objects.filter(organisation=organisation, parent__isnull=True).prefetch_related(
        "children"
    )
    return render(
        request,
        "contacts/settings/index.html",
        {
            "organisation": organisation,
            "can_edit": has_role(request.user, *EDITORS, organisation=organisation),
            "default_answer_days": clocks.DEFAULT_ANSWER_DAYS,
            "channel_rows": channel_rows,
            "specific": specific,
            "themes": themes,
            "teams": Team.objects.filter(organisation=organisation)
            .select_related("site")
            .prefetch_related("members"),
            "nav": "contacts",
            **nav_flags(request.user),
        },
    )


def _back(organisation):
    return reverse("contacts:settings") + f"?organisme={organisation.slug}"


def _form_page(request, form, title, organisation, **extra):
    return render(
        request,
        "contacts/settings/form.html",
        {
            "form": form,
            "title": title,
            "organisation": organisation,
            "back": _back(organisation),
            "nav": "contacts",
            **nav_flags(request.user),
            **extra,
        },
    )


def _reason_fields(data):
    return {k: data[k] for k in ("parent", "code", "label", "seasonal_mass", "active")}


@editor_required
def reason_create(request):
    organisation = organisation_for(request, EDITORS)
    form = ReasonForm(request.POST or None, organisation=organisation)
    done = submitted(
        request,
        form,
        lambda data: services.save_reason(request.user, organisation, **_reason_fields(data)),
        lambda r: f"Le motif « {r} » est enregistré.",
        _back(organisation),
    )
    return done or _form_page(request, form, "Nouveau motif de contact", organisation)


@reader_required
def reason_edit(request, pk):
    reason = get_object_or_404(Reason, pk=pk)
    _editable(request, reason.organisation)
    organisation = reason.organisation
    form = ReasonForm(request.POST or None, organisation=organisation, instance=reason)
    done = submitted(
        request,
        form,
        lambda data: services.save_reason(
            request.user, organisation, Reason.objects.get(pk=pk), **_reason_fields(data)
        ),
        lambda r: f"Le motif « {r} » est enregistré.",
        _back(organisation),
    )
    return done or _form_page(request, form, f"Modifier le motif « {reason} »", organisation)


def _team_fields(data):
    return {"name": data["name"], "site": data["site"], "members": list(data["members"])}


@editor_required
def team_create(request):
    organisation = organisation_for(request, EDITORS)
    form = TeamForm(request.POST or None, organisation=organisation)
    done = submitted(
        request,
        form,
        lambda data: services.save_team(request.user, organisation, **_team_fields(data)),
        lambda t: f"L'équipe « {t} » est enregistrée.",
        _back(organisation),
    )
    return done or _form_page(request, form, "Nouvelle équipe", organisation)


@reader_required
def team_edit(request, pk):
    team = get_object_or_404(Team, pk=pk)
    _editable(request, team.organisation)
    organisation = team.organisation
    form = TeamForm(request.POST or None, organisation=organisation, instance=team)
    done = submitted(
        request,
        form,
        lambda data: services.save_team(
            request.user, organisation, Team.objects.get(pk=pk), **_team_fields(data)
        ),
        lambda t: f"L'équipe « {t} » est enregistrée.",
        _back(organisation),
    )
    return done or _form_page(request, form, f"Modifier l'équipe « {team} »", organisation)


POLICY_FIELDS = (
    "channel",
    "reason",
    "ack_delay",
    "ack_unit",
    "answer_delay",
    "answer_unit",
    "warn_before_hours",
)


@editor_required
def policy_create(request):
    organisation = organisation_for(request, EDITORS)
    channel = request.GET.get("canal")
    initial = {}
    if channel in Channel.values:
        default = clocks.default_policy(organisation, channel)
        initial = {name: getattr(default, name) for name in POLICY_FIELDS if name != "reason"}
    form = PolicyForm(request.POST or None, organisation=organisation, initial=initial)
    done = submitted(
        request,
        form,
        lambda data: services.save_policy(
            request.user, organisation, **{k: data[k] for k in POLICY_FIELDS}
        ),
        lambda p: f"La règle de délai « {p} » est enregistrée.",
        _back(organisation),
    )
    return done or _form_page(request, form, "Nouvelle règle de délai", organisation)


@reader_required
def policy_edit(request, pk):
    policy = get_object_or_404(ClockPolicy, pk=pk)
    _editable(request, policy.organisation)
    organisation = policy.organisation
    form = PolicyForm(request.POST or None, organisation=organisation, instance=policy)
    done = submitted(
        request,
        form,
        lambda data: services.save_policy(
            request.user,
            organisation,
            ClockPolicy.objects.get(pk=pk),
            **{k: data[k] for k in POLICY_FIELDS},
        ),
        lambda p: f"La règle de délai « {p} » est enregistrée.",
        _back(organisation),
    )
    return done or _form_page(
        request,
        form,
        f"Modifier la règle de délai « {policy} »",
        organisation,
        note="Les échéances déjà calculées ne changent pas : la règle s'applique aux contacts "
        "enregistrés ou modifiés ensuite.",
    )


@require_POST
@editor_required
def policies_defaults(request):
    organisation = organisation_for(request, EDITORS)
    created = clocks.ensure_default_policies(organisation)
    messages.success(
        request,
        f"{len(created)} règle(s) par défaut enregistrée(s)."
        if created
        else "Chaque canal a déjà sa règle.",
    )
    return redirect(_back(organisation))


urlpatterns = [
    path("contacts/parametres/", settings_index, name="settings"),
    path("contacts/parametres/motifs/nouveau/", reason_create, name="reason_create"),
    path("contacts/parametres/motifs/<int:pk>/", reason_edit, name="reason_edit"),
    path("contacts/parametres/equipes/nouvelle/", team_create, name="team_create"),
    path("contacts/parametres/equipes/<int:pk>/", team_edit, name="team_edit"),
    path("contacts/parametres/delais/nouveau/", policy_create, name="policy_create"),
    path("contacts/parametres/delais/<int:pk>/", policy_edit, name="policy_edit"),
    path("contacts/parametres/delais/par-defaut/", policies_defaults, name="policies_defaults"),
]
