"""Forms of the contact log pages (DSFR rendering)."""

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from voix.core.forms import DsfrFormMixin
from voix.core.models import Membership, Site

from .models import Channel, ClockPolicy, DelayUnit, Outcome, Reason, Status, Team
from .services import HANDLER_ROLES

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y"]


def datetime_field(label, required=False, help_text=""):
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=help_text or "Date et heure, par ex. 27/11/2026 14:30.",
        error_messages={"invalid": "Saisissez une date et une heure valides (jj/mm/aaaa hh:mm)."},
    )


def handlers_of(organisation):
    """People who may be given contacts of *organisation*."""
    user_ids = Membership.objects.filter(organisation=organisation, role__in=HANDLER_ROLES).values(
        "user_id"
    )
    return get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("full_name")


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class ContactForm(DsfrFormMixin, forms.Form):
    channel = forms.ChoiceField(label="Canal", choices=[("", "—"), *Channel.choices])
    reason = ReasonChoiceField(
        label="Motif", queryset=Reason.objects.none(), required=False, empty_label="—"
    )
    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.none(), required=False, empty_label="—"
    )
    team = forms.ModelChoiceField(
        label="Équipe", queryset=Team.objects.none(), required=False, empty_label="—"
    )
    assignee = forms.ModelChoiceField(
        label="Chargé du contact",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Personne pour l'instant",
    )
    requester_ref = forms.CharField(
        label="Référence de l'usager",
        required=False,
        max_length=64,
        help_text="Numéro d'allocataire ou référence interne : ni nom ni adresse.",
    )
    subject = forms.CharField(label="Objet", required=False, max_length=200)
    received_at = datetime_field("Reçu le", required=True)
    acknowledged_at = datetime_field("Accusé de réception envoyé le")
    first_answer_at = datetime_field("Première réponse le")
    closed_at = datetime_field("Clos le")
    outcome = forms.ChoiceField(label="Issue", choices=Outcome.choices, required=False)

    def __init__(self, *args, organisation, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = (
            Reason.objects.filter(organisation=organisation, active=True)
            .select_related("parent")
            .order_by("parent__label", "label")
        )
        self.fields["site"].queryset = sites
        self.fields["team"].queryset = Team.objects.filter(organisation=organisation)
        self.fields["assignee"].queryset = handlers_of(organisation)


class StepForm(DsfrFormMixin, forms.Form):
    at = datetime_field("Le", help_text="Laissez vide pour maintenant.")


class CloseForm(DsfrFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        label="Issue", choices=[c for c in Outcome.choices if c[0]], required=True
    )
    at = datetime_field("Clos le", help_text="Laissez vide pour maintenant.")
    # Optional: where to send the satisfaction questionnaire. Used once, never stored on
    # the contact (the surveys app keeps it only until the message is sent).
    survey_address = forms.CharField(
        label="Envoyer le questionnaire de satisfaction à (facultatif)",
        help_text="L'adresse électronique ou le numéro de portable que la personne vous "
        "donne pour recevoir le questionnaire. Il n'est pas enregistré dans le contact.",
        required=False,
        max_length=254,
    )

    def clean_survey_address(self):
        from voix.surveys.services import normalise_address

        value = (self.cleaned_data.get("survey_address") or "").strip()
        if not value:
            return None
        email, phone = (value, "") if "@" in value else ("", value)
        try:
            normalise_address(email=email, phone=phone)
        except ValidationError as error:
            raise forms.ValidationError(error.messages) from None
        return {"email": email, "phone": phone}


class AssignForm(DsfrFormMixin, forms.Form):
    assignee = forms.ModelChoiceField(
        label="Attribuer à", queryset=get_user_model().objects.none(), required=True
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = handlers_of(organisation)


class FilterForm(forms.Form):
    """The list's search and filters (GET)."""

    q = forms.CharField(label="Rechercher", required=False, help_text="Référence, objet ou n°.")
    status = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "Tous"), ("ouverts", "Ouverts"), *Status.choices],
    )
    channel = forms.ChoiceField(
        label="Canal", required=False, choices=[("", "Tous"), *Channel.choices]
    )
    site = forms.ModelChoiceField(
        label="Site", queryset=Site.objects.none(), required=False, empty_label="Tous"
    )
    reason = ReasonChoiceField(
        label="Motif", queryset=Reason.objects.none(), required=False, empty_label="Tous"
    )
    echeance = forms.ChoiceField(
        label="Échéance",
        required=False,
        choices=[("", "Toutes"), ("depassee", "Dépassée"), ("proche", "Proche")],
    )

    def __init__(self, *args, sites, reasons, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["reason"].queryset = reasons
        for field in self.fields.values():
            css = "fr-select" if isinstance(field.widget, forms.Select) else "fr-input"
            field.widget.attrs["class"] = css


class ReasonForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Reason
        fields = ["parent", "code", "label", "seasonal_mass", "active"]
        help_texts = {
            "parent": "Laissez vide pour créer un thème.",
            "code": "Lettres minuscules, chiffres et tirets (ex. rsa, aide-logement).",
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        themes = Reason.objects.filter(organisation=organisation, parent__isnull=True)
        if self.instance.pk:
            themes = themes.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = themes
        self.fields["parent"].required = False


class TeamForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "site", "members"]
        widgets = {"members": forms.CheckboxSelectMultiple}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = organisation.sites.order_by("name")
        self.fields["members"].queryset = handlers_of(organisation)
        self.fields["members"].label = "Membres"


class PolicyForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = ClockPolicy
        fields = [
            "channel",
            "reason",
            "ack_delay",
            "ack_unit",
            "answer_delay",
            "answer_unit",
            "warn_before_hours",
        ]
        labels = {"ack_unit": "Unité du délai d'accusé", "answer_unit": "Unité du délai de réponse"}
        help_texts = {
            "reason": "Laissez vide pour une règle valable pour tout le canal.",
            "ack_delay": "Vide : pas d'accusé de réception attendu.",
            "answer_delay": "Vide : pas de délai de réponse.",
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = Reason.objects.filter(organisation=organisation)
        self.fields["ack_unit"].choices = DelayUnit.choices
        self.fields["answer_unit"].choices = DelayUnit.choices
