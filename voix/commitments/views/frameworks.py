"""Référentiels pages: list, detail, YAML import and export, adoption of a national
référentiel, local commitments and wordings. For the quality lead and the administrator of
the organisation; other staff get 403, another organisation's référentiels answer 404."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from voix.core.forms import DsfrFormMixin
from voix.core.models import OrganisationKind, Role
from voix.core.scoping import organisations_with_role, scoped
from voix.core.views import form_errors_to_messages

from .. import frameworks as services
from ..models import Commitment, Framework, Indicator

QUALITY_ROLES = (Role.QUALITE, Role.ADMIN)


def quality_required(view):
    """Logged in and quality lead or administrator somewhere; otherwise the 403 page."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not organisations_with_role(request.user, *QUALITY_ROLES).exists():
            raise PermissionDenied(
                "Les référentiels sont réservés aux responsables qualité et aux administrateurs."
            )
        return view(request, *args, **kwargs)

    return wrapped


def _organisations(user):
    return organisations_with_role(user, *QUALITY_ROLES).order_by("name")


def _current_organisation(request):
    """The organisation the page works for: ?organisme=<slug>, else the first body."""
    organisations = _organisations(request.user)
    slug = request.GET.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    return organisations.filter(kind=OrganisationKind.BODY).first() or organisations.first()


def _owned_frameworks(user):
    """Référentiels of the organisations where *user* is quality lead or administrator."""
    return scoped(Framework.objects.all(), user, site=None).filter(
        organisation__in=_organisations(user)
    )


def _visible_frameworks(user):
    return Framework.objects.filter(
        Q(organisation=None) | Q(pk__in=_owned_frameworks(user).values("pk"))
    )


def _indicators_for(organisation):
    return Indicator.objects.filter(Q(organisation=None) | Q(organisation=organisation))


def _with_organisation(url, organisation):
    return f"{url}?organisme={organisation.slug}" if organisation else url


# ----- forms ----------------------------------------------------------------------------


class ImportForm(DsfrFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier du référentiel (YAML)",
        help_text=(
            "Format décrit dans la documentation (docs/frameworks.md). Un référentiel de même "
            "code déjà présent dans votre organisme est remplacé. Taille maximale : 1 Mo."
        ),
    )


class CommitmentForm(DsfrFormMixin, forms.Form):
    wording = forms.CharField(
        label="Formulation publique",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Telle qu'elle sera affichée au public, par exemple « Nous répondons à vos "
        "courriels en 5 jours ouvrés ».",
    )
    to_confirm = forms.BooleanField(
        label="Formulation à confirmer",
        required=False,
        help_text="Cochez tant que la formulation n'est pas validée : elle sera signalée.",
    )

    criteria = forms.CharField(
        label="Critères",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Un critère par ligne.",
    )
    indicators = forms.ModelMultipleChoiceField(
        label="Indicateurs qui mesurent cet engagement",
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicators"].queryset = _indicators_for(organisation)

    def criteria_lines(self):
        return [line for line in self.cleaned_data["criteria"].splitlines() if line.strip()]


# ----- pages ----------------------------------------------------------------------------


@quality_required
def framework_list(request):
    organisation = _current_organisation(request)
    frameworks = _visible_frameworks(request.user).filter(
        Q(organisation=None) | Q(organisation=organisation)
    )
    national = [f for f in frameworks if f.organisation_id is None]
    own = [f for f in frameworks if f.organisation_id is not None]
    adopted = {f.code: f for f in own}
    indicators = Indicator.objects.filter(
        Q(organisation=None)
        | Q(pk__in=scoped(_indicators_for(organisation), request.user, site=None).values("pk"))
    )
    return render(
        request,
        "commitments/frameworks/list.html",
        {
            "organisation": organisation,
            "organisations": _organisations(request.user),
            "national": [(f, adopted.get(f.code)) for f in national],
            "own": own,
            "indicators": indicators.prefetch_related("commitments__framework"),
            "suffix": f"?organisme={organisation.slug}" if organisation else "",
            "nav": "frameworks",
        },
    )


@quality_required
def framework_detail(request, pk):
    framework = get_object_or_404(_visible_frameworks(request.user), pk=pk)
    organisation = framework.organisation or _current_organisation(request)
    commitments = Commitment.objects.prefetch_related("criteria", "indicators")
    groups = framework.groups.prefetch_related(Prefetch("commitments", queryset=commitments))
    copy = None
    if framework.organisation_id is None and organisation is not None:
        copy = Framework.objects.filter(organisation=organisation, code=framework.code).first()
    return render(
        request,
        "commitments/frameworks/detail.html",
        {
            "framework": framework,
            "organisation": organisation,
            "groups": groups,
            "ungrouped": commitments.filter(framework=framework, group=None),
            "editable": framework.organisation_id is not None,
            "copy": copy,
            "to_confirm": framework.commitments.filter(to_confirm=True).count(),
            "suffix": f"?organisme={organisation.slug}" if organisation else "",
            "nav": "frameworks",
        },
    )


@quality_required
def framework_export(request, pk):
    framework = get_object_or_404(_visible_frameworks(request.user), pk=pk)
    response = HttpResponse(
        services.export_framework(framework), content_type="application/yaml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{framework.code}.yaml"'
    return response


@quality_required
def framework_import(request):
    organisation = _current_organisation(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    problems, filename = [], ""
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        filename = upload.name
        try:
            framework = services.import_framework(request.user, upload.read(), organisation)
        except ValidationError as error:
            problems = error.messages
        else:
            messages.success(
                request,
                f"Référentiel « {framework.name} » importé : "
                f"{framework.commitments.count()} engagements.",
            )
            return redirect("commitments:framework_detail", framework.pk)
    return render(
        request,
        "commitments/frameworks/import.html",
        {
            "form": form,
            "organisation": organisation,
            "problems": problems,
            "filename": filename,
            "back": _with_organisation(reverse("commitments:frameworks"), organisation),
            "nav": "frameworks",
        },
    )


@quality_required
def framework_adopt(request, pk):
    framework = get_object_or_404(Framework.objects.filter(organisation=None), pk=pk)
    organisation = _current_organisation(request)
    back = _with_organisation(
        reverse("commitments:framework_detail", args=[framework.pk]), organisation
    )
    if request.method == "POST":
        try:
            copy = services.adopt_framework(request.user, framework, organisation)
        except ValidationError as error:
            form_errors_to_messages(request, error)
            return redirect(back)
        messages.success(
            request,
            f"{organisation.name} a adopté « {framework.name} » : vous pouvez maintenant "
            "saisir ou confirmer les formulations.",
        )
        return redirect("commitments:framework_detail", copy.pk)
    return render(
        request,
        "commitments/frameworks/adopt.html",
        {"framework": framework, "organisation": organisation, "back": back, "nav": "frameworks"},
    )


@quality_required
def local_commitment_add(request):
    organisation = _current_organisation(request)
    form = CommitmentForm(request.POST or None, organisation=organisation)
    back = _with_organisation(reverse("commitments:frameworks"), organisation)
    if request.method == "POST" and form.is_valid():
        try:
            commitment = services.add_local_commitment(
                request.user,
                organisation,
                wording=form.cleaned_data["wording"],
                to_confirm=form.cleaned_data["to_confirm"],
                criteria=form.criteria_lines(),
                indicators=form.cleaned_data["indicators"],
            )
        except ValidationError as error:
            form_errors_to_messages(request, error, form)
        else:
            messages.success(request, f"Engagement local {commitment.number} ajouté.")
            return redirect("commitments:framework_detail", commitment.framework_id)
    return render(
        request,
        "commitments/frameworks/commitment_form.html",
        {
            "form": form,
            "title": f"Ajouter un engagement local — {organisation.name}",
            "organisation": organisation,
            "back": back,
            "nav": "frameworks",
        },
    )


@quality_required
def commitment_edit(request, pk):
    commitment = get_object_or_404(
        Commitment.objects.filter(framework__in=_owned_frameworks(request.user)).select_related(
            "framework__organisation"
        ),
        pk=pk,
    )
    organisation = commitment.framework.organisation
    initial = {
        "wording": commitment.wording,
        "to_confirm": commitment.to_confirm,
        "criteria": "\n".join(c.text for c in commitment.criteria.all()),
        "indicators": list(commitment.indicators.all()),
    }
    form = CommitmentForm(request.POST or None, initial=initial, organisation=organisation)
    back = reverse("commitments:framework_detail", args=[commitment.framework_id])
    if request.method == "POST" and form.is_valid():
        try:
            services.update_commitment(
                request.user,
                commitment,
                wording=form.cleaned_data["wording"],
                to_confirm=form.cleaned_data["to_confirm"],
                criteria=form.criteria_lines(),
                indicators=form.cleaned_data["indicators"],
            )
        except ValidationError as error:
            form_errors_to_messages(request, error, form)
        else:
            messages.success(request, f"Engagement {commitment.number} enregistré.")
            return redirect(back)
    return render(
        request,
        "commitments/frameworks/commitment_form.html",
        {
            "form": form,
            "title": f"Engagement {commitment.number} — {commitment.framework.name}",
            "commitment": commitment,
            "organisation": organisation,
            "back": back,
            "nav": "frameworks",
        },
    )


urlpatterns = [
    path("referentiels/", framework_list, name="frameworks"),
    path("referentiels/importer/", framework_import, name="framework_import"),
    path(
        "referentiels/engagements-locaux/ajouter/",
        local_commitment_add,
        name="local_commitment_add",
    ),
    path("referentiels/engagements/<int:pk>/modifier/", commitment_edit, name="commitment_edit"),
    path("referentiels/<int:pk>/", framework_detail, name="framework_detail"),
    path("referentiels/<int:pk>/export.yaml", framework_export, name="framework_export"),
    path("referentiels/<int:pk>/adopter/", framework_adopt, name="framework_adopt"),
]
