"""Forms of the appointments configuration pages (manager / administrator of the
organisation): booking settings, reasons, advisors' opening slots, their exceptions and
absences. Each form checks what a person can get wrong and says it in French, on the
field concerned; the services check again (they are also called by the API)."""

import re

from django import forms
from django.utils import timezone

from voix.core.forms import DsfrFormMixin
from voix.core.models import Site, Weekday

from . import services
from .models import Absence, BookingSettings, Mode, OpeningSlot, Reason

MODE_FIELDS = {Mode.ON_SITE: "on_site", Mode.PHONE: "phone", Mode.VIDEO: "video"}
PLACEHOLDER = re.compile(r"{([^{}]*)}")
ALLOWED_PLACEHOLDERS = {"jeton", "reference"}
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def advisor_choices(organisation):
    """The people who may hold appointments (agents, managers, administrators)."""
    return services.possible_advisors(organisation)


def own_sites(organisation):
    """The organisation's own sites (its partner relays do not hold its appointments)."""
    return Site.objects.filter(organisation=organisation).own_sites().order_by("name")


class ModesField(forms.MultipleChoiceField):
    """The three booleans on_site / phone / video as one group of checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Modes proposés")
        super().__init__(choices=Mode.choices, **kwargs)
        self.error_messages["required"] = (
            "Cochez au moins un mode : sur place, par téléphone ou en visio."
        )


def modes_initial(instance) -> list[str]:
    return [mode for mode, name in MODE_FIELDS.items() if getattr(instance, name)]


def modes_to_fields(modes) -> dict:
    return {name: mode in modes for mode, name in MODE_FIELDS.items()}


class BookingSettingsForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = BookingSettings
        fields = [
            "video_link_template",
            "reminder_hours",
            "waitlist_max_notifications",
            "consent_text",
        ]
        widgets = {"consent_text": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["video_link_template"].help_text = (
            "L'adresse de chaque réunion en visio, où {jeton} est remplacé par un code unique "
            "et secret propre au rendez-vous, et {reference} (facultatif) par sa référence "
            "(RDV-…). Exemple : https://visio.exemple.fr/caf-{jeton}. Laissé vide : le modèle "
            "réglé sur le serveur (VIDEO_LINK_TEMPLATE)."
        )
        self.fields["reminder_hours"].help_text = (
            "Le rappel part ce nombre d'heures avant le rendez-vous (48 : deux jours avant), "
            "entre 1 et 336 heures (14 jours)."
        )
        self.fields["waitlist_max_notifications"].help_text = (
            "Combien de messages « un créneau s'est libéré » une personne inscrite reçoit au "
            "plus, entre 1 et 10."
        )
        self.fields["consent_text"].help_text = (
            "La phrase que la personne accepte en réservant en ligne, avant de donner son "
            "téléphone ou son adresse électronique."
        )

    def clean_video_link_template(self):
        value = self.cleaned_data["video_link_template"].strip()
        if not value:
            return value
        if not value.startswith("https://"):
            raise forms.ValidationError(
                "L'adresse de visio commence par https:// (ex. https://visio.exemple.fr/{jeton})."
            )
        names = PLACEHOLDER.findall(value)
        unknown = sorted(set(names) - ALLOWED_PLACEHOLDERS)
        if unknown:
            raise forms.ValidationError(
                f"Variable inconnue : {{{unknown[0]}}}. Seules {{jeton}} et {{reference}} sont "
                "remplacées."
            )
        if "jeton" not in names:
            raise forms.ValidationError(
                "Ajoutez {jeton} à l'adresse : chaque rendez-vous a ainsi sa propre réunion, "
                "que personne ne peut deviner."
            )
        if value.count("{") != value.count("}"):
            raise forms.ValidationError("Une accolade { ou } n'est pas refermée.")
        return value

    def clean_reminder_hours(self):
        value = self.cleaned_data["reminder_hours"]
        if not 1 <= value <= 336:
            raise forms.ValidationError("Indiquez un délai de rappel entre 1 et 336 heures.")
        return value

    def clean_waitlist_max_notifications(self):
        value = self.cleaned_data["waitlist_max_notifications"]
        if not 1 <= value <= 10:
            raise forms.ValidationError("Indiquez un nombre de messages entre 1 et 10.")
        return value

    def clean_consent_text(self):
        value = self.cleaned_data["consent_text"].strip()
        if len(value) < 20:
            raise forms.ValidationError(
                "Le texte du consentement est trop court : dites à quoi servent les coordonnées "
                "et combien de temps elles sont gardées."
            )
        return value


class ReasonForm(DsfrFormMixin, forms.ModelForm):
    modes = ModesField(
        help_text="Comment le rendez-vous peut avoir lieu ; l'usager choisit parmi ces modes."
    )

    class Meta:
        model = Reason
        fields = [
            "label",
            "description",
            "duration_minutes",
            "modes",
            "audience",
            "min_notice_hours",
            "max_horizon_days",
            "sites",
            "queue_label",
            "position",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "sites": forms.CheckboxSelectMultiple,
            "audience": forms.RadioSelect,
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["sites"].queryset = own_sites(organisation)
        self.fields["sites"].required = True
        self.fields["sites"].error_messages["required"] = (
            "Cochez au moins un site où ce motif est proposé."
        )
        self.fields["sites"].help_text = "Les sites de l'organisme (pas les relais partenaires)."
        self.fields["min_notice_hours"].help_text = (
            "Un usager ou un relais ne peut pas réserver moins de … heures avant (les agents le "
            "peuvent). 0 : jusqu'au dernier moment."
        )
        self.fields["max_horizon_days"].help_text = "Entre 1 et 365 jours."
        self.fields["position"].help_text = "Les motifs sont présentés du plus petit au plus grand."
        if self.instance.pk:
            self.initial["modes"] = modes_initial(self.instance)
        else:
            self.initial.setdefault("modes", [Mode.ON_SITE, Mode.PHONE])

    def clean_label(self):
        label = self.cleaned_data["label"].strip()
        taken = Reason.objects.filter(organisation=self.organisation, label__iexact=label)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"Un motif s'appelle déjà « {label} » dans cet organisme.")
        return label

    def clean_duration_minutes(self):
        value = self.cleaned_data["duration_minutes"]
        if not 5 <= value <= 240:
            raise forms.ValidationError("La durée va de 5 à 240 minutes.")
        if value % 5:
            raise forms.ValidationError(
                f"La durée doit être un multiple de 5 minutes ({value} n'en est pas un : "
                f"essayez {max(5, value - value % 5)} ou {value - value % 5 + 5})."
            )
        return value

    def clean_max_horizon_days(self):
        value = self.cleaned_data["max_horizon_days"]
        if not 1 <= value <= 365:
            raise forms.ValidationError("L'horizon de réservation va de 1 à 365 jours.")
        return value

    def clean_min_notice_hours(self):
        value = self.cleaned_data["min_notice_hours"]
        if value > 24 * 60:
            raise forms.ValidationError("Le délai minimal ne dépasse pas 1 440 heures (60 jours).")
        return value

    def clean(self):
        data = super().clean()
        notice, horizon = data.get("min_notice_hours"), data.get("max_horizon_days")
        if notice is not None and horizon is not None and notice >= horizon * 24:
            self.add_error(
                "min_notice_hours",
                "Le délai minimal doit être plus court que l'horizon de réservation : sinon "
                "aucun créneau n'est jamais réservable.",
            )
        return data

    def service_fields(self) -> dict:
        """The keyword arguments of services.save_reason (sites apart)."""
        data = self.cleaned_data
        fields = {
            name: data[name]
            for name in (
                "label",
                "description",
                "duration_minutes",
                "audience",
                "min_notice_hours",
                "max_horizon_days",
                "queue_label",
                "position",
                "is_active",
            )
        }
        fields.update(modes_to_fields(data["modes"]))
        return fields


class OpeningSlotForm(DsfrFormMixin, forms.ModelForm):
    modes = ModesField(help_text="Les modes possibles pendant cette plage.")

    class Meta:
        model = OpeningSlot
        fields = [
            "advisor",
            "site",
            "weekday",
            "starts",
            "ends",
            "reasons",
            "modes",
            "valid_from",
            "valid_until",
        ]
        widgets = {
            "starts": TIME_WIDGET,
            "ends": TIME_WIDGET,
            "valid_from": DATE_WIDGET,
            "valid_until": DATE_WIDGET,
            "reasons": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields["advisor"].queryset = advisor_choices(organisation)
        self.fields["advisor"].help_text = "Un agent, manager ou administrateur de l'organisme."
        self.fields["site"].queryset = own_sites(organisation)
        self.fields["reasons"].queryset = Reason.objects.filter(organisation=organisation)
        self.fields["starts"].help_text = "Format 09:00."
        self.fields[
            "ends"
        ].help_text = "Format 12:00 ; la dernière réservation finit à cette heure."
        self.fields["valid_from"].help_text = "Format jj/mm/aaaa."
        self.fields["valid_until"].help_text = "Vide : sans date de fin."
        if self.instance.pk:
            self.initial["modes"] = modes_initial(self.instance)
        else:
            self.initial.setdefault("modes", [m for m, _ in Mode.choices])
            self.initial.setdefault("valid_from", timezone.localdate())

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts"), data.get("ends")
        if starts and ends:
            if ends <= starts:
                self.add_error(
                    "ends",
                    f"L'heure de fin ({ends:%H:%M}) doit être après l'heure de début "
                    f"({starts:%H:%M}).",
                )
            elif (ends.hour * 60 + ends.minute - starts.hour * 60 - starts.minute) < 5:
                self.add_error("ends", "Une plage dure au moins 5 minutes.")
            for name, value in (("starts", starts), ("ends", ends)):
                if value.minute % 5 or value.second:
                    self.add_error(
                        name, "Choisissez une heure ronde à 5 minutes près (ex. 09:00, 13:35)."
                    )
        start_day, end_day = data.get("valid_from"), data.get("valid_until")
        if start_day and end_day and end_day < start_day:
            self.add_error(
                "valid_until",
                f"La date de fin ({end_day:%d/%m/%Y}) est avant la date de début "
                f"({start_day:%d/%m/%Y}).",
            )
        return data

    def service_fields(self) -> dict:
        """The keyword arguments of services.save_opening_slot (advisor, site, reasons apart)."""
        data = self.cleaned_data
        fields = {
            name: data[name] for name in ("weekday", "starts", "ends", "valid_from", "valid_until")
        }
        fields.update(modes_to_fields(data["modes"]))
        return fields


class SlotExceptionForm(DsfrFormMixin, forms.Form):
    day = forms.DateField(label="Jour sans cette plage", widget=DATE_WIDGET)
    label = forms.CharField(
        label="Motif (facultatif)",
        max_length=200,
        required=False,
        help_text="Ex. formation, réunion d'équipe. Visible des agents seulement.",
    )

    def __init__(self, *args, slot, **kwargs):
        super().__init__(*args, **kwargs)
        self.slot = slot
        self.fields[
            "day"
        ].help_text = (
            f"Un {slot.get_weekday_display().lower()} (jour de cette plage), format jj/mm/aaaa."
        )

    def clean_day(self):
        day = self.cleaned_data["day"]
        if day.weekday() != self.slot.weekday:
            raise forms.ValidationError(
                f"Le {day:%d/%m/%Y} est un {Weekday(day.weekday()).label.lower()} : cette plage a "
                f"lieu le {self.slot.get_weekday_display().lower()}."
            )
        if day < self.slot.valid_from or (self.slot.valid_until and day > self.slot.valid_until):
            raise forms.ValidationError(
                f"Le {day:%d/%m/%Y} est hors de la période de validité de cette plage."
            )
        if day < timezone.localdate():
            raise forms.ValidationError(f"Le {day:%d/%m/%Y} est déjà passé.")
        if self.slot.exceptions.filter(day=day).exists():
            raise forms.ValidationError(f"Le {day:%d/%m/%Y} est déjà une exception de cette plage.")
        return day


class AbsenceForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Absence
        fields = ["advisor", "starts_at", "ends_at", "label"]
        widgets = {"starts_at": DATETIME_WIDGET, "ends_at": DATETIME_WIDGET}

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = advisor_choices(organisation)
        self.fields["starts_at"].label = "Absent à partir du"
        self.fields["ends_at"].label = "Jusqu'au"
        self.fields["starts_at"].help_text = "Date et heure, ex. 12/03/2027 08:00."
        self.fields["ends_at"].help_text = "Date et heure de retour, ex. 14/03/2027 18:00."
        self.fields["label"].help_text = "Ex. congés, formation. Visible des agents seulement."

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error(
                "ends_at",
                f"La fin ({timezone.localtime(ends):%d/%m/%Y %H:%M}) doit être après le début "
                f"({timezone.localtime(starts):%d/%m/%Y %H:%M}).",
            )
        return data
