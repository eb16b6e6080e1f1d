"""The quality team's pages: the reports to triage, the decision, the summary and its CSV.

Quality staff, managers and administrators of an organisation (or of a network above it)
triage its reports: accept (they will become improvement actions), merge a duplicate into
another report, or decline with a reason. Each decision is confirmed on a second page.
"""

import csv
from datetime import datetime, time, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from voix.core.models import RELAY_KINDS
from voix.core.views import form_errors_to_messages, role_required

from .. import services
from ..forms import DecisionForm, PeriodForm, TriageFilterForm
from ..models import FieldReport, Status, Urgency
from .reports import PER_PAGE, back_to, detail_context, nav_context

ALL = "toutes"


def _period(queryset, start, end):
    """Reports filed between the two local dates (both included)."""
    if start:
        queryset = queryset.filter(
            created_at__gte=timezone.make_aware(datetime.combine(start, time.min))
        )
    if end:
        queryset = queryset.filter(
            created_at__lt=timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min))
        )
    return queryset


def _triaged_reports(user):
    return FieldReport.objects.filter(
        organisation__in=services.triage_organisations(user)
    ).select_related("organisation", "site", "theme", "reporter")


@role_required(*services.TRIAGE_ROLES)
def triage(request):
    """The reports to triage (new ones first by default), with filters."""
    organisations = services.triage_organisations(request.user)
    params = request.GET.copy()
    if "etat" not in params:
        params["etat"] = Status.NEW
    form = TriageFilterForm(params, organisations=organisations)
    reports = _triaged_reports(request.user)
    if form.is_valid():
        data = form.cleaned_data
        reports = _period(reports, data.get("du"), data.get("au"))
        if data.get("etat") in Status.values:
            reports = reports.filter(status=data["etat"])
        if data.get("urgence"):
            reports = reports.filter(urgency=data["urgence"])
        if data.get("theme"):
            reports = reports.filter(theme=data["theme"])
    else:
        reports = reports.none()
    reports = reports.order_by("-created_at", "-pk")
    page = Paginator(reports, PER_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in params.items() if k != "page" and v})
    return render(
        request,
        "field_reports/triage.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "new_count": _triaged_reports(request.user).filter(status=Status.NEW).count(),
            **nav_context(request.user, "triage"),
        },
    )


def _decision_page(request, report, form, status=400):
    return render(
        request,
        "field_reports/detail.html",
        detail_context(request, report, decision_form=form),
        status=status,
    )


@require_POST
@role_required(*services.TRIAGE_ROLES)
def decide(request, pk):
    """Accept, merge or decline: the form is checked, then confirmed on a second page."""
    report = get_object_or_404(_triaged_reports(request.user), pk=pk)
    form = DecisionForm(request.POST, report=report)
    if not form.is_valid():
        return _decision_page(request, report, form)
    data = form.cleaned_data
    action, note, target = data["action"], (data.get("note") or "").strip(), data.get("into")
    if request.POST.get("confirme") != "oui":
        questions = {
            "accepter": f"Accepter la remontée {report.number} ? Elle sera transformée en "
            "action d'amélioration ; son auteur en est informé.",
            "fusionner": f"Fusionner la remontée {report.number} avec la remontée "
            f"{target.number if target else ''} ? Son auteur verra la remontée qui la reprend.",
            "decliner": f"Décliner la remontée {report.number} ? Son auteur lira le motif.",
        }
        labels = {
            "accepter": "Accepter",
            "fusionner": "Fusionner",
            "decliner": "Décliner",
        }
        return render(
            request,
            "field_reports/confirm.html",
            {
                "title": f"{labels[action]} la remontée {report.number}",
                "question": questions[action],
                "confirm_label": f"Oui, {labels[action].lower()}",
                "back": f"{back_to(report)}#tri",
                "report": report,
                "action": action,
                "note": note,
                "target": target,
                **nav_context(request.user, "triage"),
            },
        )
    try:
        if action == "accepter":
            services.accept_report(request.user, report, note=note)
            done = f"Remontée {report.number} acceptée."
        elif action == "fusionner":
            services.merge_report(request.user, report, into=target, note=note)
            done = f"Remontée {report.number} fusionnée avec la remontée {target.number}."
        else:
            services.decline_report(request.user, report, reason=note)
            done = f"Remontée {report.number} déclinée."
    except ValidationError as error:
        form_errors_to_messages(request, error, form)
        report.refresh_from_db()
        return _decision_page(request, report, form)
    messages.success(request, done)
    return redirect("field_reports:triage")


# ----- summary ---------------------------------------------------------------------------


STATUS_COLUMNS = [
    ("new", Status.NEW),
    ("accepted", Status.ACCEPTED),
    ("merged", Status.MERGED),
    ("declined", Status.DECLINED),
]


def _counts(reports, *group_by):
    return (
        reports.order_by()
        .values(*group_by)
        .annotate(
            total=Count("pk"),
            high=Count("pk", filter=Q(urgency=Urgency.HIGH)),
            **{name: Count("pk", filter=Q(status=value)) for name, value in STATUS_COLUMNS},
        )
    )


def summary_data(user, params) -> dict:
    """Counts by theme and by site or relay, for the period in *params*."""
    form = PeriodForm(params)
    start, end = form.bounds()
    reports = _period(_triaged_reports(user), start, end)
    several = services.triage_organisations(user).count() > 1
    by_theme = sorted(
        _counts(reports, "theme__label", "organisation__name"),
        key=lambda row: (-row["total"], row["theme__label"]),
    )
    by_site = []
    for row in _counts(reports, "site__name", "site__kind", "organisation__name"):
        row["is_relay"] = row["site__kind"] in RELAY_KINDS
        by_site.append(row)
    by_site.sort(key=lambda row: (not row["is_relay"], -row["total"], row["site__name"] or "~"))
    total = reports.count()
    return {
        "form": form,
        "start": start,
        "end": end,
        "several": several,
        "by_theme": by_theme,
        "by_site": by_site,
        "relay_total": sum(row["total"] for row in by_site if row["is_relay"]),
        "total": total,
    }


@role_required(*services.TRIAGE_ROLES)
def summary(request):
    data = summary_data(request.user, request.GET)
    query = urlencode({k: v for k, v in request.GET.items() if k in ("du", "au") and v})
    return render(
        request,
        "field_reports/summary.html",
        {**data, "query": query, **nav_context(request.user, "summary")},
    )


def _csv_text(value) -> str:
    """A cell a spreadsheet will not run as a formula."""
    value = str(value or "")
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@role_required(*services.TRIAGE_ROLES)
def export(request):
    """The summary as CSV (semicolons, UTF-8 with BOM), same period filter."""
    data = summary_data(request.user, request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    suffix = ""
    if data["start"] or data["end"]:
        suffix = f"-{data['start'] or 'debut'}-{data['end'] or 'fin'}"
    response["Content-Disposition"] = f'attachment; filename="remontees-synthese{suffix}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            "regroupement",
            "organisme",
            "libelle",
            "type",
            "total",
            "nouvelles",
            "acceptees",
            "fusionnees",
            "declinees",
            "urgence_forte",
        ]
    )
    counts = ["total", "new", "accepted", "merged", "declined", "high"]
    for row in data["by_theme"]:
        writer.writerow(
            [
                "theme",
                _csv_text(row["organisation__name"]),
                _csv_text(row["theme__label"]),
                "",
                *(row[c] for c in counts),
            ]
        )
    for row in data["by_site"]:
        kind = "relais" if row["is_relay"] else ("site" if row["site__name"] else "")
        writer.writerow(
            [
                "relais_ou_site",
                _csv_text(row["organisation__name"]),
                _csv_text(row["site__name"] or "Sans site précisé"),
                kind,
                *(row[c] for c in counts),
            ]
        )
    return response


urls = [
    path("remontees/tri/", triage, name="triage"),
    path("remontees/<int:pk>/tri/", decide, name="decide"),
    path("remontees/synthese/", summary, name="summary"),
    path("remontees/export.csv", export, name="export"),
]
