"""Organisations, sites, people and memberships, opening hours, closures, audit log."""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from . import workdays


class OrganisationKind(models.TextChoices):
    NETWORK = "reseau", "Réseau"
    BODY = "organisme", "Organisme"


class Organisation(models.Model):
    """A network (« Branche Famille ») or a body (« Caf de la Mayenne »); hierarchical."""

    name = models.CharField("nom", max_length=200)
    slug = models.SlugField("identifiant d'adresse", max_length=80, unique=True)
    kind = models.CharField("type", max_length=20, choices=OrganisationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="réseau parent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    departement = models.CharField(
        "département",
        max_length=3,
        blank=True,
        help_text="Code du département (ex. 53, 57, 974) : fixe les jours fériés applicables.",
    )
    website = models.URLField("site internet", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    description = models.TextField("présentation", blank=True)
    is_public = models.BooleanField("page publique visible", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "organisme"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:organisation_public", args=[self.slug])

    def descendant_ids(self) -> set[int]:
        """Ids of this organisation and every organisation below it."""
        found, frontier = {self.pk}, {self.pk}
        while frontier:
            frontier = (
                set(
                    Organisation.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
                )
                - found
            )
            found |= frontier
        return found

    def ancestors(self) -> list["Organisation"]:
        chain, node = [], self.parent
        while node is not None:
            chain.append(node)
            node = node.parent
        return chain

    def closure_dates(self) -> frozenset:
        return frozenset(
            day for closure in self.closures.filter(site__isnull=True) for day in closure.days()
        )

    def calendar(self) -> workdays.WorkCalendar:
        """The organisation's working-day calendar (its département's holidays, its closures)."""
        return workdays.WorkCalendar(
            region=workdays.region_for_departement(self.departement or ""),
            closures=self.closure_dates(),
        )


class SiteKind(models.TextChoices):
    HEADQUARTERS = "siege", "Siège"
    AGENCY = "agence", "Agence"
    BRANCH = "antenne", "Antenne"
    PERMANENCE = "permanence", "Permanence"
    FRANCE_SERVICES = "france_services", "France Services"
    RELAY_POINT = "point_relais", "Point relais"
    DIGITAL_POINT = "point_numerique", "Point numérique"


RELAY_KINDS = {SiteKind.FRANCE_SERVICES, SiteKind.RELAY_POINT, SiteKind.DIGITAL_POINT}


class SiteQuerySet(models.QuerySet):
    def relays(self):
        return self.filter(kind__in=RELAY_KINDS)

    def own_sites(self):
        return self.exclude(kind__in=RELAY_KINDS)


class Site(models.Model):
    """A place that receives the public: the body's own sites and its partner relays."""

    organisation = models.ForeignKey(
        Organisation, verbose_name="organisme", on_delete=models.PROTECT, related_name="sites"
    )
    name = models.CharField("nom", max_length=200)
    slug = models.SlugField("identifiant d'adresse", max_length=80)
    kind = models.CharField("type de site", max_length=20, choices=SiteKind.choices)
    address = models.CharField("adresse", max_length=250)
    postcode = models.CharField("code postal", max_length=5)
    commune = models.CharField("commune", max_length=120)
    insee_code = models.CharField(
        "code INSEE de la commune",
        max_length=5,
        help_text="5 caractères, ex. 53130 pour Laval.",
    )
    phone = models.CharField("téléphone", max_length=30, blank=True)
    email = models.EmailField("courriel", blank=True)
    access_info = models.TextField(
        "comment venir", blank=True, help_text="Transports, stationnement, plan d'accès."
    )
    accessibility = models.TextField(
        "accessibilité",
        blank=True,
        help_text="Accès en fauteuil roulant, boucle magnétique, accueil en langue des signes…",
    )
    is_active = models.BooleanField("ouvert au public", default=True)
    latitude = models.FloatField(
        "latitude", null=True, blank=True, help_text="En degrés décimaux, ex. 48.0707."
    )
    longitude = models.FloatField(
        "longitude", null=True, blank=True, help_text="En degrés décimaux, ex. -0.7734."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = "site d'accueil"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="site_slug_unique"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("core:site_public", args=[self.organisation.slug, self.slug])

    @property
    def is_relay(self) -> bool:
        return self.kind in RELAY_KINDS

    def clean(self):
        errors = {}
        if self.insee_code and not (len(self.insee_code) == 5 and self.insee_code.isalnum()):
            errors["insee_code"] = "Le code INSEE compte 5 caractères (ex. 53130)."
        if self.postcode and not (len(self.postcode) == 5 and self.postcode.isdigit()):
            errors["postcode"] = "Le code postal compte 5 chiffres (ex. 53000)."
        if errors:
            raise ValidationError(errors)

    def weekly_hours(self) -> tuple:
        days = [[] for _ in range(7)]
        for slot in self.opening_hours.all():
            days[slot.weekday].append((slot.opens, slot.closes))
        return tuple(tuple(sorted(day)) for day in days)

    def hours_by_day(self) -> list[tuple[str, list[str]]]:
        """[(« Lundi », [« 08:30–12:00 », …]), …] for display; an empty list means closed."""
        days = [[] for _ in Weekday]
        for slot in self.opening_hours.all():
            days[slot.weekday].append(f"{slot.opens:%H:%M}–{slot.closes:%H:%M}")
        return [(Weekday(day).label.capitalize(), slots) for day, slots in enumerate(days)]

    def opening_summary(self) -> list[str]:
        """Open days grouped when their hours are the same: « Du lundi au mercredi : … »."""
        lines, run = [], []
        for day, (label, slots) in enumerate([*self.hours_by_day(), ("", None)]):
            if run and slots == run[-1][2] and day == run[-1][0] + 1:
                run.append((day, label, slots))
                continue
            if run:
                first, last, hours = run[0][1], run[-1][1].lower(), " et ".join(run[0][2])
                span = (
                    first
                    if len(run) == 1
                    else (
                        f"{first} et {last}" if len(run) == 2 else f"Du {first.lower()} au {last}"
                    )
                )
                lines.append(f"{span} : {hours}")
            run = [(day, label, slots)] if slots else []
        return lines

    def calendar(self) -> workdays.WorkCalendar:
        """The site's working-day calendar: holidays of its commune, closures, opening hours."""
        closures = self.organisation.closure_dates() | frozenset(
            day for closure in self.closures.all() for day in closure.days()
        )
        return workdays.WorkCalendar(
            region=workdays.region_for_insee(self.insee_code),
            closures=closures,
            hours=self.weekly_hours(),
        )


class Commune(models.Model):
    """A gazetteer row (loaded with `manage.py load_communes`): where a commune lies, so a
    user typing their commune or postcode sees the nearest sites first."""

    insee_code = models.CharField("code INSEE", max_length=5, unique=True)
    name = models.CharField("nom", max_length=120)
    search_name = models.CharField(max_length=120, db_index=True)
    postcode = models.CharField("code postal", max_length=5, db_index=True)
    latitude = models.FloatField()
    longitude = models.FloatField()

    class Meta:
        ordering = ["name"]
        verbose_name = "commune"

    def __str__(self):
        return f"{self.name} ({self.postcode})"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "lundi"
    TUESDAY = 1, "mardi"
    WEDNESDAY = 2, "mercredi"
    THURSDAY = 3, "jeudi"
    FRIDAY = 4, "vendredi"
    SATURDAY = 5, "samedi"
    SUNDAY = 6, "dimanche"


class OpeningHours(models.Model):
    """One opening interval of a site on a weekday (a day may have a morning and an afternoon)."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_hours")
    weekday = models.PositiveSmallIntegerField("jour", choices=Weekday.choices)
    opens = models.TimeField("ouverture")
    closes = models.TimeField("fermeture")

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = "horaire d'ouverture"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=models.F("opens")), name="opening_closes_after_opens"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class Closure(models.Model):
    """Exceptional closure: of the whole organisation (site empty) or of one site."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="closures"
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="closures"
    )
    start_date = models.DateField("du")
    end_date = models.DateField("au (inclus)")
    label = models.CharField("motif affiché au public", max_length=200)

    class Meta:
        ordering = ["start_date"]
        verbose_name = "fermeture exceptionnelle"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")), name="closure_end_after_start"
            ),
        ]

    def __str__(self):
        return self.label

    def days(self):
        day = self.start_date
        while day <= self.end_date:
            yield day
            day += timezone.timedelta(days=1)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse électronique est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in with their e-mail address."""

    email = models.EmailField(
        "adresse électronique",
        unique=True,
        error_messages={"unique": "Une personne utilise déjà cette adresse électronique."},
    )
    full_name = models.CharField("nom complet", max_length=150)
    is_active = models.BooleanField("compte actif", default=True)
    is_staff = models.BooleanField("accès à l'administration technique", default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = "personne"

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    AGENT = "agent", "Agent d'accueil / conseiller"
    MANAGER = "manager", "Manager"
    QUALITE = "qualite", "Responsable qualité"
    MEDIATEUR = "mediateur", "Médiateur"
    PARTENAIRE = "partenaire", "Conseiller de relais partenaire"
    ADMIN = "admin", "Administrateur"


class Membership(models.Model):
    """A person's role in an organisation, optionally narrowed to one site.

    A partner (relay advisor) always belongs to one relay site and sees only it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, verbose_name="organisme", on_delete=models.CASCADE, related_name="memberships"
    )
    site = models.ForeignKey(
        Site,
        verbose_name="site",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation__name", "role"]
        verbose_name = "rattachement"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organisation", "site", "role"],
                condition=Q(site__isnull=False),
                name="membership_unique_on_site",
            ),
            models.UniqueConstraint(
                fields=["user", "organisation", "role"],
                condition=Q(site__isnull=True),
                name="membership_unique_in_organisation",
            ),
            models.CheckConstraint(
                condition=~Q(role="partenaire") | Q(site__isnull=False),
                name="partner_membership_has_site",
            ),
        ]

    def __str__(self):
        where = self.site or self.organisation
        return f"{self.get_role_display()} — {where}"

    def clean(self):
        if self.role == Role.PARTENAIRE and self.site_id is None:
            raise ValidationError({"site": "Un conseiller de relais est rattaché à un relais."})
        if (
            self.site_id
            and self.organisation_id
            and self.site.organisation_id != self.organisation_id
        ):
            raise ValidationError({"site": "Ce site n'appartient pas à cet organisme."})
        if self.role == Role.PARTENAIRE and self.site_id and not self.site.is_relay:
            raise ValidationError(
                {"site": "Un conseiller de relais est rattaché à un relais partenaire."}
            )


# How each recorded action reads in the journal; an action missing here shows its code.
AUDIT_ACTIONS = {
    "conservation.modifiée": "Durée de conservation modifiée",
    "données.purgées": "Données personnelles purgées (durée de conservation échue)",
    "organisation.créée": "Organisme créé",
    "organisation.modifiée": "Organisme modifié",
    "site.créé": "Site créé",
    "site.modifié": "Site modifié",
    "site.horaires_modifiés": "Horaires modifiés",
    "fermeture.ajoutée": "Fermeture exceptionnelle ajoutée",
    "fermeture.supprimée": "Fermeture exceptionnelle supprimée",
    "personne.créée": "Compte créé",
    "personne.modifiée": "Compte modifié",
    "personne.invitée": "Invitation envoyée",
    "rattachement.ajouté": "Rôle ajouté",
    "rattachement.retiré": "Rôle retiré",
    "cible.fixée": "Cible fixée",
    "référentiel.importé": "Référentiel importé",
    "référentiel.adopté": "Référentiel adopté par l'organisme",
    "engagement.ajouté": "Engagement local ajouté",
    "engagement.modifié": "Engagement modifié",
    "catalogue.chargé": "Catalogue d'indicateurs chargé",
    "mesure.saisie": "Mesure saisie",
    "mesures.importées": "Mesures importées",
    "publication.préparée": "Publication préparée",
    "publication.publiée": "Résultats publiés",
    "publication.retirée": "Publication retirée",
    "jeton_api.créé": "Jeton d'API créé",
    "contacts.importés": "Contacts importés",
    "appels.importés": "Journal d'appels importé",
    "profil_import.créé": "Profil d'import créé",
    "profil_import.modifié": "Profil d'import modifié",
    "contact.créé": "Contact enregistré",
    "contact.modifié": "Contact modifié",
    "contact.accusé": "Accusé de réception envoyé",
    "contact.répondu": "Réponse apportée",
    "contact.mis_en_attente": "Contact mis en attente de pièces",
    "contact.repris": "Contact repris (pièces reçues)",
    "contact.clos": "Contact clos",
    "contact.assigné": "Contact attribué",
    "appels.enregistrés": "Appels téléphoniques enregistrés (API)",
    "motif.enregistré": "Motif de contact enregistré",
    "équipe.enregistrée": "Équipe enregistrée",
    "délai.enregistré": "Règle de délai enregistrée",
    "accueil.liens_renouvelés": "Liens de la borne et de l'écran renouvelés",
    "accueil.réglages_modifiés": "Réglages de l'accueil modifiés",
    "accueil.motif_enregistré": "Motif de file d'attente enregistré",
    "accueil.guichet_enregistré": "Guichet enregistré",
    "rendez_vous.réservé": "Rendez-vous réservé",
    "rendez_vous.déplacé": "Rendez-vous déplacé",
    "rendez_vous.annulé": "Rendez-vous annulé",
    "rendez_vous.statut": "Statut du rendez-vous modifié",
    "rendez_vous.arrivée": "Arrivée au rendez-vous enregistrée",
    "rendez_vous.motif_enregistré": "Motif de rendez-vous enregistré",
    "rendez_vous.plage_enregistrée": "Plage d'ouverture enregistrée",
    "rendez_vous.plage_supprimée": "Plage d'ouverture supprimée",
    "rendez_vous.exception_ajoutée": "Exception à une plage ajoutée",
    "rendez_vous.absence_ajoutée": "Absence enregistrée",
    "rendez_vous.absence_supprimée": "Absence supprimée",
    "rendez_vous.réglages_modifiés": "Réglages des rendez-vous modifiés",
}


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Le journal d'audit ne se modifie pas.")

    def delete(self):
        raise PermissionError("Le journal d'audit ne s'efface pas.")


class AuditEvent(models.Model):
    """Append-only record of who did what to which object, and when.

    Guarded three times: the model refuses to save an existing row or to delete, the
    QuerySet refuses bulk update/delete, and database triggers refuse UPDATE and DELETE.
    """

    at = models.DateTimeField("date", default=timezone.now, db_index=True)
    # No database-level foreign keys: the log outlives what it records, and a cascade
    # would have to UPDATE rows that the triggers keep read-only.
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField("auteur", max_length=250)
    action = models.CharField("action", max_length=60)
    object_type = models.CharField("type d'objet", max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField("objet", max_length=250, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    changes = models.JSONField("détail", default=dict, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "événement du journal"
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.at:%d/%m/%Y %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Le journal d'audit ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Le journal d'audit ne s'efface pas.")

    @property
    def action_label(self) -> str:
        return AUDIT_ACTIONS.get(self.action, self.action)


class RetentionPeriod(models.Model):
    """How long one organisation keeps one type of personal data (``core.retention`` lists
    the types and their defaults; ``manage.py purge_personal_data`` applies them)."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="retention_periods")
    data_type = models.CharField("type de données", max_length=60)
    days = models.PositiveIntegerField("durée de conservation (jours)")

    class Meta:
        verbose_name = "durée de conservation"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "data_type"], name="retention_period_unique"
            ),
        ]

    def __str__(self):
        return f"{self.data_type} : {self.days} jours"
