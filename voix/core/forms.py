"""Forms of the core pages, rendered with the State design system (DSFR)."""

from django import forms
from django.contrib.auth import forms as auth_forms
from dsfr.forms import DsfrBaseForm, DsfrBoundField
from dsfr.utils import dsfr_input_class_attr

from .models import Closure, Membership, Organisation, Role, Site, User, Weekday


def email_field(label: str, help_text: str, **kwargs) -> forms.CharField:
    """An optional e-mail address typed by a person (checked by the form or the service)."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=254,
        widget=forms.TextInput(
            attrs={"type": "email", "autocomplete": "email", "spellcheck": "false"}
        ),
        **kwargs,
    )


def phone_field(label: str, help_text: str, **kwargs) -> forms.CharField:
    """An optional phone number typed by a person (normalised by ``core.sms``)."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        **kwargs,
    )


class DsfrFormMixin:
    """Render any Django form with the DSFR field templates."""

    template_name = "dsfr/form_snippet.html"
    bound_field_class = DsfrBoundField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for visible in self.visible_fields():
            dsfr_input_class_attr(visible)


class LoginForm(DsfrFormMixin, auth_forms.AuthenticationForm):
    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé : adressez-vous à votre administrateur.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Adresse électronique"
        self.fields["username"].widget.attrs["autocomplete"] = "email"


class PasswordResetForm(DsfrFormMixin, auth_forms.PasswordResetForm):
    pass


class SetPasswordForm(DsfrFormMixin, auth_forms.SetPasswordForm):
    pass


class PasswordChangeForm(DsfrFormMixin, auth_forms.PasswordChangeForm):
    pass


class OrganisationForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "slug",
            "kind",
            "parent",
            "departement",
            "phone",
            "website",
            "description",
            "is_public",
        ]

    def __init__(self, *args, parents=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = (
            parents if parents is not None else Organisation.objects.none()
        )
        if self.instance.pk:
            self.fields["parent"].queryset = self.fields["parent"].queryset.exclude(
                pk__in=self.instance.descendant_ids()
            )


class SiteForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Site
        fields = [
            "name",
            "slug",
            "kind",
            "address",
            "postcode",
            "commune",
            "insee_code",
            "phone",
            "email",
            "access_info",
            "accessibility",
            "is_active",
        ]
        widgets = {
            "access_info": forms.Textarea(attrs={"rows": 3}),
            "accessibility": forms.Textarea(attrs={"rows": 3}),
        }


class OpeningHoursForm(DsfrBaseForm):
    """Two intervals per weekday (morning, afternoon), each optional."""

    PERIODS = (("matin", "matin"), ("apresmidi", "après-midi"))

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        for day in Weekday:
            for key, label in self.PERIODS:
                for edge, edge_label in (("debut", "ouverture"), ("fin", "fermeture")):
                    name = f"{day.name.lower()}_{key}_{edge}"
                    self.fields[name] = forms.TimeField(
                        label=f"{day.label.capitalize()}, {label} : {edge_label}",
                        required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                    )
                    dsfr_input_class_attr(self[name])
        if site is not None and not self.is_bound:
            slots: dict[int, list] = {}
            for slot in site.opening_hours.all():
                slots.setdefault(slot.weekday, []).append(slot)
            for day, day_slots in slots.items():
                for (key, _label), slot in zip(self.PERIODS, day_slots, strict=False):
                    prefix = f"{Weekday(day).name.lower()}_{key}"
                    self.initial[f"{prefix}_debut"] = slot.opens
                    self.initial[f"{prefix}_fin"] = slot.closes

    def rows(self):
        """Fields grouped by weekday, for a table layout."""
        return [
            (
                day.label.capitalize(),
                [
                    self[f"{day.name.lower()}_{key}_{edge}"]
                    for key, _ in self.PERIODS
                    for edge in ("debut", "fin")
                ],
            )
            for day in Weekday
        ]

    def clean(self):
        data = super().clean()
        intervals = []
        for day in Weekday:
            for key, label in self.PERIODS:
                prefix = f"{day.name.lower()}_{key}"
                opens, closes = data.get(f"{prefix}_debut"), data.get(f"{prefix}_fin")
                if opens and closes:
                    intervals.append((day.value, opens, closes))
                elif opens or closes:
                    self.add_error(
                        f"{prefix}_fin" if opens else f"{prefix}_debut",
                        f"Le {day.label} {label}, indiquez l'heure d'ouverture "
                        "et l'heure de fermeture.",
                    )
        data["intervals"] = intervals
        return data


class ClosureForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["site", "start_date", "end_date", "label"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = (
            organisation.sites.all() if organisation else Site.objects.none()
        )
        self.fields["site"].empty_label = "Tout l'organisme"
        self.fields["site"].help_text = "Laissez « Tout l'organisme » pour une fermeture générale."

    def clean(self):
        data = super().clean()
        if (
            data.get("start_date")
            and data.get("end_date")
            and data["end_date"] < data["start_date"]
        ):
            self.add_error("end_date", "La date de fin doit suivre la date de début.")
        return data


class PersonForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "email", "is_active"]


def check_role_site(form, data):
    """A site must belong to the organisation; a partner needs a relay site."""
    organisation, site = data.get("organisation"), data.get("site")
    if site and organisation and site.organisation_id != organisation.pk:
        form.add_error("site", "Ce site n'appartient pas à cet organisme.")
    if data.get("role") == Role.PARTENAIRE and not site:
        form.add_error("site", "Choisissez le relais de ce conseiller.")
    elif data.get("role") == Role.PARTENAIRE and site and not site.is_relay:
        form.add_error("site", "Un conseiller de relais est rattaché à un relais partenaire.")
    return data


class MembershipForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["organisation", "role", "site"]

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = organisations if organisations is not None else Organisation.objects.none()
        self.fields["organisation"].queryset = organisations
        self.fields["site"].queryset = Site.objects.filter(organisation__in=organisations)
        self.fields["site"].required = False
        self.fields[
            "site"
        ].help_text = (
            "Obligatoire pour un conseiller de relais partenaire (son relais) ; facultatif sinon."
        )
        self.fields["role"].choices = Role.choices

    def clean(self):
        return check_role_site(self, super().clean())


class NewPersonForm(PersonForm):
    """A new account comes with its first role, so that nobody is created out of scope."""

    organisation = forms.ModelChoiceField(label="Organisme", queryset=Organisation.objects.none())
    role = forms.ChoiceField(label="Rôle", choices=Role.choices)
    site = forms.ModelChoiceField(
        label="Site",
        queryset=Site.objects.none(),
        required=False,
        help_text="Obligatoire pour un conseiller de relais partenaire (son relais).",
    )

    class Meta(PersonForm.Meta):
        fields = ["full_name", "email"]

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        organisations = organisations if organisations is not None else Organisation.objects.none()
        self.fields["organisation"].queryset = organisations
        self.fields["site"].queryset = Site.objects.filter(organisation__in=organisations)
        for name in ("organisation", "role", "site"):
            dsfr_input_class_attr(self[name])

    def clean(self):
        return check_role_site(self, super().clean())
