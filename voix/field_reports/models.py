"""Field reports: what front-line people (agents, relay advisors) see and want known.

A :class:`FieldReport` is filed in a minute (what happened, theme, how many users are
affected, urgency, suggestion) for one organisation and, when it comes from a partner
relay, for that relay (``site``). The quality team triages it: accepted (it will become an
improvement action), merged into another report (a duplicate), or declined with a reason.
The reporter sees the outcome (``outcome_note``, the decline reason or the report it was
merged into). The free texts are blanked after the retention period (``texts_purged_at``);
the report itself stays for the counts.
"""

from django.conf import settings
from django.db import models

from voix.core.models import Organisation, Site

# The themes an organisation starts with (created on demand, editable later).
DEFAULT_THEMES = [
    "Accueil et orientation",
    "Délais de traitement des dossiers",
    "Pièces justificatives et démarches",
    "Courriers et notifications",
    "Services en ligne et application",
    "Téléphone et joignabilité",
    "Prestations et droits (compréhension, ruptures)",
    "Relations avec les partenaires",
    "Outils et moyens de travail",
    "Autre",
]


class Urgency(models.TextChoices):
    LOW = "faible", "Faible"
    MEDIUM = "moyenne", "Moyenne"
    HIGH = "forte", "Forte"


class Affected(models.TextChoices):
    ONE = "un", "Une personne"
    SOME = "quelques_uns", "Quelques-uns"
    MANY = "beaucoup", "Beaucoup"
    COUNT = "nombre", "Un nombre estimé"


class Status(models.TextChoices):
    NEW = "nouvelle", "Nouvelle"
    ACCEPTED = "acceptee", "Acceptée"
    MERGED = "fusionnee", "Fusionnée"
    DECLINED = "declinee", "Déclinée"


OPEN_STATUSES = (Status.NEW, Status.ACCEPTED)


class FieldReportTheme(models.Model):
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="field_report_themes"
    )
    label = models.CharField("thème", max_length=120)
    position = models.PositiveIntegerField("ordre", default=0)
    active = models.BooleanField("en usage", default=True)

    class Meta:
        verbose_name = "thème de remontée"
        ordering = ["position", "label"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "label"], name="field_report_theme_unique"
            )
        ]

    def __str__(self):
        return self.label


class FieldReport(models.Model):
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="field_reports")
    site = models.ForeignKey(
        Site,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="field_reports",
        verbose_name="site ou relais",
        help_text="Le relais partenaire pour une remontée d'un relais.",
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="field_reports",
        verbose_name="déposée par",
    )
    created_at = models.DateTimeField("déposée le", db_index=True)
    description = models.TextField("ce qui s'est passé", blank=True)
    theme = models.ForeignKey(
        FieldReportTheme, models.PROTECT, related_name="reports", verbose_name="thème"
    )
    users_affected = models.CharField("usagers concernés", max_length=20, choices=Affected.choices)
    users_affected_count = models.PositiveIntegerField(
        "nombre estimé d'usagers concernés", null=True, blank=True
    )
    urgency = models.CharField(
        "urgence", max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM
    )
    suggestion = models.TextField("suggestion", blank=True)
    status = models.CharField(
        "état", max_length=10, choices=Status.choices, default=Status.NEW, db_index=True
    )
    merged_into = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_reports",
        verbose_name="fusionnée avec",
    )
    decline_reason = models.TextField("motif du refus", blank=True)
    outcome_note = models.TextField("suite donnée (visible par l'auteur)", blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="triée par",
    )
    triaged_at = models.DateTimeField("triée le", null=True, blank=True)
    texts_purged_at = models.DateTimeField("textes effacés le", null=True, blank=True)

    class Meta:
        verbose_name = "remontée de terrain"
        verbose_name_plural = "remontées de terrain"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["organisation", "created_at"], name="field_report_org_time"),
        ]

    def __str__(self):
        return f"Remontée n° {self.pk} — {self.theme}"

    @property
    def number(self) -> str:
        return f"n° {self.pk}"

    def affected_display(self) -> str:
        if self.users_affected == Affected.COUNT and self.users_affected_count:
            return f"environ {self.users_affected_count}"
        return self.get_users_affected_display()
