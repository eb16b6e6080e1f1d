"""Satisfaction surveys: questionnaires, their distribution links, answers and invitations.

A questionnaire (:class:`Survey`) holds ordered :class:`Question` rows. The State's standard
questions (« Je donne mon avis », REFERENCE §2) are question kinds with fixed wordings,
scales and scores (``scales.py``). A person answers through a :class:`SurveyLink` (one per
site × channel, printed as a QR code, or a kiosk link for a reception tablet) or through a
personal :class:`Invitation`. One :class:`Response` row per answered questionnaire: the raw
answers in ``answers`` (question code → value) and the scored values of the standard
questions in their own columns, so results and indicators are plain aggregates.
"""

import secrets

from django.db import models

from voix.core.models import Organisation, Site


def new_token() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, ~72 bits


class SurveyStatus(models.TextChoices):
    DRAFT = "brouillon", "Brouillon"
    OPEN = "ouverte", "Ouverte"
    CLOSED = "close", "Close"


class Survey(models.Model):
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="surveys")
    title = models.CharField("titre", max_length=200)
    introduction = models.TextField("texte d'accueil", blank=True)
    thanks = models.TextField("message de remerciement", blank=True)
    status = models.CharField(
        "état", max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.DRAFT
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "enquête"
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class QuestionKind(models.TextChoices):
    # The State's standard questions (« Je donne mon avis »): wording and scale are fixed.
    JDMA_SATISFACTION = "jdma_satisfaction", "JDMA — satisfaction (3 niveaux)"
    JDMA_CLARITY = "jdma_comprehension", "JDMA — clarté (5 niveaux)"
    JDMA_CONTACT_TRIED = "jdma_contact_tried", "JDMA — aide recherchée (canaux)"
    JDMA_CONTACT_REACHED = "jdma_contact_reached", "JDMA — aide joignable (oui / non)"
    JDMA_CONTACT_SATISFACTION = "jdma_contact_satisfaction", "JDMA — aide efficace (5 niveaux)"
    JDMA_VERBATIM = "jdma_verbatim", "JDMA — commentaire libre"
    # Other questions.
    CSAT = "csat", "Satisfaction (5 niveaux)"
    NPS = "nps", "Recommandation (0 à 10)"
    YES_NO = "oui_non", "Oui / non"
    CHOICE = "choix", "Choix unique"
    MULTIPLE = "choix_multiples", "Choix multiples"
    TEXT = "texte", "Texte libre"


class Question(models.Model):
    survey = models.ForeignKey(Survey, models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField("ordre", default=0)
    kind = models.CharField("type", max_length=30, choices=QuestionKind.choices)
    # Key of the answer in Response.answers; the standard questions use their JDMA code.
    code = models.SlugField("code", max_length=60)
    label = models.CharField("intitulé", max_length=300)
    help_text = models.CharField("aide", max_length=300, blank=True)
    required = models.BooleanField("réponse obligatoire", default=False)
    # For « choix » and « choix multiples »: the list of option labels.
    choices = models.JSONField("options", default=list, blank=True)
    # The CSAT question that feeds « satisfaction globale » and « satisfaction nette ».
    overall = models.BooleanField("question de satisfaction globale", default=False)

    class Meta:
        verbose_name = "question"
        ordering = ["survey", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "code"], name="question_code_unique"),
        ]

    def __str__(self):
        return self.label


class LinkChannel(models.TextChoices):
    WEB = "site_web", "Site internet"
    RECEPTION = "accueil", "Accueil (affiche, QR code)"
    KIOSK = "borne", "Tablette de l'accueil"
    PHONE = "telephone", "Téléphone"
    EMAIL = "courriel", "Courriel"
    SMS = "sms", "SMS"
    APPOINTMENT = "rendez_vous", "Après un rendez-vous"
    CONTACT = "contact", "Après une demande"
    COMPLAINT = "reclamation", "Après une réclamation"
    RELAY = "relais", "Relais partenaire"


class SurveyLink(models.Model):
    """One public address of a questionnaire, for a site and a channel (QR code, kiosk…)."""

    survey = models.ForeignKey(Survey, models.CASCADE, related_name="links")
    site = models.ForeignKey(
        Site, models.CASCADE, null=True, blank=True, related_name="survey_links"
    )
    channel = models.CharField("canal", max_length=20, choices=LinkChannel.choices)
    token = models.CharField(max_length=20, unique=True, default=new_token)
    active = models.BooleanField("actif", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "lien d'enquête"
        ordering = ["survey", "site__name", "channel"]
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "site", "channel"], name="survey_link_unique"
            ),
        ]

    def __str__(self):
        return f"{self.survey} — {self.get_channel_display()}"

    @property
    def kiosk(self) -> bool:
        return self.channel == LinkChannel.KIOSK


class InvitationSource(models.TextChoices):
    APPOINTMENT = "rendez_vous", "Rendez-vous"
    CONTACT = "contact", "Demande"
    COMPLAINT = "reclamation", "Réclamation"


class InvitationStatus(models.TextChoices):
    PENDING = "en_attente", "En attente"
    SENT = "envoyee", "Envoyée"
    FAILED = "echec", "Échec"


class Invitation(models.Model):
    """A personal invitation to answer, sent once after an appointment, a contact or a
    complaint. The address is kept only until the message is sent (then blanked); the
    ``recipient_hash`` (salted SHA-256 of the normalised address) enforces the cap."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    survey = models.ForeignKey(Survey, models.CASCADE, related_name="invitations")
    site = models.ForeignKey(Site, models.SET_NULL, null=True, blank=True, related_name="+")
    source = models.CharField("origine", max_length=20, choices=InvitationSource.choices)
    source_id = models.PositiveBigIntegerField()
    via = models.CharField("envoyée par", max_length=10)  # "email" or "sms"
    address = models.CharField("adresse", max_length=254, blank=True)
    recipient_hash = models.CharField(max_length=64, db_index=True)
    token = models.CharField(max_length=20, unique=True, default=new_token)
    status = models.CharField(
        max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "invitation"
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "source", "source_id"], name="invitation_once_per_source"
            ),
        ]

    def __str__(self):
        return f"Invitation {self.get_source_display()} n° {self.source_id}"


class InvitationCap(models.Model):
    """The last invitation sent to one person (by hash) in one organisation: an invitation
    is made only when this row's ``last_invited_at`` is older than the period — checked and
    moved by one conditional UPDATE, so two workers never both invite the same person."""

    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    recipient_hash = models.CharField(max_length=64)
    last_invited_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "recipient_hash"], name="invitation_cap_unique"
            ),
        ]

    def __str__(self):
        return self.recipient_hash[:12]


class SurveySettings(models.Model):
    """Per organisation: which questionnaire invitations use, after what, and how often."""

    organisation = models.OneToOneField(
        Organisation, models.CASCADE, related_name="survey_settings"
    )
    invitation_survey = models.ForeignKey(
        Survey,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="questionnaire des invitations",
    )
    after_appointment = models.BooleanField("après un rendez-vous honoré", default=True)
    after_contact = models.BooleanField("après une demande close", default=True)
    after_complaint = models.BooleanField("après la réponse à une réclamation", default=True)
    period_days = models.PositiveSmallIntegerField(
        "au plus une invitation par personne tous les (jours)", default=90
    )
    delay_hours = models.PositiveSmallIntegerField("envoyer après (heures)", default=2)

    class Meta:
        verbose_name = "réglages des enquêtes"

    def __str__(self):
        return f"Réglages des enquêtes — {self.organisation}"


class Response(models.Model):
    survey = models.ForeignKey(Survey, models.CASCADE, related_name="responses")
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="+")
    link = models.ForeignKey(
        SurveyLink, models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    invitation = models.OneToOneField(
        Invitation, models.SET_NULL, null=True, blank=True, related_name="response"
    )
    site = models.ForeignKey(
        Site, models.SET_NULL, null=True, blank=True, related_name="survey_responses"
    )
    channel = models.CharField("canal", max_length=20, choices=LinkChannel.choices)
    submitted_at = models.DateTimeField("reçue le")
    # The one-use number of the form that was sent: a replayed form is refused.
    nonce = models.CharField(max_length=40, unique=True)
    answers = models.JSONField(default=dict)  # question code -> value (str, int or list)
    # Scored values of the standard questions, for aggregates (None: not answered).
    jdma_satisfaction = models.PositiveSmallIntegerField(null=True, blank=True)  # 0, 5, 10
    jdma_clarity = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    jdma_help_tried = models.BooleanField(null=True, blank=True)  # looked for help
    jdma_help_reached = models.BooleanField(null=True, blank=True)
    jdma_help_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    overall = models.PositiveSmallIntegerField(null=True, blank=True)  # CSAT 1..5
    nps = models.PositiveSmallIntegerField(null=True, blank=True)  # 0..10
    verbatim = models.TextField(blank=True)

    class Meta:
        verbose_name = "réponse"
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["organisation", "submitted_at"], name="response_org_time"),
            models.Index(fields=["survey", "submitted_at"], name="response_survey_time"),
        ]

    def __str__(self):
        return f"Réponse du {self.submitted_at:%d/%m/%Y %H:%M}"
