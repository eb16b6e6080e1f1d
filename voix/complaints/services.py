"""Every write of the complaints app: one function per action, in a transaction, audited.

The rules are in docs/complaints.md. In short:

- a case (réclamation, suggestion, remerciement) is tied to one contact-log entry whose
  clocks give its deadlines (reason « Réclamation », « Suggestion » or « Remerciement »,
  channel from the intake; default policies below, editable in the contacts settings);
- the acknowledgement goes out at once (e-mail, else SMS) when the person gave a way to
  be reached electronically; otherwise an agent sends it (by post) and records it;
- the answer is sent by e-mail or as a PDF letter; the person may then say once whether
  they are satisfied, and ask for a mediation within 2 months of the answer;
- a mediation has its own contact (reason « Médiation ») and deadline, no one assigned
  until a médiateur takes it, and ends with a recorded decision.
"""

import contextlib
import logging
import re
import unicodedata
import uuid
from contextvars import ContextVar
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from voix.contacts import services as contact_services
from voix.contacts.models import Channel, ClockPolicy, DelayUnit, Outcome, Reason
from voix.contacts.models import Status as ContactStatus
from voix.core import sms
from voix.core.models import RELAY_KINDS, Role, Site
from voix.core.scoping import has_role, organisations_with_role, scope_for
from voix.core.services import record_event

from . import attachments as attachment_checks
from . import models as complaint_models
from .models import (
    AnswerVia,
    Attachment,
    Complaint,
    Decision,
    Intake,
    Kind,
    Mediation,
    MediationStatus,
    Message,
    Note,
    RootCause,
    Status,
    Theme,
)

logger = logging.getLogger(__name__)

# ----- rules (docs/complaints.md) -------------------------------------------------------------

SUBJECT_MAX = 200
BODY_MIN = 10
BODY_MAX = 10_000
ANSWER_MAX = 20_000
NOTE_MAX = 5_000
ADDRESS_MAX = 500
#: The requester may ask for a mediation up to this many months after the answer.
MEDIATION_WINDOW_MONTHS = 2
#: A tracking link works until this many months after the case was closed.
TRACKING_MONTHS = 6

#: Contact-log channel of each intake.
INTAKE_CHANNELS = {
    Intake.FORM: Channel.MESSAGING,
    Intake.EMAIL: Channel.EMAIL,
    Intake.LETTER: Channel.LETTER,
    Intake.PHONE: Channel.PHONE,
    Intake.COUNTER: Channel.WALK_IN,
    Intake.RELAY: Channel.RELAY,
}

#: Contact-log reasons (code → label, answer delay in working days; None: no answer clock).
#: ASSUMPTIONS (the sources give no answer delay for complaints): 21 working days (about
#: one calendar month) for a complaint or a suggestion, 40 working days (about two months)
#: for a mediation; a compliment is closed once acknowledged. Each organisation changes
#: them in the contacts settings (deadline policies of these reasons).
REASON_COMPLAINT = "reclamation"
REASON_SUGGESTION = "suggestion"
REASON_COMPLIMENT = "remerciement"
REASON_MEDIATION = "mediation"
REASONS = {
    REASON_COMPLAINT: ("Réclamation", 21),
    REASON_SUGGESTION: ("Suggestion", 21),
    REASON_COMPLIMENT: ("Remerciement", None),
    REASON_MEDIATION: ("Médiation", 40),
}
KIND_REASONS = {
    Kind.COMPLAINT: REASON_COMPLAINT,
    Kind.SUGGESTION: REASON_SUGGESTION,
    Kind.COMPLIMENT: REASON_COMPLIMENT,
}
#: Acknowledgement within 1 week when electronic, 2 weeks by post (REFERENCE §1): 5 / 10
#: working days. A case taken by phone, at the counter or by a relay is acknowledged in
#: writing too (e-mail or SMS at once, else a letter): 5 working days.
ACK_DAYS = {Channel.LETTER: 10}
ACK_DAYS_DEFAULT = 5

#: Who handles cases of an organisation (besides the assignee).
HANDLING_ROLES = (Role.MANAGER, Role.QUALITE, Role.ADMIN)
#: Who may record a case for the organisation (partners: for their relay only).
INTAKE_ROLES = (Role.AGENT, Role.MANAGER, Role.QUALITE, Role.ADMIN)

#: The requester's answer to « Êtes-vous satisfait de la réponse ? » (record_satisfaction).
SATISFACTION_CHOICES = [
    (1, "Pas du tout satisfait"),
    (2, "Plutôt pas satisfait"),
    (3, "Plutôt satisfait"),
    (4, "Tout à fait satisfait"),
]

#: Obvious insults only (accents and case ignored, whole words). A message with one is
#: refused with a polite explanation; the form keeps the text so nothing is lost.
ABUSIVE_TERMS = (
    "connard",
    "connards",
    "connasse",
    "connasses",
    "salope",
    "salopes",
    "salaud",
    "salauds",
    "encule",
    "encules",
    "enculer",
    "enfoire",
    "enfoires",
    "batard",
    "batards",
    "fils de pute",
    "pute",
    "putes",
    "ta gueule",
    "nique ta mere",
    "ntm",
    "pede",
    "pedes",
    "raclure",
    "sous merde",
)

_quiet = ContextVar("complaints_quiet", default=False)


class TrackingExpired(Exception):
    """The tracking link expired (6 months after closing, or the personal data were
    purged). ``.complaint`` is the case (the page may show its reference only)."""

    def __init__(self, complaint=None):
        super().__init__("Ce lien de suivi a expiré.")
        self.complaint = complaint


@contextlib.contextmanager
def without_messages():
    """Record cases without any message to the people (the demo's fictitious people)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


# ----- small helpers ------------------------------------------------------------------------


def add_months(moment: datetime, months: int) -> datetime:
    """*moment* plus calendar months (the day clamped to the month's last day)."""
    month = moment.month - 1 + months
    year = moment.year + month // 12
    month = month % 12 + 1
    for day in (moment.day, 30, 29, 28):
        with contextlib.suppress(ValueError):
            return moment.replace(year=year, month=month, day=day)
    raise ValueError(moment)  # pragma: no cover


def _normalise_words(text: str) -> str:
    stripped = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(ch for ch in stripped if not unicodedata.combining(ch))
    return " " + re.sub(r"[^a-z0-9]+", " ", stripped).strip() + " "


def abusive_terms(text: str) -> list[str]:
    """The insults of ABUSIVE_TERMS found in *text* (accents, case, punctuation ignored)."""
    words = _normalise_words(text or "")
    return [term for term in ABUSIVE_TERMS if f" {term} " in words]


def _abuse_message(found) -> str:
    return (
        "Votre message contient des termes injurieux (« "
        + " », « ".join(found)
        + " »). Reformulez-le sans insulte : votre demande sera traitée de la même façon, "
        "et votre texte reste dans le formulaire."
    )


def clean_phone(raw: str) -> str:
    """A French number as « 06 12 34 56 78 » (or an international one as « +… »), or
    ValidationError."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    digits = re.sub(r"[\s.\-()/]", "", raw)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if digits.startswith("+33") and len(digits) == 12:
        digits = "0" + digits[3:]
    if re.fullmatch(r"0[1-9]\d{8}", digits):
        return " ".join(digits[i : i + 2] for i in range(0, 10, 2))
    if re.fullmatch(r"\+[1-9]\d{7,14}", digits):
        return digits
    raise ValidationError(
        "Numéro de téléphone invalide : indiquez 10 chiffres (ex. 02 43 12 34 56 ou "
        "06 12 34 56 78), ou un numéro international commençant par +."
    )


def mobile_number(phone: str) -> str:
    """The number in international form when it can receive an SMS, else ""."""
    try:
        return sms.normalise_phone(phone) if phone else ""
    except ValidationError:
        return ""


def reachable_electronically(c: Complaint) -> bool:
    return bool(c.email or mobile_number(c.phone))


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _text(value, field, label, *, minimum=1, maximum, errors):
    value = (value or "").strip()
    if not value:
        errors.setdefault(field, []).append(f"{label} est obligatoire.")
    elif len(value) < minimum:
        errors.setdefault(field, []).append(
            f"{label} est trop court : {minimum} caractères au moins. Précisez votre demande."
        )
    elif len(value) > maximum:
        errors.setdefault(field, []).append(
            f"{label} est trop long : {len(value)} caractères pour {maximum} au plus. "
            "Raccourcissez-le ou joignez un document."
        )
    return value


def _check_abuse(errors, **texts):
    for field, text in texts.items():
        found = abusive_terms(text)
        if found:
            errors.setdefault(field, []).append(_abuse_message(found))


def _raise(errors):
    if errors:
        raise ValidationError(errors)


def _lock(c: Complaint) -> Complaint:
    return (
        Complaint.objects.select_for_update(of=("self",))
        .select_related("contact", "organisation")
        .get(pk=c.pk)
    )


def _refuse_purged(c: Complaint):
    if c.purged_at:
        raise ValidationError(
            "Les données de ce dossier ont été effacées (durée de conservation échue)."
        )


def _check_handler(actor, c):
    if actor is not None and not can_handle(actor, c):
        raise PermissionDenied("Vous ne traitez pas ce dossier.")


def _audit(actor, action, c, **changes):
    record_event(actor, action, c, organisation=c.organisation, changes=changes)


# ----- contact-log reasons and policies -----------------------------------------------------


def ensure_reason(organisation, code: str) -> Reason:
    """The contact reason *code* of the organisation, created with its default deadline
    policies (one per complaint channel) the first time. Existing reasons and policies are
    never changed: the organisation edits them in the contacts settings."""
    reason = Reason.objects.filter(organisation=organisation, code=code).first()
    if reason is not None:
        return reason
    label, answer_days = REASONS[code]
    try:
        with transaction.atomic():
            reason = contact_services.save_reason(None, organisation, code=code, label=label)
    except (IntegrityError, ValidationError):
        # Created at the same time by another request: use theirs (and its policies).
        return Reason.objects.get(organisation=organisation, code=code)
    # Default policies, as the contact log saves its own (clocks.ensure_default_policies).
    ClockPolicy.objects.bulk_create(
        [
            ClockPolicy(
                organisation=organisation,
                channel=channel,
                reason=reason,
                ack_delay=ACK_DAYS.get(channel, ACK_DAYS_DEFAULT),
                ack_unit=DelayUnit.WORKING_DAYS,
                answer_delay=answer_days,
                answer_unit=DelayUnit.WORKING_DAYS,
            )
            for channel in dict.fromkeys(INTAKE_CHANNELS.values())
        ],
        ignore_conflicts=True,
    )
    return reason


def policy_of(organisation, code: str, channel: str):
    """The deadline policy of reason *code* on *channel* (for the documentation pages)."""
    reason = ensure_reason(organisation, code)
    return ClockPolicy.objects.filter(
        organisation=organisation, channel=channel, reason=reason
    ).first()


def _contact_site(organisation, c):
    for site in (c.site, c.relay):
        if site is not None and site.organisation_id == organisation.pk:
            return site
    return None


# ----- intake -------------------------------------------------------------------------------


def _check_intake_rights(actor, organisation, intake, relay, errors):
    if actor is None:
        if intake != Intake.FORM:
            errors.setdefault("intake", []).append(
                "Une demande faite sur le formulaire public est reçue « par formulaire »."
            )
        return
    if getattr(actor, "is_superuser", False) or has_role(
        actor, *INTAKE_ROLES, organisation=organisation
    ):
        return
    if has_role(actor, Role.PARTENAIRE, organisation=organisation):
        if intake != Intake.RELAY:
            errors.setdefault("intake", []).append(
                "Un relais partenaire enregistre les demandes « par un relais partenaire »."
            )
        if relay is not None and relay.pk not in scope_for(actor).relay_site_ids:
            errors.setdefault("relay", []).append("Choisissez votre propre relais.")
        return
    raise PermissionDenied("Vous ne pouvez pas enregistrer de demande pour cet organisme.")


def _save_attachments(c, checked):
    for f, found in checked:
        name = (getattr(f, "name", "") or "fichier").replace("\\", "/").rsplit("/", 1)[-1]
        attachment = Attachment(
            complaint=c,
            original_name=name[:200],
            content_type=found.content_type,
            size=f.size,
        )
        f.seek(0)
        attachment.file.save(f"{uuid.uuid4().hex}{found.extensions[0]}", f, save=True)


def _new_complaint_saved(c: Complaint, contact) -> None:
    """Save a new case with a unique reference and token (a collision draws again)."""
    for _attempt in range(8):
        while Complaint.objects.filter(reference=c.reference).exists():
            c.reference = complaint_models.new_reference()
        try:
            with transaction.atomic():
                c.save()
            break
        except IntegrityError:
            c.pk = None
            c.reference = complaint_models.new_reference()
            c.token = complaint_models.new_token()
    else:  # pragma: no cover - 8 collisions in a row
        raise ValidationError("Référence introuvable : réessayez.")
    subject = f"{c.get_kind_display()} {c.reference}"
    if contact.subject != subject:
        contact.subject = subject
        contact.save(update_fields=["subject", "updated_at"])


@transaction.atomic
def file_complaint(
    actor,
    organisation,
    *,
    kind,
    intake,
    subject,
    body,
    full_name="",
    email="",
    phone="",
    postal_address="",
    file_number="",
    site=None,
    relay=None,
    consent=False,
    attachments=(),
    now=None,
) -> Complaint:
    """Record a complaint, suggestion or compliment; start its clocks; acknowledge it.

    *actor* is None for the public form (intake « formulaire »); a partner files for its
    relay (intake « relais »). Checks (all problems at once, ValidationError per field):
    subject and message not empty, message of 10 to 10,000 characters, no obvious insult,
    e-mail and phone formats, at least one way to answer (``email`` key) for a complaint
    or suggestion from the public or a relay, consent (``consent``) for those intakes,
    attachments (``attachments``: type by content, ≤ 5 MB each, ≤ 5 files, ≤ 15 MB).

    Creates the contact-log entry (reason « Réclamation » / « Suggestion » /
    « Remerciement », channel from the intake, subject « Réclamation REC-… » only), then:
    with an e-mail or a mobile number, the acknowledgement with the reference and the
    tracking link goes out on commit (e-mail, else SMS) and is recorded at once; without,
    an agent sends it and records it (acknowledge_complaint). A compliment is closed once
    acknowledged (at once when the person left no address).
    """
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = ["Choisissez la nature de la demande."]
    if intake not in Intake.values:
        errors["intake"] = ["Indiquez comment la demande a été reçue."]
    _check_intake_rights(actor, organisation, intake, relay, errors)
    if site is not None and site.organisation_id != organisation.pk:
        errors.setdefault("site", []).append("Ce site n'appartient pas à cet organisme.")
    if intake == Intake.RELAY and relay is None:
        errors.setdefault("relay", []).append("Indiquez le relais partenaire.")
    if relay is not None and relay.organisation_id != organisation.pk:
        errors.setdefault("relay", []).append("Ce relais n'est pas un relais de cet organisme.")
    if relay is not None and intake != Intake.RELAY:
        relay = None
    subject = _text(_one_line(subject), "subject", "L'objet", maximum=SUBJECT_MAX, errors=errors)
    body = _text(body, "body", "Le message", minimum=BODY_MIN, maximum=BODY_MAX, errors=errors)
    _check_abuse(errors, subject=subject, body=body)
    full_name = _one_line(full_name)
    if len(full_name) > 200:
        errors.setdefault("full_name", []).append("Le nom est trop long (200 caractères).")
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.setdefault("email", []).append(
                f"L'adresse électronique « {email} » n'est pas valide (ex. nom@exemple.fr)."
            )
    try:
        phone = clean_phone(phone)
    except ValidationError as exc:
        errors.setdefault("phone", []).extend(exc.messages)
    postal_address = (postal_address or "").strip()
    if len(postal_address) > ADDRESS_MAX:
        errors.setdefault("postal_address", []).append(
            f"L'adresse postale est trop longue ({ADDRESS_MAX} caractères)."
        )
    file_number = re.sub(r"\s+", "", file_number or "")
    if file_number and not re.fullmatch(r"[0-9A-Za-z]{1,20}", file_number):
        errors.setdefault("file_number", []).append(
            "Le numéro d'allocataire ne contient que des chiffres et des lettres (20 au plus)."
        )
    from_outside = actor is None or intake == Intake.RELAY
    if (
        from_outside
        and kind in (Kind.COMPLAINT, Kind.SUGGESTION)
        and not (email or phone or postal_address)
    ):
        errors.setdefault("email", []).append(
            "Indiquez au moins un moyen de vous répondre : une adresse électronique, un "
            "numéro de téléphone ou une adresse postale."
        )
    if from_outside and not consent:
        errors.setdefault("consent", []).append(
            "Cochez la case d'accord : sans elle, nous ne pouvons pas traiter votre demande."
        )
    checked = []
    try:
        checked = attachment_checks.check_uploads(attachments)
    except ValidationError as exc:
        errors.setdefault("attachments", []).extend(exc.message_dict["attachments"])
    _raise(errors)

    c = Complaint(
        organisation=organisation,
        site=site,
        relay=relay,
        kind=kind,
        intake=intake,
        subject=subject,
        body=body,
        full_name=full_name,
        email=email,
        phone=phone,
        postal_address=postal_address,
        file_number=file_number,
        consent_at=now if consent else None,
        created_by=actor if getattr(actor, "pk", None) else None,
        received_at=now,
        status=Status.RECEIVED,
        reference=complaint_models.new_reference(),
    )
    while Complaint.objects.filter(reference=c.reference).exists():
        c.reference = complaint_models.new_reference()
    c.contact = contact_services.log_contact(
        actor,
        organisation,
        now=now,
        channel=INTAKE_CHANNELS[intake],
        reason=ensure_reason(organisation, KIND_REASONS[kind]),
        site=_contact_site(organisation, c),
        subject=f"{c.get_kind_display()} {c.reference}",
        received_at=now,
    )
    _new_complaint_saved(c, c.contact)
    _save_attachments(c, checked)
    _audit(
        actor,
        "réclamation.créée",
        c,
        nature=kind,
        reçue_par=intake,
        site=c.site_id,
        relais=c.relay_id,
        pièces_jointes=len(checked),
    )
    if reachable_electronically(c):
        _acknowledge(actor, c, now)
        _queue(c, Message.Kind.ACK)
    elif kind == Kind.COMPLIMENT and not (c.postal_address or c.phone):
        _close(actor, c, now)  # nobody to thank back: nothing more to do
    return c


def _acknowledge(actor, c, now):
    c.contact = contact_services.acknowledge_contact(actor, c.contact, at=now, now=now)
    c.acknowledged_at = now
    if c.status == Status.RECEIVED:
        c.status = Status.IN_PROGRESS if c.assignee_id else Status.ACKNOWLEDGED
    c.save(update_fields=["acknowledged_at", "status", "updated_at"])
    _audit(actor, "réclamation.accusée", c, le=now.isoformat())
    if c.kind == Kind.COMPLIMENT:
        _close(actor, c, now)


def _close(actor, c, now, outcome=Outcome.ANSWERED):
    if c.contact_id and c.contact.status != ContactStatus.CLOSED:
        c.contact = contact_services.close_contact(actor, c.contact, outcome=outcome, now=now)
    c.closed_at = now
    c.status = Status.CLOSED
    c.save(update_fields=["closed_at", "status", "updated_at"])
    _audit(actor, "réclamation.close", c, le=now.isoformat())


@transaction.atomic
def acknowledge_complaint(actor, c, now=None) -> Complaint:
    """Record the acknowledgement of receipt sent by an agent (a letter, a call) when the
    person gave no e-mail nor mobile number (otherwise file_complaint sent it already).
    A compliment is closed with it."""
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    if c.acknowledged_at:
        raise ValidationError("L'accusé de réception est déjà enregistré.")
    if c.status not in (Status.RECEIVED, Status.IN_PROGRESS, Status.WAITING):
        raise ValidationError(
            f"Ce dossier est « {c.get_status_display().lower()} » : l'accusé de réception "
            "n'a plus lieu d'être."
        )
    _acknowledge(actor, c, now)
    return c


@transaction.atomic
def assign_complaint(actor, c, assignee) -> Complaint:
    """Give the case to a person of the organisation (None: nobody). The contact-log entry
    follows (so the clock's warnings reach the assignee). An acknowledged case becomes
    « en cours »."""
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    if c.status == Status.CLOSED:
        raise ValidationError("Ce dossier est clos : il ne peut plus être confié.")
    if assignee is not None and not (
        assignee.is_active
        and has_role(assignee, *contact_services.HANDLER_ROLES, organisation=c.organisation)
    ):
        message = f"{assignee} n'est pas un agent de {c.organisation} : choisissez-en un autre."
        raise ValidationError({"assignee": [message]})
    before = c.assignee_id
    if before == getattr(assignee, "pk", None):
        return c
    c.assignee = assignee
    fields = ["assignee", "updated_at"]
    if assignee is not None and c.status == Status.ACKNOWLEDGED:
        c.status = Status.IN_PROGRESS
        fields.append("status")
    c.save(update_fields=fields)
    if c.contact_id:
        contact_services.assign_contacts(actor, [c.contact], assignee)
    _audit(actor, "réclamation.assignée", c, avant=before, après=getattr(assignee, "pk", None))
    return c


@transaction.atomic
def add_note(actor, c, text) -> Note:
    """Add an internal note (never shown to the requester). Returns the Note."""
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    errors = {}
    text = _text(text, "text", "La note", maximum=NOTE_MAX, errors=errors)
    _raise(errors)
    note = Note.objects.create(
        complaint=c, author=actor if getattr(actor, "pk", None) else None, text=text
    )
    _audit(actor, "réclamation.note_ajoutée", c, note=note.pk)
    return note


@transaction.atomic
def tag_complaint(actor, c, *, theme, root_causes) -> Complaint:
    """Set the theme (a Theme of the organisation, or None) and the root causes."""
    c = _lock(c)
    _check_handler(actor, c)
    root_causes = list(root_causes or ())
    errors = {}
    if theme is not None and theme.organisation_id != c.organisation_id:
        errors["theme"] = ["Ce thème n'appartient pas à cet organisme."]
    elif theme is not None and not theme.active and theme.pk != c.theme_id:
        errors["theme"] = [f"Le thème « {theme} » n'est plus en usage : choisissez-en un autre."]
    current = set(c.root_causes.values_list("pk", flat=True))
    for cause in root_causes:
        if cause.organisation_id != c.organisation_id:
            errors.setdefault("root_causes", []).append(
                f"La cause « {cause} » n'appartient pas à cet organisme."
            )
        elif not cause.active and cause.pk not in current:
            errors.setdefault("root_causes", []).append(
                f"La cause « {cause} » n'est plus en usage."
            )
    _raise(errors)
    before = (c.theme_id, sorted(current))
    c.theme = theme
    c.save(update_fields=["theme", "updated_at"])
    c.root_causes.set(root_causes)
    after = (c.theme_id, sorted(x.pk for x in root_causes))
    if before != after:
        _audit(
            actor,
            "réclamation.étiquetée",
            c,
            thème=[before[0], after[0]],
            causes=[before[1], after[1]],
        )
    return c


OPEN_FOR_WORK = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)


@transaction.atomic
def pause_complaint(actor, c, note="", now=None) -> Complaint:
    """Waiting for the requester's documents: the clock stops (the note, if any, is kept
    as an internal note)."""
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    if c.status == Status.WAITING:
        raise ValidationError("Ce dossier est déjà en attente de pièces.")
    if c.status not in OPEN_FOR_WORK:
        raise ValidationError(
            f"Ce dossier est « {c.get_status_display().lower()} » : il ne peut pas être mis "
            "en attente."
        )
    note = (note or "").strip()
    c.contact = contact_services.pause_clock(actor, c.contact, now=now)
    c.status = Status.WAITING
    c.save(update_fields=["status", "updated_at"])
    if note:
        Note.objects.create(
            complaint=c,
            author=actor if getattr(actor, "pk", None) else None,
            text=f"Mise en attente de pièces : {note}"[:NOTE_MAX],
        )
    _audit(actor, "réclamation.mise_en_attente", c, le=now.isoformat())
    return c


@transaction.atomic
def resume_complaint(actor, c, now=None) -> Complaint:
    """The documents arrived: the clock runs again, deadlines pushed back by the pause."""
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    if c.status != Status.WAITING:
        raise ValidationError("Ce dossier n'est pas en attente de pièces.")
    c.contact = contact_services.resume_clock(actor, c.contact, now=now)
    c.status = Status.IN_PROGRESS
    c.save(update_fields=["status", "updated_at"])
    _audit(actor, "réclamation.reprise", c, le=now.isoformat())
    return c


@transaction.atomic
def send_answer(actor, c, *, text, via, now=None) -> Complaint:
    """Send the answer on the merits, once: by e-mail (sent on commit, with the reference
    and the tracking link) or as a PDF letter (ready at complaints:letter; an SMS tells a
    person with a mobile number that it is on its way). The case becomes « répondue » and
    its answer clock stops (a pause ends with it)."""
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    if c.kind == Kind.COMPLIMENT:
        raise ValidationError("Un remerciement n'appelle pas de réponse : il est clos.")
    if c.answered_at:
        raise ValidationError("La réponse est déjà envoyée : ajoutez plutôt une note.")
    if c.status not in (*OPEN_FOR_WORK, Status.WAITING):
        raise ValidationError(
            f"Ce dossier est « {c.get_status_display().lower()} » : il ne peut plus recevoir "
            "de réponse."
        )
    errors = {}
    text = _text(text, "text", "La réponse", maximum=ANSWER_MAX, errors=errors)
    if via not in AnswerVia.values:
        errors["via"] = ["Choisissez comment envoyer la réponse : courriel ou courrier."]
    elif via == AnswerVia.EMAIL and not c.email:
        errors["via"] = [
            "Cette personne n'a pas donné d'adresse électronique : envoyez la réponse par courrier."
        ]
    _raise(errors)
    if c.contact.status != ContactStatus.CLOSED and c.contact.first_answer_at is None:
        c.contact = contact_services.answer_contact(actor, c.contact, at=now, now=now)
    c.answer = text
    c.answer_via = via
    c.answered_at = now
    c.status = Status.ANSWERED
    c.save(update_fields=["answer", "answer_via", "answered_at", "status", "updated_at"])
    _audit(actor, "réclamation.répondue", c, par=via, le=now.isoformat())
    _queue(c, Message.Kind.ANSWER)
    return c


@transaction.atomic
def close_complaint(actor, c, now=None) -> Complaint:
    """Close the case (a complaint or suggestion once answered; a compliment any time).
    The requester may still ask for a mediation within 2 months of the answer. A
    satisfaction survey invitation follows if the organisation's survey settings say so."""
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    if c.status == Status.CLOSED:
        raise ValidationError("Ce dossier est déjà clos.")
    if c.status == Status.MEDIATION:
        raise ValidationError("Ce dossier est en médiation : la décision du médiateur le clôt.")
    if c.kind != Kind.COMPLIMENT and not c.answered_at:
        raise ValidationError("Envoyez d'abord la réponse : un dossier se clôt une fois répondu.")
    _close(actor, c, now)
    if c.kind != Kind.COMPLIMENT and (c.email or c.phone) and not _quiet.get():
        transaction.on_commit(lambda: _invite_to_survey(c.pk, now))
    return c


def _invite_to_survey(complaint_id, now):
    try:
        from voix.surveys import services as survey_services

        c = Complaint.objects.select_related("organisation", "site").get(pk=complaint_id)
        survey_services.invite(
            c.organisation,
            source="reclamation",
            source_id=c.pk,
            email=c.email,
            phone=c.phone,
            site=c.site,
            now=now,
        )
    except Exception:  # the case is closed: a survey problem must not undo it
        logger.exception("Invitation à l'enquête après la réclamation %s", complaint_id)


@transaction.atomic
def record_satisfaction(c, score: int, now=None) -> Complaint:
    """The requester's satisfaction with the answer, 1 (« Pas du tout satisfait ») to 4
    (« Tout à fait satisfait »), once (from the tracking page)."""
    now = now or timezone.now()
    c = _lock(c)
    if not c.answered_at:
        raise ValidationError("Vous pourrez donner votre avis une fois la réponse reçue.")
    if c.satisfaction is not None:
        raise ValidationError("Vous avez déjà donné votre avis sur cette réponse : merci.")
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in dict(SATISFACTION_CHOICES):
        raise ValidationError({"score": ["Choisissez une des réponses proposées."]})
    c.satisfaction = score
    c.satisfaction_at = now
    c.save(update_fields=["satisfaction", "satisfaction_at", "updated_at"])
    _audit(None, "réclamation.satisfaction", c, note=score)
    return c


# ----- mediation ----------------------------------------------------------------------------


def mediation_deadline(c) -> datetime | None:
    """Until when the requester may ask for a mediation (2 months after the answer)."""
    return add_months(c.answered_at, MEDIATION_WINDOW_MONTHS) if c.answered_at else None


def _has_mediation(c) -> bool:
    return Mediation.objects.filter(complaint_id=c.pk).exists()


def can_request_mediation(c, now=None) -> bool:
    """Whether the requester may still ask for mediation from the tracking page: a
    complaint, answered, at most 2 months ago, without a mediation yet."""
    now = now or timezone.now()
    return (
        c.kind == Kind.COMPLAINT
        and c.answered_at is not None
        and c.purged_at is None
        and c.status in (Status.ANSWERED, Status.CLOSED)
        and now <= mediation_deadline(c)
        and not _has_mediation(c)
    )


@transaction.atomic
def escalate_to_mediation(actor, c, *, reason, now=None) -> Mediation:
    """Refer the case to the médiateur. *actor* None: the requester, from the tracking
    page, within 2 months of the answer; staff may refer a complaint at any time.

    Creates the mediation's own contact (reason « Médiation », its own deadline, assigned
    to nobody until a médiateur takes it); the complaint's contact is closed (« réponse
    apportée » when answered, else « orienté »); the case is « en médiation ». The
    requester gets an acknowledgement (e-mail, else SMS).
    """
    now = now or timezone.now()
    c = _lock(c)
    _check_handler(actor, c)
    _refuse_purged(c)
    if c.kind != Kind.COMPLAINT:
        raise ValidationError("Seule une réclamation peut être portée devant le médiateur.")
    if _has_mediation(c):
        raise ValidationError("Une médiation est déjà demandée pour ce dossier.")
    if actor is None and not can_request_mediation(c, now):
        if not c.answered_at:
            raise ValidationError("Vous pourrez demander une médiation une fois la réponse reçue.")
        raise ValidationError(
            "Le délai pour demander une médiation (2 mois après la réponse) est passé. "
            "Écrivez au service si vous souhaitez tout de même la demander."
        )
    errors = {}
    reason = _text(reason, "reason", "Le motif", minimum=BODY_MIN, maximum=BODY_MAX, errors=errors)
    _check_abuse(errors, reason=reason)
    _raise(errors)
    channel = Channel.MESSAGING if actor is None else c.contact.channel
    contact = contact_services.log_contact(
        actor,
        c.organisation,
        now=now,
        channel=channel,
        reason=ensure_reason(c.organisation, REASON_MEDIATION),
        site=_contact_site(c.organisation, c),
        subject=f"Médiation {c.reference}",
        received_at=now,
    )
    mediation = Mediation.objects.create(
        complaint=c,
        contact=contact,
        requested_at=now,
        requested_by=actor if getattr(actor, "pk", None) else None,
        reason=reason,
    )
    if c.contact_id and c.contact.status != ContactStatus.CLOSED:
        outcome = Outcome.ANSWERED if c.answered_at else Outcome.ORIENTED
        c.contact = contact_services.close_contact(actor, c.contact, outcome=outcome, now=now)
    c.status = Status.MEDIATION
    c.closed_at = None
    c.save(update_fields=["status", "closed_at", "updated_at"])
    _audit(actor, "médiation.saisie", c, médiation=mediation.pk, par_l_usager=actor is None)
    if reachable_electronically(c):
        mediation.contact = contact_services.acknowledge_contact(actor, contact, at=now, now=now)
        _queue(c, Message.Kind.MEDIATION_ACK)
    return mediation


def _check_mediator(actor, m):
    if actor is None:
        return
    if not has_role(actor, Role.MEDIATEUR, organisation=m.complaint.organisation_id):
        raise PermissionDenied("Seul un médiateur de l'organisme traite une médiation.")


@transaction.atomic
def take_mediation(actor, m) -> Mediation:
    """A médiateur takes the mediation (its contact is assigned to them)."""
    m = (
        Mediation.objects.select_for_update(of=("self",))
        .select_related("complaint", "contact")
        .get(pk=m.pk)
    )
    _check_mediator(actor, m)
    if m.status != MediationStatus.OPEN:
        raise ValidationError("Cette médiation est terminée : la décision est rendue.")
    if m.mediator_id == getattr(actor, "pk", None):
        return m
    before = m.mediator_id
    m.mediator = actor
    m.save(update_fields=["mediator"])
    if m.contact_id and actor is not None:
        contact_services.assign_contacts(actor, [m.contact], actor)
    record_event(
        actor,
        "médiation.prise",
        m,
        organisation=m.complaint.organisation,
        changes={"avant": before, "après": getattr(actor, "pk", None)},
    )
    return m


@transaction.atomic
def decide_mediation(actor, m, *, decision, text, now=None) -> Mediation:
    """Record the médiateur's decision (and its reasons), close the mediation's contact
    and the case, and tell the requester (e-mail, else SMS; the tracking page shows it)."""
    now = now or timezone.now()
    m = (
        Mediation.objects.select_for_update(of=("self",))
        .select_related("complaint", "contact")
        .get(pk=m.pk)
    )
    _check_mediator(actor, m)
    if m.status != MediationStatus.OPEN:
        raise ValidationError("La décision de cette médiation est déjà rendue.")
    if m.mediator_id and actor is not None and m.mediator_id != actor.pk:
        raise ValidationError(
            f"Cette médiation est suivie par {m.mediator} : prenez-la d'abord pour décider."
        )
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = ["Choisissez la décision."]
    text = _text(text, "text", "La motivation", maximum=ANSWER_MAX, errors=errors)
    _raise(errors)
    if m.contact_id and m.contact.status != ContactStatus.CLOSED:
        m.contact = contact_services.close_contact(
            actor, m.contact, outcome=Outcome.ANSWERED, now=now
        )
    m.mediator = m.mediator or (actor if getattr(actor, "pk", None) else None)
    m.decision = decision
    m.decision_text = text
    m.decided_at = now
    m.decided_by = actor if getattr(actor, "pk", None) else None
    m.status = MediationStatus.DECIDED
    m.save()
    c = _lock(m.complaint)
    _close(actor, c, now)
    record_event(
        actor,
        "médiation.décidée",
        m,
        organisation=c.organisation,
        changes={"décision": decision, "le": now.isoformat()},
    )
    _queue(c, Message.Kind.MEDIATION_DECISION)
    return m


# ----- settings: themes and root causes -----------------------------------------------------


def _save_label(actor, organisation, model, obj, fields, action, what):
    obj = obj or model(organisation=organisation)
    if obj.organisation_id != organisation.pk:
        raise ValidationError(f"Ce {what} n'appartient pas à cet organisme.")
    unknown = set(fields) - {"label", "active"}
    if unknown:
        raise ValidationError(f"Champ(s) inconnu(s) : {', '.join(sorted(unknown))}.")
    if "label" in fields:
        obj.label = _one_line(fields["label"])
    if "active" in fields:
        obj.active = bool(fields["active"])
    if not obj.label:
        raise ValidationError({"label": [f"Le libellé du {what} est obligatoire."]})
    if model.objects.filter(organisation=organisation, label__iexact=obj.label).exclude(pk=obj.pk):
        raise ValidationError({"label": [f"Le {what} « {obj.label} » existe déjà."]})
    obj.full_clean(exclude=["organisation"])
    created = obj.pk is None
    obj.save()
    record_event(
        actor,
        action,
        obj,
        organisation=organisation,
        changes={"libellé": obj.label, "en_usage": obj.active, "créé": created},
    )
    return obj


@transaction.atomic
def save_theme(actor, organisation, theme=None, **fields) -> Theme:
    """Create or change a theme (label, active). A theme no longer used is deactivated,
    never deleted (the indicators keep it)."""
    return _save_label(
        actor, organisation, Theme, theme, fields, "réclamation.thème_enregistré", "thème"
    )


@transaction.atomic
def save_root_cause(actor, organisation, cause=None, **fields) -> RootCause:
    """Create or change a root cause (label, active)."""
    return _save_label(
        actor, organisation, RootCause, cause, fields, "réclamation.cause_enregistrée", "cause"
    )


# ----- who sees what ------------------------------------------------------------------------


def _authenticated(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def visible_complaints(user):
    """The complaints *user* may see:

    - manager, qualité, admin of the organisation: every case (with personal data);
    - the assignee (any role): their cases;
    - a médiateur of the organisation: the cases referred to mediation;
    - a partner: the cases its relay filed; the agent who recorded a case: that case —
      both without the message nor personal data (see can_see_personal_data);
    - nobody else (outsiders get 404).
    """
    if not _authenticated(user):
        return Complaint.objects.none()
    scope = scope_for(user)
    if scope.everything:
        return Complaint.objects.all()
    handling = organisations_with_role(user, *HANDLING_ROLES).values_list("pk", flat=True)
    mediating = organisations_with_role(user, Role.MEDIATEUR).values_list("pk", flat=True)
    condition = (
        Q(organisation__in=list(handling))
        | Q(assignee=user)
        | Q(created_by=user)
        | Q(organisation__in=list(mediating), mediation__isnull=False)
    )
    if scope.relay_site_ids:
        condition |= Q(relay__in=scope.relay_site_ids)
    return Complaint.objects.filter(condition).distinct()


def can_see_personal_data(user, c) -> bool:
    """Whether *user* may see the message and personal data of *c*: manager, qualité,
    admin of the organisation, the assignee, a médiateur once the case is in mediation."""
    if not _authenticated(user):
        return False
    if scope_for(user).everything or c.assignee_id == user.pk:
        return True
    if has_role(user, *HANDLING_ROLES, organisation=c.organisation_id):
        return True
    return has_role(user, Role.MEDIATEUR, organisation=c.organisation_id) and _has_mediation(c)


def can_handle(user, c) -> bool:
    """Whether *user* may act on *c* (acknowledge, assign, note, tag, answer, pause, resume,
    close, escalate): manager, qualité, admin of the organisation, or the assignee."""
    if not _authenticated(user):
        return False
    if scope_for(user).everything or c.assignee_id == user.pk:
        return True
    return has_role(user, *HANDLING_ROLES, organisation=c.organisation_id)


def visible_mediations(user):
    """The mediations *user* may see: médiateur (or admin) of the organisation."""
    if not _authenticated(user):
        return Mediation.objects.none()
    if scope_for(user).everything:
        return Mediation.objects.all()
    organisations = organisations_with_role(user, Role.MEDIATEUR, Role.ADMIN)
    return Mediation.objects.filter(
        complaint__organisation__in=list(organisations.values_list("pk", flat=True))
    )


def record_personal_data_view(user, c) -> None:
    """Audit one view of the case's personal data (« réclamation.consultée »): every GET of
    a page, a letter or an attachment that shows them calls this once."""
    record_event(user, "réclamation.consultée", c, organisation=c.organisation)


# ----- the requester's link and letter ------------------------------------------------------


def tracking_path(c) -> str:
    """The tracking page's path on this server (redirects stay on the server that answered)."""
    return reverse("complaints:tracking", kwargs={"token": c.token})


def tracking_url(c) -> str:
    """The absolute private tracking link of the case (the token is the only key)."""
    return settings.BASE_URL + tracking_path(c)


def tracking_expires_at(c) -> datetime | None:
    """When the tracking link stops working: 6 months after closing (None while open)."""
    return add_months(c.closed_at, TRACKING_MONTHS) if c.closed_at else None


def complaint_for_token(token, now=None) -> Complaint:
    """The case of a tracking token: Http404 when unknown, TrackingExpired when expired
    (6 months after closing) or when the personal data were purged."""
    now = now or timezone.now()
    c = (
        Complaint.objects.select_related("organisation", "site", "contact")
        .filter(token=str(token or ""))
        .first()
    )
    if c is None or not token:
        raise Http404("Lien de suivi inconnu.")
    if c.purged_at or (c.closed_at and now > tracking_expires_at(c)):
        raise TrackingExpired(c)
    return c


def letter_pdf(c, text=None) -> bytes:
    """The answer letter as PDF (WeasyPrint); *text* previews a draft answer."""
    from . import letter

    return letter.letter_pdf(c, text=text)


# ----- messages to the requester ------------------------------------------------------------


def _queue(c, kind) -> None:
    if _quiet.get():
        return
    from . import notifications

    transaction.on_commit(lambda: notifications.queue(c.pk, str(kind)))


def deadline_summary(c) -> dict:
    """The case's clock, from its contact: ack_due_at, answer_due_at, due_at, paused_at,
    breached (a deadline missed), answered_in_time (None until answered)."""
    contact = c.contact
    if contact is None:
        return {}
    answered_in_time = None
    if c.answered_at:
        answered_in_time = contact.answer_due_at is None or c.answered_at <= contact.answer_due_at
    return {
        "ack_due_at": contact.ack_due_at,
        "answer_due_at": contact.answer_due_at,
        "due_at": contact.due_at,
        "paused_at": contact.paused_at,
        "breached": contact.breached_at is not None,
        "answered_in_time": answered_in_time,
    }


def site_choices(organisation):
    """Sites a case can be about (active sites of the organisation, relays excluded)."""
    return Site.objects.filter(organisation=organisation, is_active=True).exclude(
        kind__in=RELAY_KINDS
    )
