"""The multichannel contact log: contacts, their reasons and teams, deadline policies and
clocks, telephony call logs, import profiles and runs, and the daily roll-ups indicators
read (so no dashboard scans raw contacts)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from voix.core.models import Organisation, Site


class Channel(models.TextChoices):
    WALK_IN = "accueil_sans_rdv", "Accueil physique sans rendez-vous"
    APPOINTMENT = "accueil_rdv", "Accueil physique sur rendez-vous"
    PHONE = "telephone", "Téléphone"
    EMAIL = "courriel", "Courriel"
    LETTER = "courrier", "Courrier"
    MESSAGING = "messagerie", "Messagerie en ligne"
    VIDEO = "visio", "Visio"
    RELAY = "relais", "Via un relais partenaire"


# Written requests get an acknowledgement (REFERENCE §1): one week electronic, two by post.
ELECTRONIC_CHANNELS = (Channel.EMAIL, Channel.MESSAGING)
WRITTEN_CHANNELS = (Channel.EMAIL, Channel.MESSAGING, Channel.LETTER)


class Reason(models.Model):
    """A contact reason from the organisation's taxonomy (two levels: theme › reason)."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="contact_reasons")
    parent = models.ForeignKey(
        "self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name="thème"
    )
    code = models.SlugField("code", max_length=60)
    label = models.CharField("libellé", max_length=200)
    # Seasonal mass items are left out of « antériorité du solde » (REFERENCE §2).
    seasonal_mass = models.BooleanField("pièce saisonnière de masse", default=False)
    active = models.BooleanField("en usage", default=True)

    class Meta:
        ordering = ["organisation", "label"]
        verbose_name = "motif de contact"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"], name="reason_code_unique")
        ]

    def __str__(self):
        return f"{self.parent.label} › {self.label}" if self.parent_id else self.label


class Team(models.Model):
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="teams")
    site = models.ForeignKey(Site, models.CASCADE, null=True, blank=True, related_name="teams")
    name = models.CharField("nom", max_length=120)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = "équipe"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique")
        ]

    def __str__(self):
        return self.name


class DelayUnit(models.TextChoices):
    WORKING_DAYS = "jours_ouvres", "jours ouvrés"
    HOURS = "heures", "heures"


class ClockPolicy(models.Model):
    """Acknowledgement and answer delays for a channel (and optionally one reason).

    The most specific policy wins: organisation × channel × reason, then
    organisation × channel. An empty delay means no clock for that step.
    """

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="clock_policies")
    channel = models.CharField("canal", max_length=20, choices=Channel.choices)
    reason = models.ForeignKey(
        Reason, models.CASCADE, null=True, blank=True, related_name="clock_policies"
    )
    ack_delay = models.PositiveIntegerField("délai d'accusé de réception", null=True, blank=True)
    ack_unit = models.CharField(
        "unité", max_length=20, choices=DelayUnit.choices, default=DelayUnit.WORKING_DAYS
    )
    answer_delay = models.PositiveIntegerField("délai de réponse", null=True, blank=True)
    answer_unit = models.CharField(
        "unité", max_length=20, choices=DelayUnit.choices, default=DelayUnit.WORKING_DAYS
    )
    warn_before_hours = models.PositiveIntegerField(
        "prévenir avant l'échéance (heures)", default=24
    )

    class Meta:
        ordering = ["organisation", "channel", "reason"]
        verbose_name = "règle de délai"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "channel", "reason"], name="clock_policy_unique"
            ),
            models.UniqueConstraint(
                fields=["organisation", "channel"],
                condition=Q(reason__isnull=True),
                name="clock_policy_channel_unique",
            ),
        ]

    def __str__(self):
        reason = f" — {self.reason}" if self.reason_id else ""
        return f"{self.get_channel_display()}{reason}"


class Status(models.TextChoices):
    NEW = "nouveau", "Nouveau"
    ACKNOWLEDGED = "accuse", "Accusé de réception envoyé"
    IN_PROGRESS = "en_cours", "En cours"
    WAITING = "attente_pieces", "En attente de pièces"  # the clock is paused
    ANSWERED = "repondu", "Répondu"
    CLOSED = "clos", "Clos"


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING)


class Outcome(models.TextChoices):
    NONE = "", "—"
    RESOLVED_FIRST = "resolu_premier_contact", "Résolu au premier contact"
    ANSWERED = "reponse_apportee", "Réponse apportée"
    ORIENTED = "oriente", "Orienté vers un autre service"
    APPOINTMENT = "rendez_vous", "Rendez-vous pris"
    FILE_OPENED = "dossier_ouvert", "Dossier à traiter"
    ABANDONED = "sans_suite", "Sans suite"


class ContactQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Contact(models.Model):
    """One contact, whatever the channel. The requester is a pseudonymous reference only."""

    # No single-column index: the worklist index (organisation, status, due_at) covers it.
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="contacts", db_index=False
    )
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="contacts")
    # Indexed by the partial index contact_team (contacts without a team left out).
    team = models.ForeignKey(
        Team, models.SET_NULL, null=True, blank=True, related_name="contacts", db_index=False
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_contacts",
        verbose_name="chargé du contact",
        db_index=False,  # covered by the index (assignee, status, due_at)
    )
    channel = models.CharField("canal", max_length=20, choices=Channel.choices)
    reason = models.ForeignKey(
        Reason, models.PROTECT, null=True, blank=True, related_name="contacts", verbose_name="motif"
    )
    requester_ref = models.CharField("référence de l'usager", max_length=64, blank=True)
    subject = models.CharField("objet", max_length=200, blank=True)
    # Imports and the API: the same (organisation, source, external id) is updated, never
    # duplicated. Empty external id: a contact logged in Voix itself.
    source = models.CharField("système d'origine", max_length=60, blank=True)
    external_id = models.CharField("identifiant externe", max_length=100, blank=True)

    received_at = models.DateTimeField("reçu le", db_index=True)
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    first_answer_at = models.DateTimeField("première réponse le", null=True, blank=True)
    closed_at = models.DateTimeField("clos le", null=True, blank=True)
    status = models.CharField("état", max_length=20, choices=Status.choices, default=Status.NEW)
    outcome = models.CharField("issue", max_length=30, choices=Outcome.choices, blank=True)

    # Clock. Deadlines include the time the clock was paused (waiting for documents).
    ack_due_at = models.DateTimeField("accusé de réception attendu le", null=True, blank=True)
    answer_due_at = models.DateTimeField("réponse attendue le", null=True, blank=True)
    # The next deadline still running (acknowledgement, then answer); None when nothing is
    # due or the clock is paused. The sweeper and the worklists read this column only.
    due_at = models.DateTimeField("échéance", null=True, blank=True)  # index: contact_due
    paused_at = models.DateTimeField("en attente depuis", null=True, blank=True)
    # Time spent waiting for the requester's documents in earlier (finished) pauses: the
    # running deadlines are pushed back by as many working days (or hours, for deadlines
    # counted in hours). See clocks.py.
    paused_days = models.PositiveIntegerField("jours ouvrés en attente", default=0)
    paused_seconds = models.PositiveBigIntegerField("durée d'attente (secondes)", default=0)
    # When the assignee is warned: due_at minus the policy's warn_before_hours.
    warn_at = models.DateTimeField("alerte le", null=True, blank=True)
    # Times the contact was put on hold for missing documents (« allers-retours »).
    returns = models.PositiveIntegerField("allers-retours", default=0)
    breached_at = models.DateTimeField("échéance dépassée le", null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "received_at"]
        verbose_name = "contact"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source", "external_id"],
                condition=~Q(external_id=""),
                name="contact_external_id_unique",
            ),
        ]
        # Indexes on a column that is often empty leave the empty rows out (partial): a
        # query comparing the column (« due_at <= now », « assignee = me », « closed_at in
        # these days ») implies it is not empty, so SQLite and PostgreSQL use them all the
        # same, and an import of a million closed contacts does not write millions of
        # entries for nothing (each index entry costs about as much as the row itself).
        indexes = [
            models.Index(fields=["organisation", "status", "due_at"], name="contact_worklist"),
            models.Index(
                fields=["assignee", "status", "due_at"],
                condition=Q(assignee__isnull=False),
                name="contact_assignee",
            ),
            # The clock's sweep (clocks.sweep): deadlines still running.
            models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="contact_due"),
            models.Index(fields=["team"], condition=Q(team__isnull=False), name="contact_team"),
            # Roll-ups (rollups.refresh): the events of a few days found through indexes,
            # never by reading every contact of the organisation.
            models.Index(
                fields=["organisation", "first_answer_at"],
                condition=Q(first_answer_at__isnull=False),
                name="contact_answered",
            ),
            models.Index(
                fields=["organisation", "closed_at"],
                condition=Q(closed_at__isnull=False),
                name="contact_closed",
            ),
            models.Index(
                fields=["organisation", "ack_due_at"],
                condition=Q(ack_due_at__isnull=False),
                name="contact_ack_due",
            ),
            # The stock still open (neither answered nor closed): small, partial.
            models.Index(
                fields=["organisation", "received_at"],
                condition=Q(first_answer_at__isnull=True, closed_at__isnull=True),
                name="contact_undone",
            ),
        ]

    def __str__(self):
        return f"Contact n° {self.pk} ({self.get_channel_display().lower()})"


class ClockNotice(models.Model):
    """A warning or breach notice sent for one deadline of one contact.

    The unique constraint is what makes a notice go out once, even with several sweepers
    running at the same time: the sweeper that inserts the row sends it, the others don't.
    """

    class Kind(models.TextChoices):
        WARNING = "avertissement", "Échéance proche"
        BREACH = "depassement", "Échéance dépassée"

    class Step(models.TextChoices):
        ACK = "accuse", "Accusé de réception"
        ANSWER = "reponse", "Réponse"

    # Written by the sweep from the contacts themselves (INSERT … SELECT), up to a hundred
    # thousand a night: no database-level foreign keys, whose checks at commit cost more
    # than the rows (commit_s 2.2 → 0.4 in `make bench ONLY=clock_sweep`). Deleting a
    # contact still deletes its notices, and deleting a user empties `recipient` (Django's
    # cascade). No single-column index on the contact: the unique constraint starts with it.
    contact = models.ForeignKey(
        Contact,
        models.CASCADE,
        related_name="clock_notices",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    step = models.CharField(max_length=20, choices=Step.choices)
    due_at = models.DateTimeField()
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact", "kind", "step", "due_at"], name="clock_notice_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.contact}"


class CallOutcome(models.TextChoices):
    AGENT = "agent", "Pris par un agent"
    IVR = "svi", "Traité par le serveur vocal"
    ABANDONED = "abandonne", "Abandonné"


class Call(models.Model):
    """One telephony call from the call log of the organisation's telephony system."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="calls")
    site = models.ForeignKey(Site, models.PROTECT, null=True, blank=True, related_name="calls")
    source = models.CharField("système d'origine", max_length=60, blank=True)
    external_id = models.CharField("identifiant externe", max_length=100)
    started_at = models.DateTimeField("appel reçu le", db_index=True)
    outcome = models.CharField("issue", max_length=20, choices=CallOutcome.choices)
    wait_seconds = models.PositiveIntegerField("attente (secondes)", null=True, blank=True)
    # Calls outside opening hours, or that the IVR alone was meant to handle, do not
    # count in the agent rate's denominator (REFERENCE §2).
    needs_agent = models.BooleanField("nécessite un agent", default=True)
    line = models.CharField("ligne", max_length=60, blank=True)

    class Meta:
        verbose_name = "appel"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "source", "external_id"], name="call_external_id_unique"
            )
        ]

    def __str__(self):
        return f"Appel {self.external_id} ({self.get_outcome_display().lower()})"


class ImportKind(models.TextChoices):
    CONTACTS = "contacts", "Contacts"
    CALLS = "appels", "Journal d'appels"


class ImportProfile(models.Model):
    """A saved column mapping for the files of one source system."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="import_profiles")
    name = models.SlugField("nom du profil", max_length=60)
    label = models.CharField("libellé", max_length=200, blank=True)
    kind = models.CharField("type de fichier", max_length=20, choices=ImportKind.choices)
    source = models.CharField("système d'origine", max_length=60)
    # Voix field → column header in the file (case and accents ignored).
    mapping = models.JSONField("correspondance des colonnes", default=dict)
    # Values in the file → Voix codes, e.g. {"channel": {"Mail": "courriel"}}.
    value_maps = models.JSONField("correspondance des valeurs", default=dict, blank=True)
    date_format = models.CharField("format des dates", max_length=40, default="%d/%m/%Y %H:%M")

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = "profil d'import"
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="import_profile_unique")
        ]

    def __str__(self):
        return self.label or self.name


class ImportRun(models.Model):
    """One file import, followed by the page (htmx polling) and the command line."""

    class State(models.TextChoices):
        PENDING = "en_attente", "En attente"
        RUNNING = "en_cours", "En cours"
        DONE = "termine", "Terminé"
        REJECTED = "rejete", "Rejeté"
        FAILED = "echec", "Échec"

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="import_runs")
    profile = models.ForeignKey(ImportProfile, models.PROTECT, related_name="runs")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    filename = models.CharField("fichier", max_length=255)
    path = models.CharField(max_length=500, blank=True)  # the stored upload, deleted after
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    # Rejected lines: [{"ligne": 12, "colonne": "canal", "motif": "…"}, …]
    report = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "import"

    def __str__(self):
        return f"Import de {self.filename}"


class ContactDay(models.Model):
    """Daily roll-up of contacts per site and channel: what indicator sources read.

    Rebuilt for the days a write touches (rollups.refresh), never incremented in place, so
    a retry or a re-import cannot count twice.
    """

    # Derived rows, rebuilt at will: no database-level foreign keys (their checks cost as
    # much as the rows at each rebuild) nor single-column indexes (the unique constraint
    # and the (organisation, day) index serve the reads). Deleting a site or an
    # organisation still deletes its roll-ups (Django's cascade).
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    site = models.ForeignKey(
        Site,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    day = models.DateField()
    received = models.PositiveIntegerField(default=0)
    # Acknowledgements counted on the day the acknowledgement was due.
    ack_due = models.PositiveIntegerField(default=0)
    ack_in_time = models.PositiveIntegerField(default=0)
    # Answers counted on the day of the first answer.
    answered = models.PositiveIntegerField(default=0)
    answered_in_time = models.PositiveIntegerField(default=0)
    answer_days_total = models.PositiveIntegerField(default=0)
    # Processed (closed) on the day, and how many of them went back to the requester.
    processed = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    # Stock at the end of the day (seasonal mass items excluded).
    pending = models.PositiveIntegerField(default=0)
    pending_within_15 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "site", "channel", "day"], name="contact_day_unique"
            )
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="contact_day_org")]

    def __str__(self):
        return f"{self.day} {self.channel}"


class CallDay(models.Model):
    """Daily roll-up of the call log per site."""

    # Derived rows, as ContactDay.
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    site = models.ForeignKey(
        Site,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField()
    offered = models.PositiveIntegerField(default=0)
    needing_agent = models.PositiveIntegerField(default=0)
    answered_agent = models.PositiveIntegerField(default=0)
    answered_ivr = models.PositiveIntegerField(default=0)
    abandoned = models.PositiveIntegerField(default=0)
    wait_seconds_total = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "site", "day"], name="call_day_unique")
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="call_day_org")]

    def __str__(self):
        return f"Appels du {self.day}"
