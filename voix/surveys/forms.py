"""Forms of the staff pages of the surveys app (builder, results filters, settings)."""

from django import forms

from voix.core.forms import DsfrFormMixin
from voix.core.models import Site

from . import results, scales
from .models import LinkChannel, QuestionKind, Survey, SurveySettings

Kind = QuestionKind
CHOICE_KINDS = (Kind.CHOICE, Kind.MULTIPLE)
# Channels of a public link (the others are reached through personal invitations only).
LINK_CHANNELS = [
    (value, label)
    for value, label in LinkChannel.choices
    if value not in (LinkChannel.APPOINTMENT, LinkChannel.CONTACT, LinkChannel.COMPLAINT)
]


class SurveyCreateForm(DsfrFormMixin, forms.Form):
    title = forms.CharField(
        label="Titre du questionnaire",
        max_length=200,
        help_text="Vu par les personnes qui répondent, par exemple « Votre avis sur notre "
        "accueil ».",
    )
    standard = forms.BooleanField(
        label="Commencer avec les questions standard « Je donne mon avis » et la question de "
        "satisfaction globale",
        required=False,
        initial=True,
        help_text="Recommandé : ce sont les questions de l'État, avec leur notation officielle. "
        "Vous pourrez ajouter, modifier ou retirer des questions ensuite.",
    )
    organisation = forms.ModelChoiceField(label="Organisme", queryset=None, empty_label=None)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations.count() == 1:
            self.fields["organisation"].widget = forms.HiddenInput()
            self.fields["organisation"].initial = organisations.first().pk


class SurveyForm(DsfrFormMixin, forms.Form):
    title = forms.CharField(label="Titre du questionnaire", max_length=200)
    introduction = forms.CharField(
        label="Texte d'accueil",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Affiché en haut du questionnaire : pourquoi on demande l'avis, combien de "
        "temps cela prend, que les réponses sont anonymes.",
    )
    thanks = forms.CharField(
        label="Message de remerciement",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Affiché après l'envoi des réponses.",
    )


class QuestionForm(DsfrFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label="Type de question",
        choices=Kind.choices,
        help_text="Les questions standard « Je donne mon avis » (JDMA) gardent leur intitulé et "
        "leurs réponses officiels : l'intitulé saisi ci-dessous est alors ignoré.",
    )
    label = forms.CharField(label="Intitulé", max_length=300, required=False)
    help_text = forms.CharField(
        label="Aide (facultatif)",
        max_length=300,
        required=False,
        help_text="Une précision affichée sous l'intitulé.",
    )
    choices = forms.CharField(
        label="Options de réponse",
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Pour « Choix unique » et « Choix multiples » seulement : une option par ligne, "
        "deux au moins.",
    )
    required = forms.BooleanField(label="Réponse obligatoire", required=False)
    overall = forms.BooleanField(
        label="Question de satisfaction globale",
        required=False,
        help_text="Pour une question « Satisfaction (5 niveaux) » : elle alimente les "
        "indicateurs « satisfaction globale » et « satisfaction nette ». Une seule par "
        "questionnaire.",
    )
    code = forms.SlugField(
        label="Code (facultatif)",
        max_length=60,
        required=False,
        help_text="Nom de la colonne dans les exports ; fait à partir de l'intitulé si vide. "
        "Il ne change plus une fois des réponses arrivées.",
    )

    def __init__(self, *args, question=None, **kwargs):
        if question is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "kind": question.kind,
                "label": question.label,
                "help_text": question.help_text,
                "choices": "\n".join(question.choices or []),
                "required": question.required,
                "overall": question.overall,
                "code": question.code,
            }
        super().__init__(*args, **kwargs)

    def service_fields(self) -> dict:
        """The keyword arguments of services.save_question."""
        data = self.cleaned_data
        kind = data["kind"]
        fields = {"kind": kind, "required": data["required"]}
        if kind not in scales.STANDARD_KINDS:
            fields["label"] = data["label"]
            fields["help_text"] = data["help_text"]
            if data["code"]:
                fields["code"] = data["code"]
        if kind in CHOICE_KINDS:
            fields["choices"] = data["choices"]
        fields["overall"] = data["overall"] if kind == Kind.CSAT else False
        return fields


class LinkForm(DsfrFormMixin, forms.Form):
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        required=False,
        empty_label="Aucun site (lien général, par exemple le site internet)",
    )
    channel = forms.ChoiceField(label="Canal de diffusion", choices=LINK_CHANNELS)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = organisation.sites.filter(is_active=True).order_by("name")


class SettingsForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = SurveySettings
        fields = [
            "invitation_survey",
            "after_appointment",
            "after_contact",
            "after_complaint",
            "period_days",
            "delay_hours",
        ]
        help_texts = {
            "invitation_survey": "Le questionnaire envoyé par courriel ou SMS ; il doit être "
            "ouvert pour que des invitations partent.",
            "period_days": "Une personne reçoit au plus une invitation sur cette période, quel "
            "que soit le nombre de ses démarches.",
            "delay_hours": "Temps laissé entre la fin de la démarche et l'envoi de l'invitation.",
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["invitation_survey"]
        field.queryset = Survey.objects.filter(organisation=organisation).order_by("title")
        field.empty_label = "Aucun : pas d'invitation"
        field.required = False


# ----- filters (GET) -------------------------------------------------------------------------


def _css(form):
    for field in form.fields.values():
        widget = field.widget
        widget.attrs["class"] = "fr-select" if isinstance(widget, forms.Select) else "fr-input"


class ResultsFilterForm(forms.Form):
    periode = forms.ChoiceField(label="Période", required=False)
    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.none(), required=False, empty_label="Tous les sites"
    )
    canal = forms.ChoiceField(
        label="Canal",
        required=False,
        choices=[("", "Tous les canaux"), *LinkChannel.choices],
    )

    def __init__(self, *args, sites, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["periode"].choices = results.period_options(today)
        _css(self)

    def value(self, name):
        """The valid value of a filter, or its empty value (a bad filter is ignored)."""
        if not self.is_bound:
            return self.fields[name].initial
        self.is_valid()
        return self.cleaned_data.get(name) if name not in self.errors else None


class VerbatimFilterForm(ResultsFilterForm):
    satisfaction = forms.ChoiceField(
        label="« Comment ça s'est passé ? »",
        required=False,
        choices=[("", "Toutes les réponses")]
        + [(o.value, o.label) for o in scales.SATISFACTION.options],
    )
    globale = forms.TypedChoiceField(
        label="Satisfaction globale",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Toutes les réponses")]
        + [(o.value, f"{o.value} — {o.label}") for o in scales.CSAT_OPTIONS],
    )
    q = forms.CharField(label="Rechercher dans le texte", required=False, max_length=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _css(self)
