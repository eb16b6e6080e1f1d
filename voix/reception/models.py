"""The reception queue: per-site settings and link tokens, queues (the reasons offered at
the kiosk), counters (guichets, visio-guichets), tickets, and the daily roll-up that the
« attente ≤ 20 minutes » indicator reads (so no dashboard scans raw tickets).

Waiting time follows the Caf definition (REFERENCE §2): from the person's entry to the
(first) call. A visit is a ticket that led to a contact with an agent — at a counter or
through a visio-guichet; a ticket abandoned, or called without anyone coming, is not one.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from voix.core.models import Organisation, Site

WAIT_LIMIT = timedelta(minutes=20)


def new_token() -> str:
    return secrets.token_urlsafe(18)


class SiteReception(models.Model):
    """A site's reception settings: the secret links of its kiosk and its display screen."""

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="reception")
    kiosk_token = models.CharField("jeton de la borne", max_length=40, unique=True)
    display_token = models.CharField("jeton de l'écran", max_length=40, unique=True)
    sms_ahead = models.PositiveSmallIntegerField(
        "SMS quand il reste … tickets avant",
        default=3,
        help_text="Le SMS part quand il reste ce nombre de personnes (ou moins) avant le ticket.",
    )
    sms_enabled = models.BooleanField("proposer le SMS à la borne", default=True)

    class Meta:
        verbose_name = "réglages de l'accueil"

    def __str__(self):
        return f"Accueil — {self.site}"


class Queue(models.Model):
    """A reason a visitor can choose at the kiosk (a « file »), with its ticket letter."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="queues")
    label = models.CharField("motif affiché à la borne", max_length=80)
    letter = models.CharField(
        "lettre des tickets",
        max_length=1,
        help_text="Une lettre majuscule, ex. A : les tickets de ce motif s'appellent A001, A002…",
    )
    position = models.PositiveSmallIntegerField("ordre d'affichage", default=0)
    is_active = models.BooleanField("proposé à la borne", default=True)

    class Meta:
        ordering = ["site", "position", "label"]
        verbose_name = "motif de file d'attente"
        constraints = [
            models.UniqueConstraint(fields=["site", "label"], name="queue_label_unique"),
        ]

    def __str__(self):
        return self.label


class CounterKind(models.TextChoices):
    DESK = "guichet", "Guichet"
    VISIO = "visio", "Visio-guichet"


class Counter(models.Model):
    """A counter (guichet) or a visio-guichet, serving some of the site's queues."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="counters")
    label = models.CharField("nom affiché", max_length=60, help_text="ex. Guichet 3")
    kind = models.CharField("type", max_length=10, choices=CounterKind.choices, default="guichet")
    queues = models.ManyToManyField(
        Queue,
        blank=True,
        related_name="counters",
        verbose_name="motifs servis",
        help_text="Aucun motif coché : le guichet sert tous les motifs du site.",
    )
    position = models.PositiveSmallIntegerField("ordre d'affichage", default=0)
    is_active = models.BooleanField("ouvert", default=True)

    class Meta:
        ordering = ["site", "position", "label"]
        verbose_name = "guichet"
        constraints = [
            models.UniqueConstraint(fields=["site", "label"], name="counter_label_unique"),
        ]

    def __str__(self):
        return self.label

    @property
    def is_visio(self) -> bool:
        return self.kind == CounterKind.VISIO


class Status(models.TextChoices):
    WAITING = "attente", "En attente"
    CALLED = "appele", "Appelé"
    SERVING = "en_cours", "Reçu au guichet"
    DONE = "termine", "Terminé"
    NO_SHOW = "absent", "Absent à l'appel"
    ABANDONED = "abandon", "Parti sans être reçu"
    # Waiting again, in another queue or for another counter, after a first contact.
    TRANSFERRED = "transfere", "Transféré"


WAITING_STATUSES = (Status.WAITING, Status.TRANSFERRED)
AT_COUNTER_STATUSES = (Status.CALLED, Status.SERVING)
OPEN_STATUSES = (*WAITING_STATUSES, *AT_COUNTER_STATUSES)


class TicketQuerySet(models.QuerySet):
    def waiting(self):
        return self.filter(status__in=WAITING_STATUSES)

    def visits(self):
        """Tickets that led to a contact with an agent (counter or visio-guichet)."""
        return self.filter(started_at__isnull=False)


class Ticket(models.Model):
    """One person's passage in the queue, from entry to the end of the contact."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="tickets")
    day = models.DateField("jour")
    number = models.PositiveIntegerField("numéro du jour")
    queue = models.ForeignKey(
        Queue, on_delete=models.PROTECT, related_name="tickets", verbose_name="motif"
    )
    status = models.CharField("état", max_length=10, choices=Status.choices, default=Status.WAITING)
    entered_at = models.DateTimeField("entrée")
    called_at = models.DateTimeField("premier appel", null=True, blank=True)
    last_called_at = models.DateTimeField("dernier appel", null=True, blank=True)
    started_at = models.DateTimeField("début de l'entretien", null=True, blank=True)
    finished_at = models.DateTimeField("fin", null=True, blank=True)
    counter = models.ForeignKey(
        Counter, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    # After a transfer to a given counter, only that counter calls the ticket.
    wanted_counter = models.ForeignKey(
        Counter, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    visio = models.BooleanField("contact en visio-guichet", default=False)
    recalls = models.PositiveSmallIntegerField("rappels", default=0)
    transfers = models.PositiveSmallIntegerField("transferts", default=0)
    # Minimal data: only for the « your turn is near » SMS, cleared after the day.
    phone = models.CharField("téléphone pour le SMS", max_length=20, blank=True)
    sms_sent_at = models.DateTimeField(null=True, blank=True)
    appointment_ref = models.CharField("référence du rendez-vous", max_length=60, blank=True)
    scheduled_at = models.DateTimeField("heure du rendez-vous", null=True, blank=True)
    source = models.CharField("système d'origine", max_length=40, blank=True)
    external_id = models.CharField("identifiant externe", max_length=80, blank=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["site", "day", "number"]
        verbose_name = "ticket"
        constraints = [
            models.UniqueConstraint(fields=["site", "day", "number"], name="ticket_number_unique"),
            models.UniqueConstraint(
                fields=["organisation", "source", "external_id"],
                condition=~Q(external_id=""),
                name="ticket_external_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "day", "status"], name="ticket_site_day_status"),
        ]

    def __str__(self):
        return self.code

    @property
    def code(self) -> str:
        return f"{self.queue.letter}{self.number:03d}"

    @property
    def is_visit(self) -> bool:
        return self.started_at is not None

    @property
    def wait(self) -> timedelta | None:
        """Entry to the first call (the Caf definition) — to the contact when an external
        system gave no call time; None while neither happened."""
        reached = self.called_at or self.started_at
        if reached is None:
            return None
        return max(reached - self.entered_at, timedelta(0))


class VisitDay(models.Model):
    """Daily roll-up per site: visits, visits within 20 minutes, waiting time, tickets.

    Rebuilt for the touched day whenever a ticket changes (on commit): the indicator and
    the dashboards read these rows, never the raw tickets.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visit_days")
    day = models.DateField("jour")
    tickets = models.PositiveIntegerField("tickets", default=0)
    visits = models.PositiveIntegerField("visites", default=0)
    visio_visits = models.PositiveIntegerField("dont visio-guichet", default=0)
    within_20 = models.PositiveIntegerField("visites attendues 20 min au plus", default=0)
    wait_seconds_total = models.BigIntegerField("attente cumulée (s)", default=0)
    abandoned = models.PositiveIntegerField("partis sans contact", default=0)
    no_show = models.PositiveIntegerField("absents à l'appel", default=0)

    class Meta:
        ordering = ["site", "day"]
        verbose_name = "journée d'accueil"
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="visit_day_unique"),
        ]
        indexes = [models.Index(fields=["organisation", "day"], name="visit_day_org_day")]

    def __str__(self):
        return f"{self.site} {self.day:%d/%m/%Y}"
