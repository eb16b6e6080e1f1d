"""Forms of the agents' pages (agenda, booking for someone, moving, cancelling), DSFR.

The slot pickers are not form fields rendered by Django: each page lists the free slots
as radio buttons named ``creneau`` whose value is the slot's start (ISO 8601 with its
offset); the forms below only parse that value, and the engine decides whether it is
still free (``services.book`` / ``services.move``).
"""

from datetime import datetime

from django import forms
from django.utils import timezone

from voix.core.forms import DsfrFormMixin
from voix.core.models import Site, User

from .models import Mode, Reason, Status

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name or obj.email


class SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def parse_slot(value: str) -> datetime:
    """The start of a slot picked in a list (ISO 8601), as an aware datetime."""
    try:
        starts_at = datetime.fromisoformat((value or "").strip())
    except ValueError as exc:
        raise forms.ValidationError(
            "Ce créneau n'est pas valide : choisissez-en un dans la liste.", code="invalid"
        ) from exc
    if timezone.is_naive(starts_at):
        starts_at = timezone.make_aware(starts_at)
    return starts_at


class AgendaForm(DsfrFormMixin, forms.Form):
    """The agenda's filters (GET): view, day, advisor, site."""

    vue = forms.ChoiceField(
        label="Affichage",
        choices=[("jour", "Jour"), ("semaine", "Semaine")],
        required=False,
        error_messages={"invalid_choice": "L'affichage doit être « jour » ou « semaine »."},
    )
    date = forms.DateField(
        label="Date",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput,
        error_messages={"invalid": "La date doit être au format JJ/MM/AAAA (ex. 30/11/2026)."},
    )
    conseiller = PersonChoiceField(
        label="Conseiller",
        queryset=User.objects.none(),
        required=False,
        empty_label="Tous les conseillers",
        error_messages={
            "invalid_choice": "Ce conseiller n'est pas dans la liste : choisissez-en un autre."
        },
    )
    site = SiteChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        required=False,
        empty_label="Tous les sites",
        error_messages={
            "invalid_choice": "Ce site n'est pas dans la liste : choisissez-en un autre."
        },
    )

    def __init__(self, *args, advisors=None, sites=None, **kwargs):
        super().__init__(*args, **kwargs)
        if advisors is not None:
            self.fields["conseiller"].queryset = advisors
        if sites is not None:
            self.fields["site"].queryset = sites


class SlotSearchForm(DsfrFormMixin, forms.Form):
    """Booking for someone, first step (GET): which reason, where, how, from when."""

    motif = forms.ModelChoiceField(
        label="Motif",
        queryset=Reason.objects.none(),
        empty_label="Choisissez un motif",
        error_messages={
            "required": "Choisissez le motif du rendez-vous.",
            "invalid_choice": "Ce motif n'est pas proposé : choisissez-en un autre.",
        },
    )
    site = SiteChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        empty_label="Choisissez un site",
        error_messages={
            "required": "Choisissez le site du rendez-vous.",
            "invalid_choice": "Ce site n'est pas dans la liste : choisissez-en un autre.",
        },
    )
    mode = forms.ChoiceField(
        label="Mode",
        choices=Mode.choices,
        error_messages={
            "required": "Choisissez le mode : sur place, par téléphone ou en visio.",
            "invalid_choice": "Ce mode n'existe pas : sur place, par téléphone ou en visio.",
        },
    )
    conseiller = PersonChoiceField(
        label="Avec le conseiller",
        queryset=User.objects.none(),
        required=False,
        empty_label="Le premier conseiller libre",
        error_messages={
            "invalid_choice": "Ce conseiller n'est pas dans la liste : choisissez-en un autre."
        },
    )
    date = forms.DateField(
        label="À partir du",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput,
        error_messages={"invalid": "La date doit être au format JJ/MM/AAAA (ex. 30/11/2026)."},
    )

    def __init__(self, *args, reasons=None, sites=None, advisors=None, **kwargs):
        super().__init__(*args, **kwargs)
        if reasons is not None:
            self.fields["motif"].queryset = reasons
        if sites is not None:
            self.fields["site"].queryset = sites
        if advisors is not None:
            self.fields["conseiller"].queryset = advisors

    def clean(self):
        data = super().clean()
        reason, site, mode = data.get("motif"), data.get("site"), data.get("mode")
        if reason and site and not reason.sites.filter(pk=site.pk).exists():
            offered = ", ".join(s.name for s in reason.sites.filter(is_active=True)) or "aucun"
            self.add_error(
                "site",
                f"Le motif « {reason} » n'est pas proposé sur le site « {site.name} » "
                f"(sites qui le proposent : {offered}).",
            )
        if reason and mode and mode not in reason.modes():
            allowed = ", ".join(Mode(m).label.lower() for m in reason.modes()) or "aucun"
            self.add_error(
                "mode",
                f"Le motif « {reason} » ne se tient pas « {Mode(mode).label.lower()} » "
                f"(modes possibles : {allowed}).",
            )
        return data


class PersonFields(forms.Form):
    """Who the appointment is for (the agent types what the person says)."""

    full_name = forms.CharField(
        label="Nom et prénom",
        max_length=150,
        error_messages={"required": "Indiquez le nom et le prénom de la personne."},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label="Téléphone",
        help_text="Obligatoire pour un rendez-vous par téléphone. Ex. 06 12 34 56 78.",
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    email = forms.EmailField(
        label="Courriel",
        help_text="Pour envoyer la confirmation et le rappel. Ex. nom@exemple.fr.",
        required=False,
        error_messages={"invalid": "Le courriel n'est pas valide (ex. nom@exemple.fr)."},
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    note = forms.CharField(
        label="Note",
        help_text="Ce qui aidera le conseiller à préparer le rendez-vous.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class BookingForm(DsfrFormMixin, PersonFields):
    """Booking for someone, second step (POST): the slot picked and the person."""

    creneau = forms.CharField(
        label="Créneau",
        error_messages={"required": "Choisissez un créneau dans la liste."},
        widget=forms.HiddenInput,
    )
    field_order = ["creneau", "full_name", "phone", "email", "note"]

    def clean_creneau(self):
        return parse_slot(self.cleaned_data["creneau"])


class MoveForm(DsfrFormMixin, forms.Form):
    """Moving an appointment: a free slot from the list, or a date and a time typed in."""

    creneau = forms.CharField(label="Créneau", required=False, widget=forms.HiddenInput)
    jour = forms.DateField(
        label="Jour",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput,
        error_messages={"invalid": "Le jour doit être au format JJ/MM/AAAA (ex. 30/11/2026)."},
    )
    heure = forms.TimeField(
        label="Heure",
        required=False,
        widget=TimeInput,
        error_messages={"invalid": "L'heure doit être au format HH:MM (ex. 09:40)."},
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("creneau"):
            data["starts_at"] = parse_slot(data["creneau"])
        elif data.get("jour") and data.get("heure"):
            data["starts_at"] = timezone.make_aware(datetime.combine(data["jour"], data["heure"]))
        elif data.get("jour"):
            self.add_error("heure", "Indiquez aussi l'heure du nouveau rendez-vous.")
        elif data.get("heure"):
            self.add_error("jour", "Indiquez aussi le jour du nouveau rendez-vous.")
        else:
            raise forms.ValidationError(
                "Choisissez un créneau dans la liste, ou indiquez un jour et une heure."
            )
        return data


class CancelForm(DsfrFormMixin, forms.Form):
    motif = forms.CharField(
        label="Motif de l'annulation",
        help_text="Il figure dans l'historique du rendez-vous (300 caractères au plus).",
        max_length=300,
        error_messages={
            "required": "Indiquez le motif de l'annulation.",
            "max_length": "Le motif est trop long : 300 caractères au plus.",
        },
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean_motif(self):
        text = self.cleaned_data["motif"].strip()
        if not text:
            raise forms.ValidationError("Indiquez le motif de l'annulation.")
        return text


STATUS_CHOICES = [
    (Status.HONOURED, "Honoré"),
    (Status.NO_SHOW, "Non venu"),
    (Status.EXCUSED, "Excusé"),
    (Status.PLANNED, "Prévu"),
]


class StatusForm(forms.Form):
    statut = forms.ChoiceField(
        choices=STATUS_CHOICES,
        error_messages={
            "required": "Choisissez le nouveau statut.",
            "invalid_choice": "Ce statut n'existe pas : honoré, non venu, excusé ou prévu.",
        },
    )


class MoveSearchForm(DsfrFormMixin, forms.Form):
    """Moving, first step (GET): where and how the new appointment takes place."""

    site = SiteChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        empty_label=None,
        error_messages={
            "required": "Choisissez le site du rendez-vous.",
            "invalid_choice": "Ce motif n'est pas proposé sur ce site : choisissez-en un autre.",
        },
    )
    mode = forms.ChoiceField(
        label="Mode",
        choices=[],
        error_messages={
            "required": "Choisissez le mode du rendez-vous.",
            "invalid_choice": "Ce motif ne se tient pas de cette façon : choisissez un autre mode.",
        },
    )
    date = forms.DateField(
        label="À partir du",
        required=False,
        input_formats=DATE_FORMATS,
        widget=DateInput,
        error_messages={"invalid": "La date doit être au format JJ/MM/AAAA (ex. 30/11/2026)."},
    )

    def __init__(self, *args, reason, sites, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites
        self.fields["mode"].choices = [(m, Mode(m).label) for m in reason.modes()]
