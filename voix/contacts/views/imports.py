"""Import pages: profiles (column mapping, value maps), upload, progress, report, history.

Who: managers, quality leads and administrators of the organisation (IMPORTERS). Profiles
and runs of another organisation answer 404.
"""

import os
import tempfile
import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from voix.core.forms import DsfrFormMixin
from voix.core.models import Role
from voix.core.scoping import organisations_with_role
from voix.core.views import form_errors_to_messages, role_required, submitted

from .. import imports
from ..models import (
    CallOutcome,
    Channel,
    ImportKind,
    ImportProfile,
    ImportRun,
    Outcome,
    Reason,
)

IMPORTERS = (Role.MANAGER, Role.QUALITE, Role.ADMIN)
importer_required = role_required(*IMPORTERS)
KIND_SLUGS = {"contacts": ImportKind.CONTACTS, "appels": ImportKind.CALLS}
# Rejected lines shown in the page (the report has them all).
SHOWN_ERRORS = 200


def upload_dir() -> str:
    """Where uploaded files wait for their task (deleted once imported)."""
    directory = settings.IMPORT_UPLOAD_DIR or os.path.join(
        settings.MEDIA_ROOT or tempfile.gettempdir(), "voix-imports"
    )
    os.makedirs(directory, exist_ok=True)
    return directory


def _organisations(user):
    return organisations_with_role(user, *IMPORTERS).order_by("name")


def _organisation(request):
    organisations = _organisations(request.user)
    slug = request.GET.get("organisme") or request.POST.get("organisme")
    if slug:
        return get_object_or_404(organisations, slug=slug)
    return organisations.first()


def _profiles(user):
    return ImportProfile.objects.filter(organisation__in=_organisations(user))


def _runs(user):
    return ImportRun.objects.filter(organisation__in=_organisations(user))


# ----- profiles -------------------------------------------------------------------------


def _parse_value_map(text: str, label: str) -> dict:
    mapping = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        for separator in ("=>", "→", "="):
            if separator in line:
                raw, target = line.split(separator, 1)
                break
        else:
            raise ValidationError(
                f"{label}, ligne {number} : écrivez « valeur du fichier = code Voix »."
            )
        if not raw.strip() or not target.strip():
            raise ValidationError(f"{label}, ligne {number} : valeur ou code manquant.")
        mapping[raw.strip()] = target.strip()
    return mapping


def _codes_help(name: str, organisation) -> str:
    if name == "channel":
        return ", ".join(c.value for c in Channel)
    if name == "outcome":
        return ""
    if name == "reason":
        codes = list(
            Reason.objects.filter(organisation=organisation).values_list("code", flat=True)[:30]
        )
        return ", ".join(codes) or "aucun motif défini"
    if name == "site":
        return ", ".join(organisation.sites.values_list("slug", flat=True)[:30])
    if name == "needs_agent":
        return "oui, non"
    return ""


class ProfileForm(DsfrFormMixin, forms.Form):
    name = forms.SlugField(
        label="Nom du profil",
        max_length=60,
        help_text="Court, sans espace ni accent (par ex. crm-caf) : c'est le nom à donner à "
        "la commande import_contacts.",
    )
    label = forms.CharField(label="Libellé", max_length=200, required=False)
    source = forms.CharField(
        label="Système d'origine",
        max_length=60,
        help_text="Les identifiants externes sont uniques pour un même système d'origine.",
    )
    date_format = forms.CharField(
        label="Format des dates",
        max_length=40,
        initial="%d/%m/%Y %H:%M",
        help_text="Les dates jj/mm/aaaa (avec ou sans heure) et aaaa-mm-jj sont toujours "
        "reconnues ; indiquez ici un autre format au besoin (codes Python, par ex. "
        "%d/%m/%Y %H:%M).",
    )

    def __init__(self, *args, kind, organisation, profile=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind, self.organisation, self.profile = kind, organisation, profile
        self.column_fields, self.map_fields = [], []
        for spec in imports.FIELDS[kind]:
            name = f"col_{spec.name}"
            self.fields[name] = forms.CharField(
                label=f"{spec.label[0].upper()}{spec.label[1:]}"
                + (" (obligatoire)" if spec.required else ""),
                required=spec.required,
                max_length=200,
                help_text="En-tête de la colonne dans le fichier (majuscules et accents "
                "ignorés)" + ("." if spec.required else " ; laissez vide si absente."),
            )
            self.column_fields.append(name)
        for field_name in imports.VALUE_MAP_FIELDS[kind]:
            spec = next(s for s in imports.FIELDS[kind] if s.name == field_name)
            codes = _codes_help(field_name, organisation)
            if field_name == "outcome":
                codes = ", ".join(
                    c.value
                    for c in (CallOutcome if kind == ImportKind.CALLS else Outcome)
                    if c.value
                )
            name = f"map_{field_name}"
            self.fields[name] = forms.CharField(
                label=f"Valeurs de « {spec.label} »",
                required=False,
                widget=forms.Textarea(attrs={"rows": 4}),
                help_text="Une ligne par valeur : « valeur du fichier = code Voix ». "
                f"Codes Voix : {codes}. Les codes et libellés Voix sont reconnus sans "
                "correspondance.",
            )
            self.map_fields.append(name)
        if profile is not None:
            self.initial.update(
                name=profile.name,
                label=profile.label,
                source=profile.source,
                date_format=profile.date_format,
            )
            for spec in imports.FIELDS[kind]:
                self.initial[f"col_{spec.name}"] = profile.mapping.get(spec.name, "")
            for field_name in imports.VALUE_MAP_FIELDS[kind]:
                values = (profile.value_maps or {}).get(field_name) or {}
                self.initial[f"map_{field_name}"] = "\n".join(
                    f"{raw} = {code}" for raw, code in values.items()
                )
        elif not self.is_bound:
            for spec in imports.FIELDS[kind]:
                self.initial[f"col_{spec.name}"] = spec.header

    def clean_name(self):
        name = self.cleaned_data["name"]
        others = ImportProfile.objects.filter(organisation=self.organisation, name=name)
        if self.profile is not None:
            others = others.exclude(pk=self.profile.pk)
        if others.exists():
            raise ValidationError("Un autre profil de l'organisme porte déjà ce nom.")
        return name

    def clean(self):
        data = super().clean()
        value_maps = {}
        for name in self.map_fields:
            try:
                parsed = _parse_value_map(data.get(name) or "", self.fields[name].label)
            except ValidationError as error:
                self.add_error(name, error)
                continue
            if parsed:
                value_maps[name[4:]] = parsed
        data["value_maps"] = value_maps
        data["mapping"] = {
            name[4:]: (data.get(name) or "").strip()
            for name in self.column_fields
            if (data.get(name) or "").strip()
        }
        return data


def _save(request, form, organisation, profile):
    data = form.cleaned_data
    return imports.save_profile(
        request.user,
        organisation,
        profile=profile,
        name=data["name"],
        label=data["label"],
        kind=form.kind,
        source=data["source"],
        mapping=data["mapping"],
        value_maps=data["value_maps"],
        date_format=data["date_format"],
    )


@importer_required
def profile_list(request):
    profiles = _profiles(request.user).select_related("organisation")
    return render(
        request,
        "contacts/imports/profiles.html",
        {"profiles": profiles, "organisations": _organisations(request.user)},
    )


@importer_required
def profile_create(request):
    organisation = _organisation(request)
    kind = KIND_SLUGS.get(request.GET.get("type") or request.POST.get("type"))
    if kind is None:
        return render(
            request,
            "contacts/imports/profile_kind.html",
            {"organisation": organisation, "organisations": _organisations(request.user)},
        )
    form = ProfileForm(request.POST or None, kind=kind, organisation=organisation)
    done = submitted(
        request,
        form,
        lambda data: _save(request, form, organisation, None),
        lambda p: f"Le profil « {p.name} » est enregistré.",
        reverse("contacts:import_profiles"),
    )
    return done or render(
        request,
        "contacts/imports/profile_form.html",
        {
            "form": form,
            "organisation": organisation,
            "kind": kind,
            "kind_slug": request.GET.get("type") or request.POST.get("type"),
            "title": f"Nouveau profil d'import — {ImportKind(kind).label.lower()}",
        },
    )


@importer_required
def profile_edit(request, pk):
    profile = get_object_or_404(_profiles(request.user).select_related("organisation"), pk=pk)
    form = ProfileForm(
        request.POST or None,
        kind=profile.kind,
        organisation=profile.organisation,
        profile=profile,
    )
    done = submitted(
        request,
        form,
        lambda data: _save(request, form, profile.organisation, profile),
        lambda p: f"Le profil « {p.name} » est modifié.",
        reverse("contacts:import_profiles"),
    )
    return done or render(
        request,
        "contacts/imports/profile_form.html",
        {
            "form": form,
            "organisation": profile.organisation,
            "profile": profile,
            "kind": profile.kind,
            "title": f"Profil d'import « {profile.name} »",
        },
    )


# ----- upload, progress, result ---------------------------------------------------------


class UploadForm(DsfrFormMixin, forms.Form):
    profile = forms.ModelChoiceField(
        label="Profil d'import", queryset=ImportProfile.objects.none(), empty_label=None
    )
    file = forms.FileField(
        label="Fichier",
        help_text="Fichier CSV (séparateur « ; » ou « , », encodage UTF-8 ou Windows-1252) ou "
        "classeur XLSX. La première ligne porte les en-têtes de colonnes.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["profile"].queryset = _profiles(user).select_related("organisation")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
            raise ValidationError(
                "Format non pris en charge : choisissez un fichier .csv ou .xlsx."
            )
        if upload.size == 0:
            raise ValidationError("Le fichier est vide.")
        return upload


def _store(upload) -> str:
    extension = os.path.splitext(upload.name)[1].lower() or ".csv"
    target = os.path.join(upload_dir(), f"{uuid.uuid4().hex}{extension}")
    with open(target, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return target


@importer_required
def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        from ..tasks import run_import

        profile = form.cleaned_data["profile"]
        stored = _store(form.cleaned_data["file"])
        try:
            run = imports.start_run(request.user, profile, stored, form.cleaned_data["file"].name)
        except ValidationError as error:
            os.remove(stored)
            form_errors_to_messages(request, error, form)
        else:
            transaction.on_commit(lambda: run_import.enqueue(run.pk))
            return redirect("contacts:import_run", pk=run.pk)
    profiles_exist = form.fields["profile"].queryset.exists()
    return render(
        request,
        "contacts/imports/upload.html",
        {"form": form, "profiles_exist": profiles_exist},
    )


def _figures(run) -> dict:
    """The run's counts as French numbers (1 000 000)."""
    return {
        name: f"{getattr(run, field):,}".replace(",", "\u202f")
        for name, field in (
            ("done", "rows_done"),
            ("total", "rows_total"),
            ("created", "created"),
            ("updated", "updated"),
            ("rejected", "rejected"),
        )
    }


def _run_context(run):
    percent = 0
    if run.rows_total:
        percent = min(100, run.rows_done * 100 // run.rows_total)
    return {
        "run": run,
        "n": _figures(run),
        "percent": percent,
        "waiting": run.state in (ImportRun.State.PENDING, ImportRun.State.RUNNING),
        "saving": run.state == ImportRun.State.RUNNING
        and run.rows_total
        and run.rows_done >= run.rows_total,
        "errors": [
            {**entry, "motif": entry["motif"].replace("« ", "«\u00a0").replace(" »", "\u00a0»")}
            for entry in run.report[:SHOWN_ERRORS]
        ],
        "more_errors": max(0, len(run.report) - SHOWN_ERRORS),
    }


@importer_required
def run_detail(request, pk):
    run = get_object_or_404(_runs(request.user).select_related("profile", "organisation"), pk=pk)
    context = _run_context(run)
    if request.headers.get("HX-Request"):
        return render(request, "contacts/imports/_run_status.html", context)
    return render(request, "contacts/imports/run.html", context)


@importer_required
def run_report(request, pk):
    run = get_object_or_404(_runs(request.user), pk=pk)
    response = HttpResponse(imports.report_csv(run), content_type="text/csv; charset=utf-8")
    stem = os.path.splitext(run.filename)[0] or "import"
    response["Content-Disposition"] = f'attachment; filename="rapport-{stem}.csv"'
    return response


@importer_required
def run_list(request):
    runs = list(_runs(request.user).select_related("profile", "user", "organisation")[:100])
    for run in runs:
        run.n = _figures(run)
    return render(request, "contacts/imports/runs.html", {"runs": runs})


urlpatterns = [
    path("contacts/imports/", run_list, name="import_runs"),
    path("contacts/imports/nouveau/", upload, name="import_upload"),
    path("contacts/imports/<int:pk>/", run_detail, name="import_run"),
    path("contacts/imports/<int:pk>/rapport.csv", run_report, name="import_report"),
    path("contacts/imports/profils/", profile_list, name="import_profiles"),
    path("contacts/imports/profils/nouveau/", profile_create, name="import_profile_create"),
    path("contacts/imports/profils/<int:pk>/", profile_edit, name="import_profile_edit"),
]
