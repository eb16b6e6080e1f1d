"""Forms of the complaints pages: the public form, intake by an agent or a partner relay, the
case actions, mediation, the settings.

The checks a person can fix at once (an empty or abusive message, no way to answer, a file
too big or of the wrong type) are made here, next to the field; the services check again and
their ValidationError lands on the same fields (views put it there).
"""

import re

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from voix.core.antibot import AntibotForm
from voix.core.forms import DsfrFormMixin, email_field, phone_field
from voix.core.models import Membership, Role, Site

from . import attachments
from .models import AnswerVia, Decision, Intake, Kind, RootCause, Status, Theme

SUBJECT_MAX = 200
BODY_MIN = 10
BODY_MAX = 10_000
BODY_MAX_TEXT = "10\u202f000"
MAX_LINKS = 3
MAX_MEGABYTES = attachments.MAX_FILE_SIZE // attachments.MB
TOTAL_MEGABYTES = attachments.MAX_TOTAL_SIZE // attachments.MB
ATTACHMENTS_HINT = (
    f"Facultatif. Types acceptés : {attachments.ALLOWED_TEXT}. {attachments.MAX_FILES} "
    f"fichiers au plus, {MAX_MEGABYTES} Mo chacun, {TOTAL_MEGABYTES} Mo en tout. Vous pouvez "
    "en choisir plusieurs à la fois."
)
FILES_AGAIN = (
    "Les fichiers ne sont pas gardés quand le formulaire est renvoyé pour correction : "
    "choisissez-les de nouveau."
)
STAFF_INTAKES = [
    (Intake.PHONE, Intake.PHONE.label),
    (Intake.COUNTER, Intake.COUNTER.label),
    (Intake.LETTER, Intake.LETTER.label),
    (Intake.EMAIL, Intake.EMAIL.label),
]
KIND_HINTS = {
    Kind.COMPLAINT: "Quelque chose s'est mal passé et vous attendez une réponse.",
    Kind.SUGGESTION: "Une idée pour améliorer le service.",
    Kind.COMPLIMENT: "Vous souhaitez dire ce qui s'est bien passé.",
}
SATISFACTION_CHOICES = [
    (1, "Pas du tout satisfait"),
    (2, "Plutôt pas satisfait"),
    (3, "Plutôt satisfait"),
    (4, "Tout à fait satisfait"),
]
HANDLER_ROLES = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN)
_LINK = re.compile(r"https?://|www\.", re.IGNORECASE)
_REPEAT = re.compile(r"(.)\1{29,}", re.DOTALL)


def staff_of(organisation):
    """People of *organisation* a case may be given to (partners excepted)."""
    user_ids = Membership.objects.filter(
        organisation=organisation, role__in=(*HANDLER_ROLES, Role.MEDIATEUR)
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=user_ids, is_active=True).order_by("full_name")


def check_text(value: str, what: str) -> str:
    """A message a person wrote: not empty, not spam (*what*: « le message », « l'objet »)."""
    text = (value or "").strip()
    if not text:
        raise forms.ValidationError(f"Écrivez {what} : il est vide.")
    if not re.search(r"[^\W\d_]", text):
        raise forms.ValidationError(f"Écrivez {what} avec des mots : il ne contient aucune lettre.")
    if _REPEAT.search(text):
        raise forms.ValidationError(
            f"{what.capitalize()} répète le même caractère de nombreuses fois : raccourcissez-le."
        )
    if len(_LINK.findall(text)) > MAX_LINKS:
        raise forms.ValidationError(
            f"{what.capitalize()} contient plus de {MAX_LINKS} liens vers des sites internet : "
            "retirez-en pour qu'il puisse être envoyé."
        )
    return text


def clean_email(value: str) -> str:
    value = (value or "").strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise forms.ValidationError(
                f"« {value} » n'est pas une adresse électronique valide : vérifiez-la "
                "(exemple : nom@exemple.fr)."
            ) from None
    return value


def mark_invalid(form) -> None:
    """After validation: aria-invalid and the error's id on each field in error (the DSFR
    mixin does it only for forms validated before they are rendered)."""
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs.update(
                {"aria-invalid": "true", "aria-describedby": f"{form[name].auto_id}-desc-error"}
            )
    form._bound_fields_cache.clear()


def error_summary(form) -> list[tuple[str, str, str]]:
    """[(field id or "", label, message)] for the error summary at the top of the page."""
    rows = [("", "", message) for message in form.non_field_errors()]
    for field in form:
        for message in field.errors:
            label = "Consentement" if field.name == "consent" else field.label
            target = field.auto_id
            if isinstance(field.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
                target = f"{field.auto_id}_0"
            rows.append((target, label, message))
    return rows


# ----- several files in one input -------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files, checked by the complaints' attachment rules (attachments.py)."""

    widget = MultipleFileInput

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        try:
            attachments.check_uploads(files)
        except ValidationError as error:
            raise forms.ValidationError([*error.messages, FILES_AGAIN]) from None
        return files


# ----- the complaint itself -------------------------------------------------------------------


class KindSelect(forms.RadioSelect):
    inline = False


class ComplaintFields(DsfrFormMixin, forms.Form):
    """What every intake asks: nature, site, subject, message, ways to answer, files."""

    kind = forms.ChoiceField(
        label="Votre démarche",
        choices=Kind.choices,
        initial=Kind.COMPLAINT,
        widget=KindSelect,
        error_messages={"required": "Choisissez réclamation, suggestion ou remerciement."},
    )
    site = forms.ModelChoiceField(
        label="Lieu d'accueil concerné",
        queryset=Site.objects.none(),
        required=False,
        empty_label="Aucun en particulier / je ne sais pas",
        error_messages={"invalid_choice": "Choisissez un lieu d'accueil de la liste."},
    )
    subject = forms.CharField(
        label="Objet",
        max_length=SUBJECT_MAX,
        help_text="En quelques mots. Exemple : « Attente trop longue à l'accueil de Laval ».",
        error_messages={
            "required": "Indiquez l'objet en quelques mots.",
            "max_length": f"L'objet ne doit pas dépasser {SUBJECT_MAX} caractères "
            "(il en compte %(show_value)d).",
        },
    )
    body = forms.CharField(
        label="Votre message",
        min_length=BODY_MIN,
        max_length=BODY_MAX,
        help_text=f"Ce qui s'est passé, quand, ce que vous attendez. {BODY_MAX_TEXT} caractères "
        "au plus. N'indiquez pas d'information sur votre santé.",
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={
            "required": "Écrivez votre message : il est vide.",
            "min_length": f"Le message est trop court : {BODY_MIN} caractères au moins "
            "(il en compte %(show_value)d). Précisez votre demande.",
            "max_length": f"Le message ne doit pas dépasser {BODY_MAX_TEXT} caractères "
            "(il en compte %(show_value)d) : raccourcissez-le.",
        },
    )
    full_name = forms.CharField(
        label="Nom et prénom",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = email_field(
        "Adresse électronique",
        "Exemple : nom@exemple.fr",
    )
    phone = phone_field(
        "Téléphone",
        "Exemple : 06 12 34 56 78",
    )
    postal_address = forms.CharField(
        label="Adresse postale",
        help_text="Numéro, rue, code postal et commune.",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    file_number = forms.CharField(
        label="Numéro d'allocataire",
        help_text="Il figure sur vos courriers et dans votre espace personnel "
        "(7 chiffres en général). Il nous aide à retrouver votre dossier.",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    attachments = MultipleFileField(
        label="Pièces jointes",
        help_text=ATTACHMENTS_HINT,
        widget=MultipleFileInput(attrs={"accept": attachments.ACCEPT}),
    )

    # the field that gets « no way to answer »; an agent may record a case without one
    # (the person refused to give any: the case is counted, no answer can be sent)
    reach_field = "email"
    needs_reach = True

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        from .services import site_choices

        self.fields["site"].queryset = site_choices(organisation).order_by("name")

    def kinds(self):
        """[(value, label, hint, checked)] for the radio group."""
        current = self["kind"].value()
        return [
            (value, label, KIND_HINTS[value], value == current) for value, label in Kind.choices
        ]

    def clean_subject(self):
        return check_text(self.cleaned_data.get("subject"), "l'objet")

    def clean_body(self):
        return check_text(self.cleaned_data.get("body"), "le message")

    def clean_full_name(self):
        return " ".join((self.cleaned_data.get("full_name") or "").split())

    def clean_email(self):
        return clean_email(self.cleaned_data.get("email"))

    def clean_phone(self):
        from .services import clean_phone

        return clean_phone(self.cleaned_data.get("phone"))

    def clean_postal_address(self):
        return (self.cleaned_data.get("postal_address") or "").strip()

    def clean_file_number(self):
        return (self.cleaned_data.get("file_number") or "").strip()

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        reach = [data.get(name) for name in ("email", "phone", "postal_address")]
        failed = {"email", "phone", "postal_address"} & set(self.errors)
        if self.needs_reach and kind != Kind.COMPLIMENT and not any(reach) and not failed:
            self.add_error(
                self.reach_field,
                "Indiquez au moins un moyen de vous répondre : adresse électronique, "
                "téléphone ou adresse postale.",
            )
        return data

    def service_fields(self) -> dict:
        """The keyword arguments of services.file_complaint (consent and intake excepted)."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "subject": data["subject"],
            "body": data["body"],
            "full_name": data["full_name"],
            "email": data["email"],
            "phone": data["phone"],
            "postal_address": data["postal_address"],
            "file_number": data["file_number"],
            "site": data["site"],
            "attachments": data["attachments"],
        }


class PublicComplaintForm(ComplaintFields, AntibotForm):
    """/reclamation/<organisme>/: anyone, no account, no JavaScript."""

    consent = forms.BooleanField(
        label="",
        required=True,
        error_messages={
            "required": "Cochez la case pour accepter l'utilisation de ces informations : "
            "sans elles, nous ne pouvons pas traiter votre demande."
        },
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        self.fields["consent"].label = (
            f"J'accepte que {organisation.name} utilise ces informations pour traiter ma "
            "demande et me répondre."
        )
        self.fields["full_name"].label = "Vos nom et prénom"
        self.fields["email"].label = "Votre adresse électronique"
        self.fields["email"].help_text = (
            "Pour recevoir l'accusé de réception, le lien de suivi et la réponse. "
            "Exemple : nom@exemple.fr"
        )
        self.fields["phone"].label = "Votre téléphone"
        self.fields["postal_address"].label = "Votre adresse postale"
        self.fields[
            "postal_address"
        ].help_text = "Pour recevoir la réponse par courrier. Numéro, rue, code postal et commune."
        # The DSFR mixin made the bound fields before these labels were set.
        self._bound_fields_cache.clear()


class StaffComplaintForm(ComplaintFields):
    """/reclamations/nouvelle/: an agent records what came by phone, counter, letter, e-mail."""

    intake = forms.ChoiceField(
        label="Reçue par",
        choices=STAFF_INTAKES,
        widget=forms.RadioSelect,
        error_messages={"required": "Indiquez par où la demande est arrivée."},
    )
    consent = forms.BooleanField(
        label="La personne accepte que ses coordonnées soient utilisées pour traiter sa "
        "demande et lui répondre",
        required=False,
        help_text="Au téléphone ou à l'accueil, posez-lui la question et cochez si elle est "
        "d'accord ; pour un courrier ou un courriel, sa démarche écrite vaut accord et la "
        "case peut rester vide.",
    )
    field_order = ["intake"]
    needs_reach = False

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        self.fields["kind"].label = "Nature de la demande"
        self.fields["body"].label = "Message de la personne"
        self.fields["body"].help_text = (
            f"Ses mots, le plus fidèlement possible. {BODY_MAX_TEXT} caractères au plus. "
            "Pas d'information de santé."
        )
        self.fields["file_number"].help_text = "S'il est connu : il aide à retrouver le dossier."
        self.fields["attachments"].help_text = (
            "Facultatif : le courrier numérisé, les pièces reçues. "
            + ATTACHMENTS_HINT.removeprefix("Facultatif. ")
        )
        self._bound_fields_cache.clear()


class RelayComplaintForm(ComplaintFields):
    """/reclamations/relais/: a partner files for the person sitting with them."""

    consent = forms.BooleanField(
        label="La personne accepte que sa demande et ses coordonnées soient transmises à "
        "l'organisme pour être traitées",
        required=True,
        error_messages={
            "required": "Cochez la case une fois l'accord de la personne recueilli : sans "
            "lui, la demande ne peut pas être transmise."
        },
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, organisation=organisation, **kwargs)
        self.fields["kind"].label = "Nature de la demande"
        self.fields["body"].label = "Message de la personne"
        self.fields["site"].label = "Lieu d'accueil concerné"
        self._bound_fields_cache.clear()


# ----- the case's actions ---------------------------------------------------------------------


class FilterForm(forms.Form):
    """The case list's filters (GET)."""

    status = forms.ChoiceField(
        label="État",
        required=False,
        choices=[("", "Tous"), ("ouvertes", "Non closes"), *Status.choices],
    )
    kind = forms.ChoiceField(
        label="Nature", required=False, choices=[("", "Toutes"), *Kind.choices]
    )
    theme = forms.ModelChoiceField(
        label="Thème", queryset=Theme.objects.none(), required=False, empty_label="Tous"
    )
    site = forms.ModelChoiceField(
        label="Lieu concerné", queryset=Site.objects.none(), required=False, empty_label="Tous"
    )
    echeance = forms.ChoiceField(
        label="Échéance",
        required=False,
        choices=[("", "Toutes"), ("depassee", "Dépassée"), ("proche", "Proche")],
    )
    charge = forms.ChoiceField(
        label="Chargé du dossier",
        required=False,
        choices=[("", "Tous"), ("moi", "Moi"), ("personne", "Personne")],
    )

    def __init__(self, *args, themes, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].queryset = themes
        self.fields["site"].queryset = sites
        for field in self.fields.values():
            field.widget.attrs["class"] = "fr-select"


class NoteForm(DsfrFormMixin, forms.Form):
    text = forms.CharField(
        label="Note interne",
        help_text="Jamais montrée à la personne. 2 000 caractères au plus.",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Écrivez la note : elle est vide."},
    )


class AssignForm(DsfrFormMixin, forms.Form):
    assignee = forms.ModelChoiceField(
        label="Chargé du dossier",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Personne",
        error_messages={"invalid_choice": "Choisissez une personne de la liste."},
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_of(organisation)


class TagForm(DsfrFormMixin, forms.Form):
    theme = forms.ModelChoiceField(
        label="Thème", queryset=Theme.objects.none(), required=False, empty_label="Aucun"
    )
    root_causes = forms.ModelMultipleChoiceField(
        label="Causes",
        queryset=RootCause.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Ce qui a conduit à la demande ; plusieurs causes possibles.",
    )

    def __init__(self, *args, organisation, complaint=None, **kwargs):
        super().__init__(*args, **kwargs)
        themes = Theme.objects.filter(organisation=organisation)
        causes = RootCause.objects.filter(organisation=organisation)
        if complaint is not None:
            # a deactivated theme or cause still shows on the cases that carry it
            themes = themes.filter(active=True) | themes.filter(pk=complaint.theme_id or 0)
            causes = causes.filter(active=True) | causes.filter(
                pk__in=complaint.root_causes.values("pk")
            )
        else:
            themes, causes = themes.filter(active=True), causes.filter(active=True)
        self.fields["theme"].queryset = themes.distinct().order_by("label")
        self.fields["root_causes"].queryset = causes.distinct().order_by("label")
        self._bound_fields_cache.clear()


class PauseForm(DsfrFormMixin, forms.Form):
    note = forms.CharField(
        label="Pièces ou informations demandées",
        help_text="200 caractères au plus.",
        required=False,
        max_length=200,
    )


class AnswerForm(DsfrFormMixin, forms.Form):
    text = forms.CharField(
        label="Réponse",
        help_text="Phrases courtes, mots simples ; dites ce qui a été fait et ce que la personne "
        "peut faire ensuite. 10 000 caractères au plus.",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 14}),
        error_messages={"required": "Rédigez la réponse : elle est vide."},
    )
    via = forms.ChoiceField(
        label="Envoyer la réponse",
        choices=AnswerVia.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez courriel ou courrier."},
    )

    def __init__(self, *args, complaint, **kwargs):
        super().__init__(*args, **kwargs)
        self.complaint = complaint
        via = self.fields["via"]
        if complaint.email:
            via.choices = [
                (AnswerVia.EMAIL, f"Par courriel, à {complaint.email}"),
                (AnswerVia.LETTER, "Par courrier : une lettre PDF à imprimer et poster"),
            ]
        else:
            via.choices = [
                (AnswerVia.LETTER, "Par courrier : une lettre PDF à imprimer et poster"),
            ]
            via.help_text = "Pas d'adresse électronique dans le dossier : réponse par courrier."
        self._bound_fields_cache.clear()

    def clean_text(self):
        return check_text(self.cleaned_data.get("text"), "la réponse")


class EscalateForm(DsfrFormMixin, forms.Form):
    reason = forms.CharField(
        label="Motif de la saisine du médiateur",
        help_text="Ce que la personne conteste dans la réponse. 3 000 caractères au plus.",
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Indiquez le motif de la saisine."},
    )

    def clean_reason(self):
        return check_text(self.cleaned_data.get("reason"), "le motif")


# ----- the tracking page (public) ---------------------------------------------------------------


class SatisfactionForm(DsfrFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label="Êtes-vous satisfait de la réponse apportée à votre demande ?",
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez une réponse avant d'envoyer."},
    )


class MediationRequestForm(EscalateForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        reason = self.fields["reason"]
        reason.label = "Pourquoi demandez-vous la médiation ?"
        reason.help_text = "Ce que vous contestez dans la réponse reçue. 3 000 caractères au plus."
        reason.error_messages["required"] = "Expliquez pourquoi vous demandez la médiation."
        self._bound_fields_cache.clear()

    def clean_reason(self):
        return check_text(self.cleaned_data.get("reason"), "votre explication")


# ----- mediation ------------------------------------------------------------------------------


class DecisionForm(DsfrFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Décision",
        choices=Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez la décision."},
    )
    text = forms.CharField(
        label="Motivation, telle qu'elle sera envoyée à la personne",
        help_text="Expliquez la décision en phrases simples. 10 000 caractères au plus.",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={"required": "Rédigez la motivation de la décision."},
    )

    def clean_text(self):
        return check_text(self.cleaned_data.get("text"), "la motivation")


# ----- settings -------------------------------------------------------------------------------


class LabelForm(DsfrFormMixin, forms.Form):
    label = forms.CharField(
        label="Libellé",
        max_length=120,
        error_messages={"required": "Indiquez le libellé."},
    )

    def __init__(self, *args, label="Libellé", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].label = label
        self._bound_fields_cache.clear()

    def clean_label(self):
        value = " ".join((self.cleaned_data.get("label") or "").split())
        if not value:
            raise forms.ValidationError("Indiquez le libellé.")
        return value
