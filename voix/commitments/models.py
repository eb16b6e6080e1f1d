"""Référentiels, commitments, indicators, targets, measurements and publications."""

from decimal import Decimal

from django.db import models
from django.db.models import Q

from voix.core.models import Organisation, Site, User

from . import periods


class Framework(models.Model):
    """A référentiel: Services Publics+ 2023, Marianne 2016, or an organisation's own.

    Shipped frameworks have no organisation (they are national templates); an
    organisation's local commitments live in a framework of its own.
    """

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.CASCADE, related_name="frameworks"
    )
    code = models.SlugField("code", max_length=60)
    name = models.CharField("nom", max_length=200)
    version = models.CharField("version", max_length=40, blank=True)
    source = models.CharField("source", max_length=300, blank=True)
    description = models.TextField("présentation", blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "référentiel"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"],
                condition=Q(organisation__isnull=False),
                name="framework_code_unique_in_organisation",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organisation__isnull=True),
                name="framework_code_unique",
            ),
        ]

    def __str__(self):
        return self.name


class CommitmentGroup(models.Model):
    """A heading of the framework (« Un service public plus proche », a Marianne rubrique)."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="groups")
    position = models.PositiveSmallIntegerField("ordre")
    title = models.CharField("intitulé", max_length=300)

    class Meta:
        ordering = ["framework", "position"]
        verbose_name = "groupe d'engagements"

    def __str__(self):
        return self.title


class Commitment(models.Model):
    """An engagement, in its public wording."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="commitments")
    group = models.ForeignKey(
        CommitmentGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="commitments",
    )
    number = models.CharField("numéro", max_length=10)
    position = models.PositiveSmallIntegerField("ordre")
    wording = models.TextField("formulation publique", blank=True)
    to_confirm = models.BooleanField(
        "formulation à confirmer",
        default=False,
        help_text="La formulation officielle n'a pas été vérifiée : à relire avant publication.",
    )

    class Meta:
        ordering = ["framework", "position"]
        verbose_name = "engagement"
        constraints = [
            models.UniqueConstraint(fields=["framework", "number"], name="commitment_number_unique")
        ]

    def __str__(self):
        return f"{self.number}. {self.wording or '(formulation à saisir)'}"


class Criterion(models.Model):
    """A requirement under a commitment."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="criteria")
    position = models.PositiveSmallIntegerField("ordre")
    text = models.TextField("critère")

    class Meta:
        ordering = ["commitment", "position"]
        verbose_name = "critère"

    def __str__(self):
        return self.text


class Unit(models.TextChoices):
    PERCENT = "percent", "%"
    MINUTES = "minutes", "minutes"
    WORKING_DAYS = "working_days", "jours ouvrés"
    SCORE10 = "score10", "note sur 10"
    COUNT = "count", "nombre"


class Direction(models.TextChoices):
    HIGHER = "higher", "plus haut, c'est mieux"
    LOWER = "lower", "plus bas, c'est mieux"


class Computation(models.TextChoices):
    SHARE_WITHIN = "share_within", "part dans un délai"
    RATIO = "ratio", "rapport de deux comptes"
    MEAN = "mean", "moyenne"
    PERCENTILE = "percentile", "centile"
    COUNT = "count", "nombre"


class Indicator(models.Model):
    """A catalogue entry: what is measured, how, and how it is judged."""

    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="indicators",
        help_text="Vide pour un indicateur standard du catalogue national.",
    )
    code = models.SlugField("code", max_length=60)
    label = models.CharField("libellé", max_length=200)
    definition = models.TextField("définition en langage clair")
    unit = models.CharField("unité", max_length=20, choices=Unit.choices)
    direction = models.CharField("sens", max_length=10, choices=Direction.choices)
    computation = models.CharField("calcul", max_length=20, choices=Computation.choices)
    source = models.CharField(
        "source des données",
        max_length=60,
        default="manual",
        help_text="Clé d'une source du registre (calcul automatique), ou « manual ».",
    )
    green_threshold = models.DecimalField("seuil vert", max_digits=10, decimal_places=2)
    amber_threshold = models.DecimalField("seuil orange", max_digits=10, decimal_places=2)
    min_sample = models.PositiveIntegerField(
        "échantillon minimal", default=0, help_text="En dessous, aucun résultat n'est affiché."
    )
    commitments = models.ManyToManyField(Commitment, blank=True, related_name="indicators")

    class Meta:
        ordering = ["label"]
        verbose_name = "indicateur"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"],
                condition=Q(organisation__isnull=False),
                name="indicator_code_unique_in_organisation",
            ),
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(organisation__isnull=True),
                name="indicator_code_unique",
            ),
        ]

    def __str__(self):
        return self.label

    def is_better(self, value: Decimal, than: Decimal) -> bool:
        """Is *value* at least as good as *than* in this indicator's direction?"""
        return value >= than if self.direction == Direction.HIGHER else value <= than

    def colour(self, value: Decimal | None) -> str:
        """« vert », « orange » or « rouge » against the thresholds ("" without a value)."""
        if value is None:
            return ""
        if self.is_better(value, self.green_threshold):
            return "vert"
        if self.is_better(value, self.amber_threshold):
            return "orange"
        return "rouge"


class PeriodKind(models.TextChoices):
    DAY = "day", "jour"
    MONTH = "month", "mois"
    QUARTER = "quarter", "trimestre"
    YEAR = "year", "année"


class TargetQuerySet(models.QuerySet):
    def in_force(self, indicator, organisation, site=None, on=None):
        """The target that applies on date *on*: the site's own if any, else the organisation's."""
        rows = self.filter(indicator=indicator, organisation=organisation)
        if on is not None:
            rows = rows.filter(valid_from__lte=on)
        rows = rows.filter(Q(site=site) | Q(site__isnull=True)) if site else rows.filter(site=None)
        # Site-specific first (nulls last), then the most recent.
        return rows.order_by(models.F("site").asc(nulls_last=True), "-valid_from").first()


class Target(models.Model):
    """The value an organisation (or one of its sites) commits to, from a date on."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="targets")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    valid_from = models.DateField("à partir du")
    value = models.DecimalField("cible", max_digits=10, decimal_places=2)

    objects = TargetQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "-valid_from"]
        verbose_name = "cible"

    def __str__(self):
        return f"{self.indicator} : {self.value}"


class Provenance(models.TextChoices):
    COMPUTED = "computed", "calculé par Voix"
    MANUAL = "manual", "saisi à la main"
    IMPORTED = "imported", "importé"


class Measurement(models.Model):
    """One value of an indicator for a period and a scope (organisation, site, channel)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="measurements")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField("canal", max_length=30, blank=True)
    period_kind = models.CharField("période", max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField("début de la période")
    numerator = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    denominator = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    value = models.DecimalField("valeur", max_digits=10, decimal_places=2)
    sample = models.PositiveIntegerField("effectif", default=0)
    provenance = models.CharField(max_length=10, choices=Provenance.choices)
    source_ref = models.CharField("référence de la source", max_length=200, blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period_start"]
        verbose_name = "mesure"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "indicator",
                    "organisation",
                    "site",
                    "channel",
                    "period_kind",
                    "period_start",
                ],
                condition=Q(site__isnull=False),
                name="measurement_unique_on_site",
            ),
            models.UniqueConstraint(
                fields=["indicator", "organisation", "channel", "period_kind", "period_start"],
                condition=Q(site__isnull=True),
                name="measurement_unique_in_organisation",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "period_kind", "period_start"])]

    def __str__(self):
        return f"{self.indicator} {self.period_start:%Y-%m} = {self.value}"

    @property
    def significant(self) -> bool:
        return self.sample >= self.indicator.min_sample


class Publication(models.Model):
    """A deliberate act of the quality lead: these results, for this period, are public.

    Published results are a snapshot (PublishedResult): the public page, the poster and
    the open-data export all read the snapshot, so they always show the same figures.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "brouillon"
        PUBLISHED = "published", "publié"
        WITHDRAWN = "withdrawn", "retiré"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="publications"
    )
    period_kind = models.CharField("période", max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField("début de la période")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    data_date = models.DateField("date des données", null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField("mot d'accompagnement", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "-created_at"]
        verbose_name = "publication"

    def __str__(self):
        return f"{self.organisation} — {periods.label(self.period_kind, self.period_start)}"


class PublishedResult(models.Model):
    """One figure of a publication, frozen when it was published."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="results")
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    value = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    sample = models.PositiveIntegerField(default=0)
    significant = models.BooleanField(default=True)
    target = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    colour = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["publication", "site", "indicator__label"]
        verbose_name = "résultat publié"

    def __str__(self):
        return f"{self.indicator} : {self.value}"


class TargetCrossing(models.Model):
    """Whether a scope is currently below its target, so the quality lead is told once per
    crossing (not at every recomputation)."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=30, blank=True)
    below = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)
    last_value = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    last_period_start = models.DateField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "organisation", "site", "channel"],
                condition=Q(site__isnull=False),
                name="crossing_unique_on_site",
            ),
            models.UniqueConstraint(
                fields=["indicator", "organisation", "channel"],
                condition=Q(site__isnull=True),
                name="crossing_unique_in_organisation",
            ),
        ]

    def __str__(self):
        return f"{self.indicator} {'sous' if self.below else 'au-dessus de'} la cible"


class Notice(models.Model):
    """An in-application message for a person (e.g. « indicator below its target »)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notices")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "message"

    def __str__(self):
        return self.text


class ApiToken(models.Model):
    """A read-only key to the API, held by one person and limited to what that person sees.

    Only the SHA-256 of the key is stored: the key itself is shown once, when created.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("nom", max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField("début de la clé", max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField("révoquée le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "jeton d'API"

    def __str__(self):
        return f"{self.prefix}… ({self.user})"
