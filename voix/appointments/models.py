"""Appointments on site, by phone and by video: reasons (motifs), advisors' opening slots
with their exceptions and absences, bookings, the occupancy cells that make a double
booking impossible in the database, the notifications' delivery log, the waitlist and the
daily availability snapshot that the « délai d'obtention » indicator reads.

No double booking: every active appointment holds one ``Occupancy`` row per 5-minute cell
of its advisor's time, unique on (advisor, cell). Two bookings that overlap, whatever their
lengths, collide on at least one cell and the second insert fails — on SQLite as on
PostgreSQL. Cancelling, excusing or moving releases (or moves) the cells in the same
transaction.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from voix.core.models import Organisation, Site, Weekday

CELL = timedelta(minutes=5)


def new_reference() -> str:
    """« RDV-7K3P9QXA »: read aloud on the phone without ambiguity (no 0/O, 1/I); 32⁸
    values, and booking checks that the one drawn is free."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "RDV-" + "".join(secrets.choice(alphabet) for _ in range(8))


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Mode(models.TextChoices):
    ON_SITE = "sur_place", "Sur place"
    PHONE = "telephone", "Par téléphone"
    VIDEO = "visio", "En visio"


class Audience(models.TextChoices):
    """Who may book a reason; each level includes the ones below it."""

    PUBLIC = "public", "Tout le monde (en ligne, relais partenaires, agents)"
    PARTNER = "partenaire", "Relais partenaires et agents"
    AGENT = "agent", "Agents seulement"


class Channel(models.TextChoices):
    """How a booking was made (booking channel, for the indicators)."""

    PUBLIC = "public", "En ligne, par l'usager"
    PARTNER = "partenaire", "Par un relais partenaire"
    AGENT = "agent", "Par un agent"
    API = "api", "Par l'API"


AUDIENCE_CHANNELS = {
    Audience.PUBLIC: {Channel.PUBLIC, Channel.PARTNER, Channel.AGENT, Channel.API},
    Audience.PARTNER: {Channel.PARTNER, Channel.AGENT, Channel.API},
    Audience.AGENT: {Channel.AGENT},
}


class Status(models.TextChoices):
    PLANNED = "prevu", "Prévu"
    HONOURED = "honore", "Honoré"
    EXCUSED = "excuse", "Excusé"
    CANCELLED = "annule", "Annulé"
    NO_SHOW = "absent", "Non venu"


# Statuses that keep the advisor's time taken (their Occupancy cells exist).
HOLDING_STATUSES = {Status.PLANNED, Status.HONOURED, Status.NO_SHOW}


class BookingSettings(models.Model):
    """An organisation's appointment settings (created with defaults when first needed)."""

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="booking_settings"
    )
    video_link_template = models.CharField(
        "modèle de lien de visio",
        max_length=300,
        blank=True,
        help_text=(
            "Adresse de la réunion, avec {jeton} (unique et secret) et éventuellement "
            "{reference}, ex. https://visio.exemple.fr/caf-{jeton}. Vide : le réglage "
            "VIDEO_LINK_TEMPLATE du serveur."
        ),
    )
    reminder_hours = models.PositiveSmallIntegerField(
        "rappel … heures avant", default=48, help_text="48 : le rappel part deux jours avant."
    )
    waitlist_max_notifications = models.PositiveSmallIntegerField(
        "messages au plus par inscription sur liste d'attente", default=3
    )
    consent_text = models.TextField(
        "texte du consentement",
        default=(
            "J'accepte que la Caf utilise ces coordonnées pour ce rendez-vous (confirmation, "
            "rappel, changement). Elles sont effacées après le rendez-vous, selon la durée "
            "de conservation indiquée dans la page « Données personnelles »."
        ),
    )

    class Meta:
        verbose_name = "réglages des rendez-vous"

    def __str__(self):
        return f"Rendez-vous — {self.organisation}"


class WithModes:
    """A row with the three mode boxes (on_site, phone, video)."""

    def modes(self) -> list[str]:
        return [
            mode
            for mode, allowed in (
                (Mode.ON_SITE, self.on_site),
                (Mode.PHONE, self.phone),
                (Mode.VIDEO, self.video),
            )
            if allowed
        ]


class Reason(WithModes, models.Model):
    """A motif de rendez-vous: its length, its modes, who may book it, where and when."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="appointment_reasons"
    )
    label = models.CharField("motif", max_length=120)
    description = models.TextField(
        "présentation pour l'usager", blank=True, help_text="Ce qu'il faut savoir ou apporter."
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "durée (minutes)", default=20, help_text="Un multiple de 5, de 5 à 240."
    )
    on_site = models.BooleanField("sur place", default=True)
    phone = models.BooleanField("par téléphone", default=True)
    video = models.BooleanField("en visio", default=False)
    audience = models.CharField(
        "qui peut réserver", max_length=12, choices=Audience.choices, default=Audience.PUBLIC
    )
    min_notice_hours = models.PositiveSmallIntegerField(
        "délai minimal de prévenance (heures)", default=2
    )
    max_horizon_days = models.PositiveSmallIntegerField(
        "réservable jusqu'à … jours à l'avance", default=30
    )
    sites = models.ManyToManyField(
        Site, verbose_name="sites où il est proposé", related_name="appointment_reasons"
    )
    queue_label = models.CharField(
        "file d'attente à l'arrivée",
        max_length=80,
        default="Rendez-vous",
        help_text="Motif de la file d'accueil où l'usager est placé à son arrivée.",
    )
    position = models.PositiveSmallIntegerField("ordre d'affichage", default=0)
    is_active = models.BooleanField("proposé", default=True)

    class Meta:
        ordering = ["organisation", "position", "label"]
        verbose_name = "motif de rendez-vous"
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "label"], name="appointment_reason_label_unique"
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    def bookable_by(self, channel: str) -> bool:
        return channel in AUDIENCE_CHANNELS[self.audience]


class OpeningSlot(WithModes, models.Model):
    """An advisor's recurring opening (« plage d'ouverture »): each *weekday* between
    *starts* and *ends*, from *valid_from* to *valid_until* (included; open-ended when
    empty), at one site, for some reasons (all the site's reasons when none) and modes.
    A one-off opening is a slot whose validity is that single day."""

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="conseiller",
        on_delete=models.CASCADE,
        related_name="opening_slots",
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="opening_slots")
    weekday = models.PositiveSmallIntegerField("jour", choices=Weekday.choices)
    starts = models.TimeField("de")
    ends = models.TimeField("à")
    reasons = models.ManyToManyField(
        Reason,
        verbose_name="motifs",
        blank=True,
        related_name="opening_slots",
        help_text="Aucun coché : tous les motifs proposés sur le site.",
    )
    on_site = models.BooleanField("sur place", default=True)
    phone = models.BooleanField("par téléphone", default=True)
    video = models.BooleanField("en visio", default=True)
    valid_from = models.DateField("à partir du")
    valid_until = models.DateField("jusqu'au (inclus)", null=True, blank=True)

    class Meta:
        ordering = ["advisor", "weekday", "starts"]
        verbose_name = "plage d'ouverture"
        indexes = [models.Index(fields=["site", "weekday"], name="opening_slot_site_weekday")]
        constraints = [
            models.CheckConstraint(condition=Q(starts__lt=models.F("ends")), name="slot_order"),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.starts:%H:%M}–{self.ends:%H:%M}"


class SlotException(models.Model):
    """A day on which a recurring slot does not apply (« pas de permanence le 12 »)."""

    slot = models.ForeignKey(OpeningSlot, on_delete=models.CASCADE, related_name="exceptions")
    day = models.DateField("jour")
    label = models.CharField("motif", max_length=200, blank=True)

    class Meta:
        ordering = ["day"]
        verbose_name = "exception à une plage"
        constraints = [
            models.UniqueConstraint(fields=["slot", "day"], name="slot_exception_unique"),
        ]

    def __str__(self):
        return f"{self.slot} — pas le {self.day:%d/%m/%Y}"


class Absence(models.Model):
    """An advisor's absence (leave, training): no slot is offered during it."""

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="conseiller",
        on_delete=models.CASCADE,
        related_name="absences",
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField("du")
    ends_at = models.DateTimeField("au")
    label = models.CharField("motif", max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "absence"
        indexes = [models.Index(fields=["advisor", "starts_at"], name="absence_advisor_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="absence_order"
            ),
        ]

    def __str__(self):
        return f"Absence du {self.starts_at:%d/%m/%Y %H:%M} au {self.ends_at:%d/%m/%Y %H:%M}"


class Appointment(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="appointments"
    )
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="appointments")
    reason = models.ForeignKey(
        Reason, verbose_name="motif", on_delete=models.PROTECT, related_name="appointments"
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="conseiller",
        on_delete=models.PROTECT,
        related_name="appointments",
    )
    mode = models.CharField("mode", max_length=12, choices=Mode.choices)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    channel = models.CharField("réservé", max_length=12, choices=Channel.choices)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="réservé par",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    relay = models.ForeignKey(
        Site,
        verbose_name="relais qui a orienté",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_appointments",
    )
    referral_note = models.TextField("situation (note du relais)", blank=True)
    consent_at = models.DateTimeField("consentement recueilli le", null=True, blank=True)
    reference = models.CharField("référence", max_length=12, unique=True, default=new_reference)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    full_name = models.CharField("nom et prénom", max_length=150)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    email = models.EmailField("courriel", blank=True)
    note = models.TextField("précisions de l'usager", blank=True)
    video_link = models.URLField("lien de visio", max_length=400, blank=True)
    version = models.PositiveIntegerField(default=1)
    cancel_reason = models.CharField("motif d'annulation", max_length=300, blank=True)
    checked_in_at = models.DateTimeField("arrivée enregistrée le", null=True, blank=True)
    created_at = models.DateTimeField("réservé le", auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = "rendez-vous"
        verbose_name_plural = "rendez-vous"
        indexes = [
            models.Index(fields=["advisor", "starts_at"], name="appointment_advisor_start"),
            models.Index(fields=["site", "starts_at"], name="appointment_site_start"),
            models.Index(fields=["organisation", "starts_at"], name="appointment_org_start"),
            models.Index(fields=["relay", "starts_at"], name="appointment_relay_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")), name="appointment_order"
            ),
        ]

    def __str__(self):
        return f"{self.reference} — {self.reason}"

    @property
    def is_active(self) -> bool:
        return self.status in HOLDING_STATUSES


class Occupancy(models.Model):
    """One 5-minute cell of an advisor's time taken by an active appointment."""

    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    cell_start = models.DateTimeField()
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="occupancy")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["advisor", "cell_start"], name="appointment_no_double_booking"
            ),
        ]

    def __str__(self):
        return f"{self.advisor_id} @ {self.cell_start}"


class Notification(models.Model):
    """The delivery log: one row per message. Unique per (appointment, kind, channel,
    version) so a message is sent once even with several workers — whoever inserts the row
    sends it."""

    class Kind(models.TextChoices):
        CONFIRMATION = "confirmation", "Confirmation"
        REMINDER = "rappel", "Rappel"
        CHANGE = "changement", "Changement"
        CANCELLATION = "annulation", "Annulation"
        WAITLIST = "liste_attente", "Créneau libéré (liste d'attente)"

    class Via(models.TextChoices):
        EMAIL = "courriel", "Courriel"
        SMS = "sms", "SMS"

    class State(models.TextChoices):
        PENDING = "en_attente", "En attente"
        SENT = "envoye", "Envoyé"
        FAILED = "echec", "Échec"

    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    waitlist_entry = models.ForeignKey(
        "WaitlistEntry",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField("message", max_length=15, choices=Kind.choices)
    via = models.CharField("canal", max_length=10, choices=Via.choices)
    to = models.CharField("destinataire", max_length=254)
    version = models.PositiveIntegerField(default=1)
    state = models.CharField("état", max_length=12, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    error = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "message envoyé"
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "via", "version"],
                condition=Q(appointment__isnull=False),
                name="notification_once_per_appointment",
            ),
            models.UniqueConstraint(
                fields=["waitlist_entry", "via", "version"],
                condition=Q(waitlist_entry__isnull=False),
                name="notification_once_per_waitlist_round",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_via_display()}) → {self.to}"


class WaitlistEntry(models.Model):
    """« Prévenez-moi si un créneau plus tôt se libère »: for one reason (and site, mode),
    before a date; at most *max_notifications* messages."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    reason = models.ForeignKey(Reason, on_delete=models.CASCADE, related_name="waitlist")
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    mode = models.CharField(max_length=12, choices=Mode.choices, blank=True)
    appointment = models.ForeignKey(
        Appointment, null=True, blank=True, on_delete=models.CASCADE, related_name="waitlist"
    )
    before = models.DateTimeField("créneau avant le")
    email = models.EmailField("courriel", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    token = models.CharField(max_length=40, unique=True, default=new_token)
    notifications_sent = models.PositiveSmallIntegerField(default=0)
    max_notifications = models.PositiveSmallIntegerField(default=3)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "inscription sur liste d'attente"
        indexes = [models.Index(fields=["reason", "is_active"], name="waitlist_reason_active")]

    def __str__(self):
        return f"Liste d'attente — {self.reason} avant le {self.before:%d/%m/%Y}"


class AvailabilitySnapshot(models.Model):
    """Each day, per reason and site: when the first free slot was (the « délai
    d'obtention d'un rendez-vous » indicator reads these rows)."""

    day = models.DateField()
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    reason = models.ForeignKey(Reason, on_delete=models.CASCADE, related_name="+")
    taken_at = models.DateTimeField()
    first_available_at = models.DateTimeField(null=True, blank=True)
    delay_days = models.FloatField(
        null=True, blank=True, help_text="Jours calendaires entre la mesure et le premier créneau."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "site", "reason"], name="availability_snapshot_unique"
            ),
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="availability_org_day")]

    def __str__(self):
        return f"{self.day} {self.site_id}/{self.reason_id}: {self.first_available_at}"
