"""Forms of the field reports pages (DSFR rendering, no JavaScript needed)."""

from datetime import date

from django import forms

from voix.core.forms import DsfrFormMixin
from voix.core.models import Site

from . import services
from .models import Affected, FieldReport, FieldReportTheme, Status, Urgency

TEXT_MAX = services.TEXT_MAX


class ThemeChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, several=False, **kwargs):
        self.several = several
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        return f"{obj.organisation} — {obj.label}" if self.several else obj.label


class ReportForm(DsfrFormMixin, forms.Form):
    """The one-minute form: what happened, theme, how many, urgency, suggestion."""

    organisation = forms.ModelChoiceField(
        label="Organisme",
        queryset=None,
        empty_label=None,
        error_messages={"required": "Choisissez l'organisme."},
    )
    site = forms.ModelChoiceField(
        label="Site ou relais concerné",
        queryset=None,
        required=False,
        empty_label="Aucun en particulier",
    )
    description = forms.CharField(
        label="Ce qui s'est passé",
        max_length=TEXT_MAX,
        help_text="En quelques phrases : la situation, ce qui bloque. Ni nom ni numéro "
        "d'allocataire.",
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": TEXT_MAX}),
        error_messages={
            "required": "Décrivez ce qui s'est passé.",
            "max_length": f"Ce qui s'est passé : {TEXT_MAX} caractères au plus "
            "(le texte en compte %(show_value)d).",
        },
    )
    theme = ThemeChoiceField(
        label="Thème",
        queryset=FieldReportTheme.objects.none(),
        empty_label="Choisissez un thème",
        error_messages={"required": "Choisissez un thème."},
    )
    users_affected = forms.ChoiceField(
        label="Combien d'usagers sont concernés ?",
        choices=Affected.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez combien d'usagers sont concernés."},
    )
    users_affected_count = forms.IntegerField(
        label="Nombre estimé",
        required=False,
        min_value=1,
        max_value=services.COUNT_MAX,
        help_text="Si vous le connaissez, même approximatif. Ex. 40.",
        error_messages={
            "invalid": "Nombre estimé : indiquez un nombre entier.",
            "min_value": "Nombre estimé : au moins 1.",
        },
    )
    urgency = forms.ChoiceField(
        label="Urgence",
        choices=Urgency.choices,
        initial=Urgency.MEDIUM,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez le niveau d'urgence."},
    )
    suggestion = forms.CharField(
        label="Votre suggestion",
        required=False,
        max_length=TEXT_MAX,
        help_text="Ce qui améliorerait la situation, si vous avez une idée.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
        error_messages={
            "max_length": f"Suggestion : {TEXT_MAX} caractères au plus "
            "(le texte en compte %(show_value)d).",
        },
    )

    def __init__(self, *args, organisations, relay=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = list(organisations)
        self.relay = relay
        themes = []
        for organisation in organisations:
            themes += [t.pk for t in services.themes_for(organisation)]
        self.fields["theme"].queryset = FieldReportTheme.objects.filter(
            pk__in=themes
        ).select_related("organisation")
        self.fields["theme"].several = len(organisations) > 1
        self.fields["organisation"].queryset = type(organisations[0]).objects.filter(
            pk__in=[o.pk for o in organisations]
        )
        if len(organisations) == 1:
            del self.fields["organisation"]
            self.organisation = organisations[0]
        else:
            self.organisation = None
        if relay is not None:
            del self.fields["site"]
        else:
            self.fields["site"].queryset = Site.objects.filter(
                organisation__in=[o.pk for o in organisations], is_active=True
            ).order_by("organisation__name", "name")
        self.order_fields(
            ["organisation", "description", "theme", "users_affected", "users_affected_count"]
            + ["urgency", "suggestion", "site"]
        )
        self.fields["users_affected"].widget.inline = True
        self.fields["urgency"].widget.inline = True

    def clean(self):
        data = super().clean()
        if "organisation" in self.fields:
            organisation = data.get("organisation")
        else:
            organisation = self.organisation
        data["organisation"] = organisation
        theme = data.get("theme")
        if organisation and theme and theme.organisation_id != organisation.pk:
            self.add_error("theme", "Choisissez un thème de cet organisme.")
        site = data.get("site")
        if organisation and site and site.organisation_id != organisation.pk:
            self.add_error("site", "Choisissez un site de cet organisme.")
        if (
            data.get("users_affected") == Affected.COUNT
            and not data.get("users_affected_count")
            and "users_affected_count" not in self.errors
        ):
            self.add_error("users_affected_count", "Nombre estimé : indiquez votre estimation.")
        return data


class DecisionForm(DsfrFormMixin, forms.Form):
    """The triage of one report: accept, merge into another, or decline with a reason."""

    ACTIONS = [
        ("accepter", "Accepter : elle deviendra une action d'amélioration"),
        ("fusionner", "Fusionner avec une autre remontée (doublon)"),
        ("decliner", "Décliner, avec un motif"),
    ]

    action = forms.ChoiceField(
        label="Décision",
        choices=ACTIONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez une décision."},
    )
    into = forms.ModelChoiceField(
        label="Fusionner avec",
        queryset=FieldReport.objects.none(),
        required=False,
        empty_label="Choisissez la remontée",
        help_text="Pour une fusion : une remontée nouvelle ou acceptée du même organisme.",
    )
    note = forms.CharField(
        label="Message à l'auteur",
        required=False,
        max_length=TEXT_MAX,
        help_text="Pour un refus, le motif (obligatoire). Sinon, facultatif : l'auteur lit "
        "ce message avec la suite donnée.",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
    )

    def __init__(self, *args, report, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["into"].queryset = (
            FieldReport.objects.filter(
                organisation=report.organisation_id, status__in=[Status.NEW, Status.ACCEPTED]
            )
            .exclude(pk=report.pk)
            .select_related("theme")
            .order_by("-created_at")
        )
        self.fields["into"].label_from_instance = lambda r: (
            f"{r.number} — {r.theme} — {r.get_status_display().lower()} — {r.created_at:%d/%m/%Y}"
        )
        if report.status != Status.NEW:
            self.fields["action"].choices = [self.ACTIONS[1]]

    def clean(self):
        data = super().clean()
        if data.get("action") == "fusionner" and not data.get("into"):
            self.add_error("into", "Choisissez la remontée avec laquelle fusionner.")
        if data.get("action") == "decliner" and not (data.get("note") or "").strip():
            self.add_error("note", "Indiquez le motif du refus : l'auteur le lira.")
        return data


class PeriodForm(DsfrFormMixin, forms.Form):
    """Filters of the lists and the summary (every field optional)."""

    du = forms.DateField(
        label="Du",
        required=False,
        help_text="Format : 31/12/2026",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Date de début : format attendu 31/12/2026."},
    )
    au = forms.DateField(
        label="Au",
        required=False,
        help_text="Format : 31/12/2026",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Date de fin : format attendu 31/12/2026."},
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("du"), data.get("au")
        if start and end and start > end:
            self.add_error("au", "La date de fin précède la date de début.")
        return data

    def bounds(self) -> tuple[date | None, date | None]:
        if not self.is_valid():
            return None, None
        return self.cleaned_data.get("du"), self.cleaned_data.get("au")


class TriageFilterForm(PeriodForm):
    etat = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "Tous"), *Status.choices],
    )
    urgence = forms.ChoiceField(
        label="Urgence",
        required=False,
        choices=[("", "Toutes"), *Urgency.choices],
    )
    theme = forms.ModelChoiceField(label="Thème", required=False, queryset=None, empty_label="Tous")

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = FieldReportTheme.objects.filter(
            organisation__in=organisations
        )
