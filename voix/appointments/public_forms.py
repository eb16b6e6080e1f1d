"""Forms of the public booking pages (no account): contact details, waitlist, manage link."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from voix.core.antibot import AntibotForm
from voix.core.forms import DsfrFormMixin, email_field, phone_field

from .models import Mode

PHONE_NEEDED = (
    "Pour un rendez-vous par téléphone, indiquez le numéro où le conseiller vous appellera."
)


def _clean_email(value: str) -> str:
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


class CommuneForm(DsfrFormMixin, forms.Form):
    """« Votre commune ou code postal »: a GET form that sorts the sites."""

    commune = forms.CharField(
        label="Votre commune ou code postal",
        help_text="Exemples : Laval, 53000. Les lieux les plus proches s'affichent en premier.",
        required=False,
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )


class BookingForm(DsfrFormMixin, AntibotForm):
    """The last step: who the appointment is for and how to reach them."""

    full_name = forms.CharField(
        label="Vos nom et prénom",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Indiquez vos nom et prénom."},
    )
    phone = phone_field(
        "Votre numéro de téléphone",
        "Un portable pour recevoir la confirmation et le rappel par SMS. Exemple : 06 12 34 56 78",
    )
    email = email_field(
        "Votre adresse électronique",
        "Pour recevoir la confirmation et le rappel par courriel. Exemple : nom@exemple.fr",
    )
    note = forms.CharField(
        label="Précisions pour le conseiller",
        help_text="Ce que vous souhaitez aborder, un besoin particulier (interprète, accès en "
        "fauteuil roulant…). 1 000 caractères au plus.",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(
        label="",
        required=True,
        error_messages={
            "required": "Cochez la case pour accepter l'utilisation de vos coordonnées : "
            "sans elles, nous ne pouvons pas vous confirmer ni vous rappeler le rendez-vous."
        },
    )

    def __init__(self, *args, consent_text="", mode="", **kwargs):
        super().__init__(*args, **kwargs)
        self.mode = mode
        self.fields["consent"].label = consent_text or (
            "J'accepte que ces coordonnées soient utilisées pour ce rendez-vous."
        )
        if mode == Mode.PHONE:
            phone = self.fields["phone"]
            phone.required = True
            phone.error_messages["required"] = PHONE_NEEDED
            phone.help_text = "Le conseiller vous appellera à ce numéro. Exemple : 06 12 34 56 78"
        # The DSFR mixin made the bound fields before these labels were set.
        self._bound_fields_cache.pop("consent", None)
        self._bound_fields_cache.pop("phone", None)

    def clean_email(self):
        return _clean_email(self.cleaned_data.get("email"))

    def clean_full_name(self):
        value = " ".join(self.cleaned_data["full_name"].split())
        if not value:
            raise forms.ValidationError("Indiquez vos nom et prénom.")
        return value

    def clean(self):
        data = super().clean()
        phone, email = data.get("phone", "").strip(), data.get("email", "").strip()
        data["phone"], data["email"] = phone, email
        if self.mode == Mode.PHONE and not phone and "phone" not in self.errors:
            self.add_error("phone", PHONE_NEEDED)
        elif not phone and not email and "phone" not in self.errors:
            self.add_error(
                "phone",
                "Indiquez un numéro de téléphone ou une adresse électronique (au moins l'un "
                "des deux) pour recevoir la confirmation.",
            )
        return data


class WaitlistForm(DsfrFormMixin, AntibotForm):
    """No slot at all: « prévenez-moi quand un créneau se libère »."""

    email = email_field("Votre adresse électronique", "Exemple : nom@exemple.fr")
    phone = phone_field(
        "Ou votre numéro de portable", "Pour être prévenu par SMS. Exemple : 06 12 34 56 78"
    )
    consent = forms.BooleanField(
        label="",
        required=True,
        error_messages={
            "required": "Cochez la case pour accepter d'être prévenu à ces coordonnées."
        },
    )

    def __init__(self, *args, consent_text="", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent"].label = consent_text
        self._bound_fields_cache.pop("consent", None)

    def clean_email(self):
        return _clean_email(self.cleaned_data.get("email"))

    def clean(self):
        data = super().clean()
        data["phone"] = data.get("phone", "").strip()
        data["email"] = data.get("email", "").strip()
        if not data["phone"] and not data["email"] and "email" not in self.errors:
            self.add_error(
                "email",
                "Indiquez une adresse électronique ou un numéro de portable (au moins l'un des "
                "deux) pour être prévenu.",
            )
        return data


class CancelForm(DsfrFormMixin, forms.Form):
    reason_text = forms.CharField(
        label="Pourquoi annulez-vous ?",
        help_text="Facultatif : cela nous aide à améliorer le service. 300 caractères au plus.",
        required=False,
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
