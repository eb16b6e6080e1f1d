"""Administration page of the retention periods of personal data (core:retention).

An administrator edits, for each organisation they administer, how long each registered
type of personal data is kept (the default is shown beside each field), and may run a
« simulation »: what the daily purge would erase now with the saved periods, erasing
nothing.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse

from . import retention
from .forms import DsfrFormMixin
from .views import admin_required, administered, form_errors_to_messages


class RetentionForm(DsfrFormMixin, forms.Form):
    """One number of days per registered data type."""

    def __init__(self, *args, data_types, current, **kwargs):
        super().__init__(*args, **kwargs)
        for data_type in data_types:
            help_text = f"Par défaut : {data_type.default_days} jours"
            help_text += f" (environ {_human(data_type.default_days)})."
            if data_type.description:
                help_text += f" {data_type.description}"
            self.fields[data_type.key] = forms.IntegerField(
                label=f"{data_type.label} (jours)",
                min_value=retention.MIN_DAYS,
                max_value=retention.MAX_DAYS,
                initial=current[data_type.key],
                help_text=help_text,
                error_messages={
                    "required": f"{data_type.label} : indiquez un nombre de jours.",
                    "invalid": f"{data_type.label} : indiquez un nombre entier de jours.",
                    "min_value": f"{data_type.label} : au moins {retention.MIN_DAYS} jours.",
                    "max_value": f"{data_type.label} : au plus {retention.MAX_DAYS} jours.",
                },
            )


def _human(days: int) -> str:
    if days % 365 == 0:
        years = days // 365
        return f"{years} an{'s' if years > 1 else ''}"
    if days >= 60 and days % 30 == 0:
        return f"{days // 30} mois"
    return f"{days} jours"


@admin_required
def retention_page(request):
    organisations = list(administered(request.user).order_by("name"))
    chosen = request.POST.get("organisme") or request.GET.get("organisme")
    organisation = next((o for o in organisations if str(o.pk) == chosen), organisations[0])
    data_types = retention.data_types()
    current = retention.periods(organisation)
    form = RetentionForm(request.POST or None, data_types=data_types, current=current)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                with transaction.atomic():
                    for data_type in data_types:
                        days = form.cleaned_data[data_type.key]
                        retention.set_retention_period(
                            request.user, organisation, data_type.key, days
                        )
            except ValidationError as error:
                form_errors_to_messages(request, error, form)
            else:
                messages.success(request, f"Durées de conservation de {organisation} enregistrées.")
                return redirect(f"{reverse('core:retention')}?organisme={organisation.pk}")
        status = 400
    simulation = None
    if request.GET.get("simulation"):
        simulation = retention.purge_lines(dry_run=True, organisations=[organisation])
    rows = [
        {
            "type": data_type,
            "days": current[data_type.key],
            "human": _human(current[data_type.key]),
            "is_default": current[data_type.key] == data_type.default_days,
        }
        for data_type in data_types
    ]
    return render(
        request,
        "core/admin/retention.html",
        {
            "organisations": organisations,
            "organisation": organisation,
            "form": form,
            "rows": rows,
            "simulation": simulation,
            "min_days": retention.MIN_DAYS,
            "max_days": retention.MAX_DAYS,
            "nav": "admin",
        },
        status=status,
    )


urls = [
    path("administration/conservation/", retention_page, name="retention"),
]
