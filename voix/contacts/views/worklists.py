"""Worklists: « Mes contacts à traiter » and the team view with bulk assignment."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_POST

from voix.core.models import Role
from voix.core.scoping import organisations_with_role
from voix.core.views import role_required

from .. import services
from ..forms import AssignForm
from ..models import OPEN_STATUSES, ClockNotice, Team
from .log import annotate, contacts_for, log_required, nav_flags, organisation_for

SUPERVISORS = (Role.MANAGER, Role.ADMIN)
supervisor_required = role_required(*SUPERVISORS)


def _by_deadline(qs):
    return qs.order_by(F("due_at").asc(nulls_last=True), "received_at", "pk")


@log_required
def my_worklist(request):
    """The agent's open contacts, the nearest deadline first, and their latest alerts."""
    now = timezone.now()
    mine = _by_deadline(
        contacts_for(request.user).filter(assignee=request.user, status__in=OPEN_STATUSES)
    )
    page = Paginator(mine, 50).get_page(request.GET.get("page"))
    counts = mine.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, warn_at__lte=now)),
    )
    alerts = (
        ClockNotice.objects.filter(recipient=request.user, contact__status__in=OPEN_STATUSES)
        .select_related("contact")
        .order_by("-created_at")[:10]
    )
    return render(
        request,
        "contacts/worklists/mine.html",
        {
            "page": page,
            "rows": annotate(page.object_list, now),
            "counts": counts,
            "alerts": alerts,
            "nav": "contacts",
            **nav_flags(request.user),
        },
    )


def _team_scope(request, organisation):
    qs = contacts_for(request.user).filter(organisation=organisation, status__in=OPEN_STATUSES)
    team_id = request.GET.get("equipe") or ""
    if team_id.isdigit():
        qs = qs.filter(team_id=int(team_id))
    if request.GET.get("charge") == "personne":
        qs = qs.filter(assignee__isnull=True)
    return qs, team_id


@supervisor_required
def team_worklist(request):
    """Managers: what is overdue and due soon, per agent, and bulk assignment."""
    organisation = organisation_for(request, SUPERVISORS)
    now = timezone.now()
    qs, team_id = _team_scope(request, organisation)
    counts = qs.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due_at__lt=now)),
        soon=Count("pk", filter=Q(due_at__gte=now, warn_at__lte=now)),
        unassigned=Count("pk", filter=Q(assignee__isnull=True)),
    )
    per_agent = (
        qs.values("assignee__full_name", "assignee__email")
        .annotate(
            total=Count("pk"),
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            soon=Count("pk", filter=Q(due_at__gte=now, warn_at__lte=now)),
        )
        .order_by("-overdue", "assignee__full_name")
    )
    overdue = _by_deadline(qs.filter(due_at__lt=now))[:20]
    soon = _by_deadline(qs.filter(due_at__gte=now, warn_at__lte=now))[:20]
    page = Paginator(_by_deadline(qs), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "contacts/worklists/team.html",
        {
            "organisation": organisation,
            "organisations": organisations_with_role(request.user, *SUPERVISORS).order_by("name"),
            "teams": Team.objects.filter(organisation=organisation),
            "team_id": team_id,
            "unassigned_only": request.GET.get("charge") == "personne",
            "counts": counts,
            "per_agent": per_agent,
            "overdue": annotate(overdue, now),
            "soon": annotate(soon, now),
            "page": page,
            "rows": annotate(page.object_list, now),
            "assign_form": AssignForm(organisation=organisation),
            "query": query.urlencode(),
            "nav": "contacts",
            **nav_flags(request.user),
        },
    )


@require_POST
@supervisor_required
def bulk_assign(request):
    """Checked contacts → an agent: a confirmation page first, then the assignment."""
    organisation = organisation_for(request, SUPERVISORS)
    ids = [int(v) for v in request.POST.getlist("contacts") if v.isdigit()]
    contacts = list(
        contacts_for(request.user).filter(organisation=organisation, pk__in=ids).order_by("pk")
    )
    form = AssignForm(request.POST, organisation=organisation)
    back = "contacts:team_worklist"
    if not contacts:
        messages.error(request, "Cochez au moins un contact à attribuer.")
        return redirect(back)
    if not form.is_valid():
        messages.error(request, "Choisissez la personne à qui attribuer les contacts.")
        return redirect(back)
    assignee = form.cleaned_data["assignee"]
    if request.POST.get("confirmer") != "oui":
        return render(
            request,
            "contacts/worklists/confirm_assign.html",
            {
                "organisation": organisation,
                "contacts": contacts,
                "assignee": assignee,
                "nav": "contacts",
                **nav_flags(request.user),
            },
        )
    try:
        changed = services.assign_contacts(request.user, contacts, assignee)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"{changed} contact(s) attribué(s) à {assignee}.")
    return redirect(back)


urlpatterns = [
    path("contacts/a-traiter/", my_worklist, name="my_worklist"),
    path("contacts/equipe/", team_worklist, name="team_worklist"),
    path("contacts/equipe/attribuer/", bulk_assign, name="bulk_assign"),
]
