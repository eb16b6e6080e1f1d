"""Publication of results: the quality lead's publication desk, the public results pages,
the A4 poster and the open-data files."""

import csv
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from voix.core.forms import DsfrFormMixin
from voix.core.models import Organisation, Role
from voix.core.scoping import organisations_with_role
from voix.core.views import form_errors_to_messages, role_required

from .. import periods, poster
from .. import publication as service
from ..models import Publication

PUBLISHERS = (Role.QUALITE, Role.ADMIN)


# ----- staff: the publication desk ----------------------------------------------------------


class PrepareForm(DsfrFormMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label="Organisme", queryset=Organisation.objects.none(), empty_label=None
    )
    period = forms.CharField(
        label="Période à publier",
        help_text="Un mois (2026-03), un trimestre (2026-T1) ou une année (2026).",
        max_length=20,
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean_period(self):
        try:
            kind, start = periods.parse(self.cleaned_data["period"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        if kind not in service.PUBLISHABLE_KINDS:
            raise forms.ValidationError(
                "On publie un mois, un trimestre ou une année, pas un jour (ex. 2026-T1)."
            )
        return kind, start


def _publishable(user):
    return organisations_with_role(user, *PUBLISHERS)


def _publication_or_404(user, pk):
    return get_object_or_404(
        Publication.objects.select_related("organisation", "published_by"),
        pk=pk,
        organisation__in=_publishable(user),
    )


@role_required(*PUBLISHERS)
def publications(request):
    organisations = _publishable(request.user).filter(kind="organisme")
    form = PrepareForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        kind, start = form.cleaned_data["period"]
        try:
            draft = service.prepare_publication(
                request.user, form.cleaned_data["organisation"], kind, start
            )
        except ValidationError as error:
            form_errors_to_messages(request, error, form)
        else:
            messages.success(request, "Brouillon préparé : relisez-le avant de le publier.")
            return redirect("commitments:publication_detail", pk=draft.pk)
    rows = Publication.objects.filter(organisation__in=organisations).select_related(
        "organisation", "published_by"
    )
    items = [
        {"publication": p, "label": periods.label(p.period_kind, p.period_start)} for p in rows
    ]
    return render(
        request,
        "commitments/public/publications.html",
        {"form": form, "items": items, "nav": "publications"},
    )


@role_required(*PUBLISHERS)
def publication_detail(request, pk):
    publication = _publication_or_404(request.user, pk)
    return render(
        request,
        "commitments/public/publication_detail.html",
        _publication_context(publication),
    )


def _publication_context(publication):
    rows = service.display_rows(publication)
    return {
        "publication": publication,
        "label": periods.label(publication.period_kind, publication.period_start),
        "organisation_rows": [r for r in rows if r["site"] is None],
        "site_groups": _group_by_site([r for r in rows if r["site"] is not None]),
        "nav": "publications",
    }


def _group_by_site(rows):
    groups = {}
    for row in rows:
        groups.setdefault(row["site"], []).append(row)
    return list(groups.items())


def _confirm(request, publication, *, action, done, title, question, button):
    if request.method == "POST":
        try:
            action(request.user, publication)
        except ValidationError as error:
            form_errors_to_messages(request, error)
        else:
            messages.success(request, done)
        return redirect("commitments:publication_detail", pk=publication.pk)
    context = _publication_context(publication)
    context.update({"title": title, "question": question, "button": button})
    return render(request, "commitments/public/publication_confirm.html", context)


@role_required(*PUBLISHERS)
def publication_publish(request, pk):
    publication = _publication_or_404(request.user, pk)
    if publication.status != Publication.Status.DRAFT:
        raise Http404("Seul un brouillon peut être publié.")
    return _confirm(
        request,
        publication,
        action=service.publish,
        done="Résultats publiés : ils sont en ligne sur la page publique.",
        title="Publier ces résultats",
        question=(
            "Ces résultats seront visibles de tous, sur la page publique, l'affiche et les "
            "données ouvertes. Une publication antérieure de la même période sera retirée."
        ),
        button="Publier",
    )


@role_required(*PUBLISHERS)
def publication_withdraw(request, pk):
    publication = _publication_or_404(request.user, pk)
    if publication.status != Publication.Status.PUBLISHED:
        raise Http404("Seule une publication en ligne peut être retirée.")
    return _confirm(
        request,
        publication,
        action=service.withdraw,
        done="Publication retirée : elle n'apparaît plus sur la page publique.",
        title="Retirer cette publication",
        question=(
            "Ces résultats ne seront plus visibles du public ni dans les données ouvertes. "
            "La publication reste dans l'historique."
        ),
        button="Retirer",
    )


# ----- public pages --------------------------------------------------------------------------


def _public_organisation(slug):
    return get_object_or_404(Organisation, slug=slug, is_public=True)


def _public_site(organisation, site_slug):
    return get_object_or_404(organisation.sites, slug=site_slug, is_active=True)


def _chosen(request, candidates):
    """The publication asked for (?publication=ID among *candidates*) or the latest one."""
    wanted = request.GET.get("publication")
    if wanted:
        if not wanted.isdigit():
            raise Http404("Publication introuvable.")
        return get_object_or_404(candidates, pk=int(wanted))
    return candidates.first()


def _history(candidates, current):
    return [
        {"publication": p, "label": periods.label(p.period_kind, p.period_start)}
        for p in candidates
        if current is None or p.pk != current.pk
    ]


def results_organisation(request, slug):
    organisation = _public_organisation(slug)
    candidates = service.published(organisation)
    current = _chosen(request, candidates)
    context = {
        "organisation": organisation,
        "publication": current,
        "history": _history(candidates, current),
        "nav": "public",
    }
    if current is not None:
        context.update(_publication_context(current))
        context["nav"] = "public"
    return render(request, "commitments/public/results_organisation.html", context)


def results_site(request, slug, site_slug):
    organisation = _public_organisation(slug)
    site = _public_site(organisation, site_slug)
    candidates = service.published_with_site(organisation, site)
    current = _chosen(request, candidates)
    context = {
        "organisation": organisation,
        "site": site,
        "publication": current,
        "history": _history(candidates, current),
        "nav": "public",
    }
    if current is not None:
        context["rows"] = service.display_rows(current, site=site)
        context["label"] = periods.label(current.period_kind, current.period_start)
    return render(request, "commitments/public/results_site.html", context)


def results_poster(request, slug, site_slug):
    organisation = _public_organisation(slug)
    site = _public_site(organisation, site_slug)
    candidates = service.published_with_site(organisation, site)
    publication = _chosen(request, candidates)
    if publication is None:
        raise Http404("Aucun résultat publié pour ce lieu.")
    pdf = poster.render_poster(request, publication, site)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"resultats-{organisation.slug}-{site.slug}-{publication.period_start:%Y-%m}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(service.round_half_up(value), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def results_csv(request, slug):
    organisation = _public_organisation(slug)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="resultats-{organisation.slug}.csv"'
    writer = csv.writer(response, lineterminator="\r\n")
    writer.writerow(service.OPEN_DATA_COLUMNS)
    for row in service.open_data_rows(organisation):
        writer.writerow([_csv_cell(row[column]) for column in service.OPEN_DATA_COLUMNS])
    return response


def _json_value(value):
    if isinstance(value, Decimal):
        return float(service.round_half_up(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def results_json(request, slug):
    organisation = _public_organisation(slug)
    rows = [
        {key: _json_value(value) for key, value in row.items()}
        for row in service.open_data_rows(organisation)
    ]
    payload = {
        "organisme": organisation.name,
        "resultats": rows,
    }
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Content-Disposition"] = f'inline; filename="resultats-{organisation.slug}.json"'
    return response


urlpatterns = [
    path("resultats/publications/", publications, name="publications"),
    path("resultats/publications/<int:pk>/", publication_detail, name="publication_detail"),
    path(
        "resultats/publications/<int:pk>/publier/",
        publication_publish,
        name="publication_publish",
    ),
    path(
        "resultats/publications/<int:pk>/retirer/",
        publication_withdraw,
        name="publication_withdraw",
    ),
    path("organismes/<slug:slug>/resultats/", results_organisation, name="results_organisation"),
    path("organismes/<slug:slug>/resultats/donnees.csv", results_csv, name="results_csv"),
    path("organismes/<slug:slug>/resultats/donnees.json", results_json, name="results_json"),
    path(
        "organismes/<slug:slug>/lieux/<slug:site_slug>/resultats/",
        results_site,
        name="results_site",
    ),
    path(
        "organismes/<slug:slug>/lieux/<slug:site_slug>/resultats/affiche.pdf",
        results_poster,
        name="results_poster",
    ),
]
