"""The médiateur's pages: the queue of cases referred to mediation (their own deadlines) and
one mediation (the case in short, the requester's reason, take it, decide with a
confirmation step)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.contacts.views.log import deadline_state
from voix.core.models import Role
from voix.core.scoping import has_role
from voix.core.views import role_required

from .. import services
from ..forms import DecisionForm, error_summary, mark_invalid
from ..models import Mediation, MediationStatus
from .public import errors_on_form

NAV = "mediation"
# Médiateurs act; administrators of the organisation read the queue (services rule).
mediator_required = role_required(Role.MEDIATEUR, Role.ADMIN)
FILTERS = {
    "ouvertes": "En cours",
    "miennes": "Prises par moi",
    "decidees": "Décidées",
    "toutes": "Toutes",
}


def mediations_for(user):
    """Mediations *user* may see (services.visible_mediations)."""
    return services.visible_mediations(user).select_related(
        "complaint__organisation", "complaint__site", "contact", "mediator"
    )


def mediates(user, mediation) -> bool:
    """Takes and decides: a médiateur of the case's organisation."""
    return has_role(user, Role.MEDIATEUR, organisation=mediation.complaint.organisation_id)


def mediation_to_act_on(request, pk) -> Mediation:
    mediation = mediation_or_404(request, pk)
    if not mediates(request.user, mediation):
        raise PermissionDenied("Seul un médiateur de l'organisme traite une médiation.")
    return mediation


def mediation_or_404(request, pk) -> Mediation:
    return get_object_or_404(mediations_for(request.user), pk=pk)


@mediator_required
def mediation_index(request):
    """/mediation/: the queue, the nearest deadline first."""
    current = request.GET.get("filtre")
    if current not in FILTERS:
        current = "ouvertes"
    qs = mediations_for(request.user)
    if current == "ouvertes":
        qs = qs.filter(status=MediationStatus.OPEN)
    elif current == "miennes":
        qs = qs.filter(status=MediationStatus.OPEN, mediator=request.user)
    elif current == "decidees":
        qs = qs.filter(status=MediationStatus.DECIDED)
    qs = qs.order_by(F("contact__due_at").asc(nulls_last=True), "requested_at", "pk")
    now = timezone.now()
    rows = []
    for mediation in qs[:500]:
        code, words = state_of(mediation, now)
        rows.append({"mediation": mediation, "state": code, "state_words": words})
    return render(
        request,
        "complaints/mediation/index.html",
        {
            "rows": rows,
            "filters": FILTERS.items(),
            "current": current,
            "open_count": mediations_for(request.user).filter(status=MediationStatus.OPEN).count(),
            "nav": NAV,
        },
    )


@mediator_required
def mediation_detail(request, pk):
    """/mediation/<n°>/: the case, the reason for mediation, take it, decide."""
    mediation = mediation_or_404(request, pk)
    complaint = mediation.complaint
    services.record_personal_data_view(request.user, complaint)
    return render(
        request,
        "complaints/mediation/detail.html",
        _detail_context(request, mediation, DecisionForm()),
    )


def state_of(mediation, now) -> tuple[str, str]:
    """(code, words) of the mediation's deadline, in words (never colour alone)."""
    if mediation.status == MediationStatus.DECIDED:
        return "", "Décision rendue"
    if mediation.contact_id:
        return deadline_state(mediation.contact, now)
    return "", "Pas d'échéance"


def _detail_context(request, mediation, form) -> dict:
    complaint = mediation.complaint
    code, words = state_of(mediation, timezone.now())
    return {
        "state": code,
        "state_words": words,
        "mediation": mediation,
        "complaint": complaint,
        "attachments": complaint.attachments.all(),
        "form": form,
        "error_list": error_summary(form) if form.is_bound else [],
        "is_open": mediation.status == MediationStatus.OPEN,
        "is_mine": mediation.mediator_id == request.user.pk,
        "mediates": mediates(request.user, mediation),
        "nav": NAV,
    }


@require_POST
@mediator_required
def mediation_take(request, pk):
    mediation = mediation_to_act_on(request, pk)
    try:
        services.take_mediation(request.user, mediation)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Vous êtes chargé de cette médiation.")
    return redirect("complaints:mediation_detail", pk=mediation.pk)


@require_POST
@mediator_required
def mediation_decide(request, pk):
    """The decision: first a confirmation page, then (confirmer=1) it is recorded and sent."""
    mediation = mediation_to_act_on(request, pk)
    form = DecisionForm(request.POST)
    if form.is_valid() and "modifier" not in request.POST:
        data = form.cleaned_data
        if request.POST.get("confirmer") == "1":
            try:
                services.decide_mediation(
                    request.user, mediation, decision=data["decision"], text=data["text"]
                )
            except ValidationError as error:
                errors_on_form(form, error)
            else:
                messages.success(
                    request, "La décision est enregistrée et communiquée à la personne."
                )
                return redirect(
                    reverse("complaints:mediation_detail", args=[mediation.pk]) + "#decision"
                )
        else:
            return render(
                request,
                "complaints/mediation/decide_confirm.html",
                {
                    "mediation": mediation,
                    "complaint": mediation.complaint,
                    "form": form,
                    "decision_label": dict(form.fields["decision"].choices)[data["decision"]],
                    "text": data["text"],
                    "nav": NAV,
                },
            )
    mark_invalid(form)
    context = _detail_context(request, mediation, form)
    if "modifier" in request.POST:
        context["error_list"] = []
    return render(
        request,
        "complaints/mediation/detail.html",
        context,
        status=200 if "modifier" in request.POST else 400,
    )


urls = [
    path("mediation/", mediation_index, name="mediation_index"),
    path("mediation/<int:pk>/", mediation_detail, name="mediation_detail"),
    path("mediation/<int:pk>/prendre/", mediation_take, name="mediation_take"),
    path("mediation/<int:pk>/decision/", mediation_decide, name="mediation_decide"),
]
