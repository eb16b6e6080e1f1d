"""Forms of the reception pages (DSFR)."""

from django import forms

from voix.core.forms import DsfrFormMixin

from .models import Counter, Queue, SiteReception


class KioskForm(forms.Form):
    """The kiosk: a reason (one big button each) and an optional mobile number."""

    phone = forms.CharField(
        label="Votre numéro de portable (facultatif)",
        help_text="Pour recevoir un SMS quand votre tour approche. Effacé le soir même.",
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "off", "class": "fr-input"}
        ),
    )
    motif = forms.IntegerField(widget=forms.HiddenInput)


class QueueForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Queue
        fields = ["label", "letter", "position", "is_active"]


class CounterForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = Counter
        fields = ["label", "kind", "queues", "position", "is_active"]
        widgets = {"queues": forms.CheckboxSelectMultiple}

    def __init__(self, *args, site=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queues"].queryset = site.queues.all() if site else Queue.objects.none()
        self.fields["queues"].required = False


class ReceptionSettingsForm(DsfrFormMixin, forms.ModelForm):
    class Meta:
        model = SiteReception
        fields = ["sms_enabled", "sms_ahead"]


class TransferForm(DsfrFormMixin, forms.Form):
    queue = forms.ModelChoiceField(
        label="Vers le motif",
        queryset=Queue.objects.none(),
        required=False,
        empty_label="(même motif)",
    )
    counter = forms.ModelChoiceField(
        label="Vers le guichet",
        queryset=Counter.objects.none(),
        required=False,
        empty_label="(le premier guichet libre)",
    )

    def __init__(self, *args, counter=None, **kwargs):
        super().__init__(*args, **kwargs)
        if counter is not None:
            self.fields["queue"].queryset = counter.site.queues.filter(is_active=True)
            self.fields["counter"].queryset = counter.site.counters.filter(is_active=True).exclude(
                pk=counter.pk
            )

    def clean(self):
        data = super().clean()
        if not data.get("queue") and not data.get("counter"):
            raise forms.ValidationError(
                "Choisissez le motif ou le guichet vers lequel transférer la personne."
            )
        return data
