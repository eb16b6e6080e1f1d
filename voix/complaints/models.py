"""Complaints, suggestions and compliments, and their mediation.

Each case is a :class:`Complaint` that carries the requester's personal data (only what the
case needs) and is tied to one entry of the contact log (``contact``): its acknowledgement
and answer deadlines, pause, warnings and breaches are those of the contact log's clocks
(``voix.contacts.clocks``), with the policy of the contact reason « réclamation ». An
escalation to the médiateur is a :class:`Mediation` with its own contact (reason
« médiation ») and hence its own deadlines. Personal data are blanked by the purge command
after the retention period (``purged_at``); the case itself stays for the indicators.
"""

import secrets

from django.conf import settings
from django.db import models

from voix.core.models import Organisation, Site

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_reference() -> str:
    return "REC-" + "".join(secrets.choice(ALPHABET) for _ in range(8))


def new_token() -> str:
    return secrets.token_urlsafe(24)


class Kind(models.TextChoices):
    COMPLAINT = "reclamation", "Réclamation"
    SUGGESTION = "suggestion", "Suggestion"
    COMPLIMENT = "compliment", "Remerciement"


class Intake(models.TextChoices):
    FORM = "formulaire", "Formulaire en ligne"
    PHONE = "telephone", "Téléphone"
    COUNTER = "accueil", "Accueil"
    LETTER = "courrier", "Courrier"
    EMAIL = "courriel", "Courriel"
    RELAY = "relais", "Relais partenaire"


class Status(models.TextChoices):
    RECEIVED = "recue", "Reçue"
    ACKNOWLEDGED = "accusee", "Accusé de réception envoyé"
    IN_PROGRESS = "en_cours", "En cours de traitement"
    WAITING = "en_attente", "En attente de pièces"
    ANSWERED = "repondue", "Réponse envoyée"
    MEDIATION = "mediation", "En médiation"
    CLOSED = "close", "Close"


class AnswerVia(models.TextChoices):
    EMAIL = "courriel", "Courriel"
    LETTER = "courrier", "Courrier (lettre PDF)"


class Theme(models.Model):
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="complaint_themes")
    label = models.CharField("thème", max_length=120)
    active = models.BooleanField("en usage", default=True)

    class Meta:
        verbose_name = "thème"
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "label"], name="theme_label_unique")
        ]

    def __str__(self):
        return self.label


class RootCause(models.Model):
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="root_causes")
    label = models.CharField("cause", max_length=120)
    active = models.BooleanField("en usage", default=True)

    class Meta:
        verbose_name = "cause"
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "label"], name="cause_label_unique")
        ]

    def __str__(self):
        return self.label


class Complaint(models.Model):
    organisation = models.ForeignKey(Organisation, models.PROTECT, related_name="complaints")
    site = models.ForeignKey(
        Site,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name="site concerné",
    )
    # Filed by a partner relay for the person sitting with its advisor.
    relay = models.ForeignKey(
        Site,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="relayed_complaints",
        verbose_name="relais partenaire",
    )
    kind = models.CharField("nature", max_length=12, choices=Kind.choices, default=Kind.COMPLAINT)
    intake = models.CharField("reçue par", max_length=12, choices=Intake.choices)
    reference = models.CharField("référence", max_length=12, unique=True, default=new_reference)
    token = models.CharField(max_length=40, unique=True, default=new_token)  # tracking link
    # The contact-log entry whose clocks give this case its deadlines.
    contact = models.OneToOneField(
        "contacts.Contact", models.PROTECT, null=True, blank=True, related_name="complaint"
    )
    status = models.CharField(
        "état", max_length=12, choices=Status.choices, default=Status.RECEIVED
    )
    subject = models.CharField("objet", max_length=200)
    body = models.TextField("message")
    # Personal data: only what the case needs; blanked by the purge (purged_at).
    full_name = models.CharField("nom et prénom", max_length=200, blank=True)
    email = models.EmailField("courriel", blank=True)
    phone = models.CharField("téléphone", max_length=20, blank=True)
    postal_address = models.TextField("adresse postale", blank=True)
    file_number = models.CharField("numéro d'allocataire", max_length=20, blank=True)
    consent_at = models.DateTimeField("consentement recueilli le", null=True, blank=True)
    theme = models.ForeignKey(
        Theme,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="complaints",
        verbose_name="thème",
    )
    root_causes = models.ManyToManyField(
        RootCause, blank=True, related_name="complaints", verbose_name="causes"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_complaints",
        verbose_name="chargé du dossier",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    received_at = models.DateTimeField("reçue le", db_index=True)
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    answered_at = models.DateTimeField("répondue le", null=True, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)
    answer = models.TextField("réponse", blank=True)
    answer_via = models.CharField(
        "réponse envoyée par", max_length=10, choices=AnswerVia.choices, blank=True
    )
    # The requester's one question on the answer: 1 (pas du tout) … 4 (tout à fait satisfait).
    satisfaction = models.PositiveSmallIntegerField(
        "satisfaction sur la réponse", null=True, blank=True
    )
    satisfaction_at = models.DateTimeField(null=True, blank=True)
    purged_at = models.DateTimeField("données personnelles effacées le", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "réclamation"
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["organisation", "received_at"], name="complaint_org_time"),
        ]

    def __str__(self):
        return f"{self.reference} — {self.subject}"


class Attachment(models.Model):
    complaint = models.ForeignKey(Complaint, models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="reclamations/%Y/%m/")
    original_name = models.CharField("nom du fichier", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "pièce jointe"
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.original_name


class Note(models.Model):
    """An internal note: never shown to the requester."""

    complaint = models.ForeignKey(Complaint, models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField("note")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "note interne"
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"Note du {self.created_at:%d/%m/%Y}"


class Message(models.Model):
    """One message sent to the requester (acknowledgement, answer, mediation), by one
    channel: the delivery log. Unique per (complaint, kind, via): a message goes out once,
    even when its task runs twice. No address is stored here (they are on the case)."""

    class Kind(models.TextChoices):
        ACK = "accuse", "Accusé de réception"
        ANSWER = "reponse", "Réponse"
        MEDIATION_ACK = "mediation_accuse", "Accusé de réception de la médiation"
        MEDIATION_DECISION = "mediation_decision", "Décision du médiateur"

    class Via(models.TextChoices):
        EMAIL = "courriel", "Courriel"
        SMS = "sms", "SMS"

    class State(models.TextChoices):
        PENDING = "en_cours", "En cours d'envoi"
        SENT = "envoye", "Envoyé"
        FAILED = "echec", "Échec"

    complaint = models.ForeignKey(Complaint, models.CASCADE, related_name="messages")
    kind = models.CharField("message", max_length=20, choices=Kind.choices)
    via = models.CharField("par", max_length=10, choices=Via.choices)
    state = models.CharField("état", max_length=10, choices=State.choices, default=State.PENDING)
    error = models.CharField("erreur", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "message à l'usager"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["complaint", "kind", "via"], name="complaint_message_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_via_display().lower()})"


class MediationStatus(models.TextChoices):
    OPEN = "ouverte", "Ouverte"
    DECIDED = "decidee", "Décision rendue"


class Decision(models.TextChoices):
    UPHELD = "maintenue", "Décision initiale maintenue"
    REVISED = "revisee", "Décision révisée en faveur de l'usager"
    PARTIAL = "partielle", "Décision partiellement révisée"
    OUT_OF_SCOPE = "irrecevable", "Demande hors du champ de la médiation"


class Mediation(models.Model):
    complaint = models.OneToOneField(Complaint, models.CASCADE, related_name="mediation")
    contact = models.OneToOneField(
        "contacts.Contact", models.PROTECT, null=True, blank=True, related_name="mediation"
    )
    requested_at = models.DateTimeField("saisie le")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )  # None: the requester, through the tracking link
    reason = models.TextField("motif de la saisine")
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="mediations",
        verbose_name="médiateur",
    )
    status = models.CharField(
        max_length=10, choices=MediationStatus.choices, default=MediationStatus.OPEN
    )
    decision = models.CharField("décision", max_length=12, choices=Decision.choices, blank=True)
    decision_text = models.TextField("motivation de la décision", blank=True)
    decided_at = models.DateTimeField("décidée le", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "médiation"
        ordering = ["-requested_at"]

    def __str__(self):
        return f"Médiation — {self.complaint.reference}"
