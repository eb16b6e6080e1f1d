"""/reclamations/reglages/ (quality leads and administrators): the themes and root causes a
case is tagged with — add, rename, take out of use (a label in use on old cases is never
deleted, only deactivated, so past counts keep their meaning)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse

from voix.core.models import Role
from voix.core.scoping import organisations_with_role
from voix.core.views import role_required

from .. import services
from ..forms import LabelForm, mark_invalid
from ..models import RootCause, Theme
from .public import errors_on_form
from .staff import nav_flags, organisation_for

ROLES = (Role.QUALITE, Role.ADMIN)
settings_required = role_required(*ROLES)

KINDS = {
    "theme": {
        "model": Theme,
        "save": "save_theme",
        "label": "Thème",
        "added": "Le thème « {} » est ajouté.",
    },
    "cause": {
        "model": RootCause,
        "save": "save_root_cause",
        "label": "Cause",
        "added": "La cause « {} » est ajoutée.",
    },
}


def _save(kind, actor, organisation, item=None, **fields):
    save = getattr(services, KINDS[kind]["save"])
    if kind == "theme":
        return save(actor, organisation, theme=item, **fields)
    return save(actor, organisation, cause=item, **fields)


def _rows(organisation, kind, bound=None):
    model = KINDS[kind]["model"]
    rows = []
    for item in model.objects.filter(organisation=organisation).order_by("-active", "label"):
        form = (
            bound
            if bound is not None and bound.item_pk == item.pk
            else LabelForm(
                prefix=f"{kind}-{item.pk}",
                initial={"label": item.label},
                label=f"Nouveau libellé pour « {item.label} »",
            )
        )
        rows.append({"item": item, "form": form})
    return rows


@settings_required
def settings_index(request):
    """GET: the lists; POST (action, kind, pk): add, rename, deactivate or reactivate."""
    organisation = organisation_for(request, ROLES)
    here = reverse("complaints:settings") + f"?organisme={organisation.slug}"
    bound = {"theme": None, "cause": None}
    bound_rename = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        kind = request.POST.get("kind")
        if kind not in KINDS or action not in ("ajouter", "renommer", "desactiver", "reactiver"):
            raise Http404("Action inconnue.")
        model = KINDS[kind]["model"]
        item = None
        if action != "ajouter":
            item = get_object_or_404(model, organisation=organisation, pk=request.POST.get("pk"))
        try:
            if action == "ajouter":
                form = LabelForm(
                    request.POST,
                    prefix=f"{kind}-nouveau",
                    label=f"{KINDS[kind]['label']} à ajouter",
                )
                if form.is_valid():
                    try:
                        saved = _save(kind, request.user, organisation, **form.cleaned_data)
                    except ValidationError as error:
                        errors_on_form(form, error)
                    else:
                        messages.success(request, KINDS[kind]["added"].format(saved.label))
                        return redirect(here + f"#{kind}s")
                mark_invalid(form)
                bound[kind] = form
                status = 400
            elif action == "renommer":
                form = LabelForm(
                    request.POST,
                    prefix=f"{kind}-{item.pk}",
                    label=f"Nouveau libellé pour « {item.label} »",
                )
                form.item_pk = item.pk
                if form.is_valid():
                    try:
                        _save(
                            kind, request.user, organisation, item, label=form.cleaned_data["label"]
                        )
                    except ValidationError as error:
                        errors_on_form(form, error)
                    else:
                        messages.success(request, f"Renommé en « {form.cleaned_data['label']} ».")
                        return redirect(here + f"#{kind}s")
                mark_invalid(form)
                bound_rename = (kind, form)
                status = 400
            else:
                active = action == "reactiver"
                _save(kind, request.user, organisation, item, active=active)
                messages.success(
                    request,
                    f"« {item.label} » est {'de nouveau proposé' if active else 'retiré des choix'}"
                    + ("" if active else " (les réclamations déjà classées le gardent)")
                    + ".",
                )
                return redirect(here + f"#{kind}s")
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect(here + f"#{kind}s")
    new_forms = {
        kind: bound[kind]
        or LabelForm(prefix=f"{kind}-nouveau", label=f"{KINDS[kind]['label']} à ajouter")
        for kind in KINDS
    }
    rename = {kind: None for kind in KINDS}
    if bound_rename:
        rename[bound_rename[0]] = bound_rename[1]
    return render(
        request,
        "complaints/staff/settings.html",
        {
            "organisation": organisation,
            "organisations": organisations_with_role(request.user, *ROLES).order_by("name"),
            "themes": _rows(organisation, "theme", rename["theme"]),
            "causes": _rows(organisation, "cause", rename["cause"]),
            "new_theme_form": new_forms["theme"],
            "new_cause_form": new_forms["cause"],
            **nav_flags(request.user),
        },
        status=status,
    )


urls = [
    path("reclamations/reglages/", settings_index, name="settings"),
]
