"""Filing a field report and following it: the quick form, « mes remontées », the detail.

Agents, managers, quality staff and administrators file for their organisation; a relay
advisor files for their relay and sees the reports of their relay. The detail page also
carries the triage form for the quality team (views/triage.py handles the decision).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from voix.core.views import form_errors_to_messages, role_required

from .. import services
from ..forms import DecisionForm, ReportForm
from ..models import Status

NAV = "remontees"
PER_PAGE = 50


def nav_context(user, section) -> dict:
    """What the tabs of these pages show to *user*."""
    return {
        "nav": NAV,
        "section": section,
        "can_file": services.can_file(user),
        "can_triage_any": services.triage_organisations(user).exists(),
    }


def _filing(user):
    """(organisations the form offers, relay or None) for *user*."""
    organisations = list(services.filing_organisations(user))
    if organisations:
        return organisations, None
    relay = services.relay_of(user)
    if relay is None:
        raise PermissionDenied("Votre rôle de partenaire n'est rattaché à aucun relais.")
    return [relay.organisation], relay


@role_required(*services.FILER_ROLES)
def index(request):
    """The person's reports and what became of them (a relay advisor: their relay's)."""
    user = request.user
    relay = None if services.filing_organisations(user).exists() else services.relay_of(user)
    reports = services.visible_reports(user)
    if relay is not None:
        reports = reports.filter(site=relay) | reports.filter(reporter=user)
    else:
        reports = reports.filter(reporter=user)
    reports = reports.select_related("merged_into").order_by("-created_at", "-pk")
    page = Paginator(reports, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "field_reports/index.html",
        {"page": page, "relay": relay, **nav_context(user, "index")},
    )


@role_required(*services.FILER_ROLES)
def create(request):
    """The one-minute form; works without JavaScript."""
    organisations, relay = _filing(request.user)
    form = ReportForm(request.POST or None, organisations=organisations, relay=relay)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = services.file_report(
                    request.user,
                    data["organisation"],
                    description=data["description"],
                    theme=data["theme"],
                    users_affected=data["users_affected"],
                    users_affected_count=data.get("users_affected_count"),
                    urgency=data["urgency"],
                    suggestion=data.get("suggestion", ""),
                    site=relay or data.get("site"),
                )
            except ValidationError as error:
                form_errors_to_messages(request, error, form)
            else:
                messages.success(
                    request,
                    f"Remontée {report.number} enregistrée, merci. L'équipe qualité la lira ; "
                    "vous verrez ici la suite donnée.",
                )
                return redirect("field_reports:detail", pk=report.pk)
        status = 400
    return render(
        request,
        "field_reports/create.html",
        {"form": form, "relay": relay, **nav_context(request.user, "create")},
        status=status,
    )


def detail_context(request, report, decision_form=None) -> dict:
    user = request.user
    can_triage = services.can_triage(user, report)
    relay = services.relay_of(user)
    show_reporter = (
        can_triage or report.reporter_id == user.pk or (relay and report.site_id == relay.pk)
    )
    merged = []
    if can_triage:
        merged = list(report.merged_reports.select_related("theme").order_by("created_at"))
    if can_triage and report.status in (Status.NEW, Status.ACCEPTED) and decision_form is None:
        decision_form = DecisionForm(report=report)
    return {
        "report": report,
        "can_triage": can_triage,
        "show_reporter": show_reporter,
        "is_mine": report.reporter_id == user.pk,
        "merged_reports": merged,
        "merged_count": report.merged_reports.count(),
        "decision_form": decision_form,
        **nav_context(user, "detail"),
    }


@login_required
def detail(request, pk):
    report = get_object_or_404(
        services.visible_reports(request.user).select_related("merged_into__theme", "triaged_by"),
        pk=pk,
    )
    return render(request, "field_reports/detail.html", detail_context(request, report))


def back_to(report) -> str:
    return reverse("field_reports:detail", kwargs={"pk": report.pk})


urls = [
    path("remontees/", index, name="index"),
    path("remontees/nouvelle/", create, name="create"),
    path("remontees/<int:pk>/", detail, name="detail"),
]
