"""Every write of the surveys app: one function per action, in a transaction, audited.

- the builder: ``create_survey`` (the standard JDMA questions and the overall satisfaction
  question), ``update_survey``, ``save_question``, ``delete_question``, ``move_question``,
  ``set_survey_status``;
- distribution: ``ensure_link`` (one link per survey × site × channel), ``set_link_active``;
- answers: ``submit_response`` (validates each answer against its question, fills the scored
  columns, refuses a replayed form: ``AlreadyAnswered``);
- invitations: ``invite`` (at most one per person per period, one per source), the message
  sent by a task on commit (``send_invitation``), ``retry_invitations``;
- ``save_settings``.

Public answers are not written to the audit log (they are anonymous and numerous); every
staff action is.
"""

import hashlib
import hmac
import logging
from datetime import UTC, datetime, timedelta

from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.forms.models import model_to_dict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from voix.core import sms
from voix.core.models import Organisation, Site
from voix.core.services import record_event

from . import scales
from .models import (
    Invitation,
    InvitationCap,
    InvitationSource,
    InvitationStatus,
    LinkChannel,
    Question,
    QuestionKind,
    Response,
    Survey,
    SurveyLink,
    SurveySettings,
    SurveyStatus,
)

logger = logging.getLogger(__name__)

Kind = QuestionKind

# Names the answer form uses for itself: no question may take them as its code.
RESERVED_CODES = frozenset({"nonce", "site_internet", "horodatage", "csrfmiddlewaretoken"})
# Channels reached only through a personal invitation, never through a public link.
INVITATION_CHANNELS = {
    InvitationSource.APPOINTMENT: LinkChannel.APPOINTMENT,
    InvitationSource.CONTACT: LinkChannel.CONTACT,
    InvitationSource.COMPLAINT: LinkChannel.COMPLAINT,
}
SOURCE_FLAGS = {
    InvitationSource.APPOINTMENT: "after_appointment",
    InvitationSource.CONTACT: "after_contact",
    InvitationSource.COMPLAINT: "after_complaint",
}
MAX_ATTEMPTS = 3  # an invitation that failed is tried again by the sweep up to this many times
MAX_CHOICES = 20
NONCE_MAX_LENGTH = Response._meta.get_field("nonce").max_length
DEFAULT_INTRODUCTION = (
    "Votre avis nous aide à améliorer l'accueil et les services de {organisation}. "
    "Répondre prend environ 2 minutes ; vos réponses sont anonymes."
)
DEFAULT_THANKS = "Merci ! Votre avis a bien été enregistré. Il nous aide à nous améliorer."


class AlreadyAnswered(Exception):
    """This form (its one-use number) or this invitation was already answered."""

    message = (
        "Cette réponse a déjà été enregistrée : le même formulaire ne peut pas être envoyé "
        "deux fois. Merci pour votre avis !"
    )


# =========================================================================== the builder


def _standard_question(survey: Survey, standard: scales.Standard, position: int, **extra):
    return Question(
        survey=survey,
        position=position,
        kind=standard.kind,
        code=standard.code,
        label=standard.label,
        help_text=standard.help_text,
        **extra,
    )


@transaction.atomic
def create_survey(actor, organisation: Organisation, *, title, standard=True, now=None) -> Survey:
    """Create a questionnaire (in draft). *standard*: with the State's standard questions
    (JDMA) and the overall satisfaction question « Globalement, êtes-vous satisfait… ? »
    (CSAT, flagged ``overall``), the free comment last."""
    title = " ".join((title or "").split())
    if not title:
        raise ValidationError({"title": "Indiquez le titre du questionnaire."})
    survey = Survey(
        organisation=organisation,
        title=title,
        introduction=DEFAULT_INTRODUCTION.format(organisation=organisation.name),
        thanks=DEFAULT_THANKS,
    )
    survey.full_clean()
    survey.save()
    if standard:
        closed = [s for s in scales.STANDARDS if s.kind != Kind.JDMA_VERBATIM]
        questions = [
            _standard_question(survey, s, position, required=s.kind == Kind.JDMA_SATISFACTION)
            for position, s in enumerate(closed, start=1)
        ]
        questions.append(
            Question(
                survey=survey,
                position=len(questions) + 1,
                kind=Kind.CSAT,
                code=scales.OVERALL_CODE,
                label=scales.overall_label(organisation.name),
                required=True,
                overall=True,
            )
        )
        questions.append(_standard_question(survey, scales.VERBATIM, len(questions) + 1))
        Question.objects.bulk_create(questions)
    record_event(
        actor,
        "enquête.créée",
        survey,
        changes={"titre": title, "questions standard": standard},
    )
    return survey


UPDATABLE = {"title": 200, "introduction": 2000, "thanks": 2000}


@transaction.atomic
def update_survey(actor, survey: Survey, **fields) -> Survey:
    """Change a questionnaire's title, welcome text or thanks message."""
    unknown = set(fields) - set(UPDATABLE)
    if unknown:
        raise ValidationError(f"Champ inconnu : {', '.join(sorted(unknown))}.")
    before = model_to_dict(survey, fields=list(UPDATABLE))
    for key, value in fields.items():
        value = (value or "").strip()
        if len(value) > UPDATABLE[key]:
            label = Survey._meta.get_field(key).verbose_name
            raise ValidationError(
                {key: f"Le champ « {label} » dépasse {UPDATABLE[key]} caractères."}
            )
        setattr(survey, key, value)
    survey.title = " ".join(survey.title.split())
    if not survey.title:
        raise ValidationError({"title": "Indiquez le titre du questionnaire."})
    survey.save()
    after = model_to_dict(survey, fields=list(UPDATABLE))
    changes = {k: [before[k], after[k]] for k in UPDATABLE if before[k] != after[k]}
    if changes:
        record_event(actor, "enquête.modifiée", survey, changes=changes)
    return survey


def _clean_choices(raw) -> list[str]:
    if isinstance(raw, str):
        raw = raw.splitlines()
    choices, seen = [], set()
    for item in raw or ():
        label = " ".join(str(item).split())
        if not label:
            continue
        if len(label) > 200:
            raise ValidationError(
                {"choices": f"L'option « {label[:40]}… » dépasse 200 caractères."}
            )
        if label.lower() in seen:
            raise ValidationError({"choices": f"L'option « {label} » est en double."})
        seen.add(label.lower())
        choices.append(label)
    if len(choices) < 2:
        raise ValidationError({"choices": "Indiquez au moins deux options (une par ligne)."})
    if len(choices) > MAX_CHOICES:
        raise ValidationError({"choices": f"Indiquez au plus {MAX_CHOICES} options."})
    return choices


def _new_code(survey: Survey, label: str) -> str:
    base = slugify(label)[:50].strip("-") or "question"
    if base in RESERVED_CODES or base in scales.STANDARD_CODES or base == scales.OVERALL_CODE:
        base = f"q-{base}"[:50]
    taken = set(survey.questions.values_list("code", flat=True))
    code, n = base, 2
    while code in taken:
        code, n = f"{base}-{n}", n + 1
    return code


def _touch(survey: Survey) -> None:
    """Mark the questionnaire changed (the answer page caches its questions by this date)."""
    Survey.objects.filter(pk=survey.pk).update(updated_at=timezone.now())


@transaction.atomic
def save_question(actor, survey: Survey, question: Question | None = None, **fields) -> Question:
    """Add a question to *survey*, or change *question*. Fields: kind, label, help_text,
    required, choices (« choix », « choix multiples »: a list or one option per line),
    overall (a CSAT question only: the one that feeds « satisfaction globale »), code
    (optional: made from the label). A standard question keeps its official wording and
    options; a question's kind and code do not change once answers arrived."""
    allowed = {"kind", "label", "help_text", "required", "choices", "overall", "code"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Champ inconnu : {', '.join(sorted(unknown))}.")
    creating = question is None
    if creating:
        question = Question(survey=survey)
    elif question.survey_id != survey.pk:
        raise ValidationError("Cette question appartient à un autre questionnaire.")
    before = {} if creating else model_to_dict(question)
    answered = not creating and survey.responses.exists()
    kind = fields.get("kind", question.kind)
    if kind not in Kind.values:
        raise ValidationError({"kind": "Choisissez le type de la question."})
    if answered and kind != question.kind:
        raise ValidationError(
            {"kind": "Des réponses sont déjà arrivées : le type de cette question ne change plus."}
        )
    question.kind = kind
    standard = scales.BY_KIND.get(kind)
    if standard:
        clash = survey.questions.filter(kind=kind).exclude(pk=question.pk).exists()
        if clash:
            raise ValidationError(
                {
                    "kind": "Le questionnaire contient déjà la question standard "
                    f"« {standard.label} »."
                }
            )
        question.code = standard.code
        question.label = standard.label
        question.help_text = standard.help_text
        question.choices = []
    else:
        label = " ".join(str(fields.get("label", question.label) or "").split())
        if not label:
            raise ValidationError({"label": "Indiquez l'intitulé de la question."})
        if len(label) > 300:
            raise ValidationError({"label": "L'intitulé dépasse 300 caractères."})
        question.label = label
        if "help_text" in fields:
            help_text = " ".join(str(fields["help_text"] or "").split())
            if len(help_text) > 300:
                raise ValidationError({"help_text": "L'aide dépasse 300 caractères."})
            question.help_text = help_text
        if kind in (Kind.CHOICE, Kind.MULTIPLE):
            question.choices = _clean_choices(fields.get("choices", question.choices))
        else:
            question.choices = []
        code = fields.get("code")
        if code is not None and code != question.code:
            if answered:
                raise ValidationError(
                    {
                        "code": "Des réponses sont déjà arrivées : le code de la question "
                        "ne change plus."
                    }
                )
            code = slugify(code)[:60]
            if not code:
                raise ValidationError({"code": "Indiquez un code (lettres, chiffres, tirets)."})
            if code in RESERVED_CODES or code in scales.STANDARD_CODES:
                raise ValidationError({"code": f"Le code « {code} » est réservé."})
            if survey.questions.filter(code=code).exclude(pk=question.pk).exists():
                raise ValidationError({"code": f"Le code « {code} » est déjà utilisé."})
            question.code = code
        elif not question.code or question.code in scales.STANDARD_CODES:
            question.code = _new_code(survey, label)
    if "required" in fields:
        question.required = bool(fields["required"])
    overall = bool(fields.get("overall", question.overall))
    if overall and kind != Kind.CSAT:
        raise ValidationError(
            {
                "overall": "Seule une question de satisfaction (5 niveaux) peut être la question "
                "de satisfaction globale."
            }
        )
    question.overall = overall
    if creating:
        last = survey.questions.aggregate(last=Max("position"))["last"] or 0
        question.position = last + 1
    question.full_clean()
    question.save()
    if overall:  # one overall question per questionnaire
        survey.questions.filter(overall=True).exclude(pk=question.pk).update(overall=False)
    _touch(survey)
    if creating:
        record_event(
            actor,
            "enquête.question_ajoutée",
            survey,
            changes={"question": question.label, "type": question.kind, "code": question.code},
        )
    else:
        after = model_to_dict(question)
        changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
        if changes:
            record_event(
                actor,
                "enquête.question_modifiée",
                survey,
                changes={"question": question.label, **changes},
            )
    return question


@transaction.atomic
def delete_question(actor, question: Question) -> None:
    """Remove a question (answers already given to it stay in the responses)."""
    survey = question.survey
    label, code = question.label, question.code
    question.delete()
    for position, pk in enumerate(survey.questions.values_list("pk", flat=True), start=1):
        Question.objects.filter(pk=pk).update(position=position)
    _touch(survey)
    record_event(
        actor, "enquête.question_supprimée", survey, changes={"question": label, "code": code}
    )


@transaction.atomic
def move_question(actor, question: Question, direction: str) -> Question:
    """Move a question one place up or down (« up » | « down »)."""
    if direction not in ("up", "down"):
        raise ValidationError("Sens de déplacement inconnu.")
    survey = question.survey
    ordered = list(survey.questions.select_for_update().order_by("position", "pk"))
    index = next(i for i, q in enumerate(ordered) if q.pk == question.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        return question  # already first or last: nothing to do
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            Question.objects.filter(pk=item.pk).update(position=position)
    question.refresh_from_db()
    _touch(survey)
    record_event(
        actor,
        "enquête.question_déplacée",
        survey,
        changes={
            "question": question.label,
            "sens": "vers le haut" if direction == "up" else "vers le bas",
        },
    )
    return question


@transaction.atomic
def set_survey_status(actor, survey: Survey, status: str) -> Survey:
    """Open, close or reopen a questionnaire. Opening needs one question at least; a
    questionnaire that received answers does not go back to draft."""
    if status not in SurveyStatus.values:
        raise ValidationError({"status": "État inconnu."})
    before = Survey.objects.select_for_update().values_list("status", flat=True).get(pk=survey.pk)
    if status == before:
        survey.status = status
        return survey
    if status == SurveyStatus.OPEN and not survey.questions.exists():
        raise ValidationError(
            {"status": "Ajoutez au moins une question avant d'ouvrir le questionnaire."}
        )
    if status == SurveyStatus.DRAFT and survey.responses.exists():
        raise ValidationError(
            {
                "status": "Des réponses sont arrivées : le questionnaire ne revient pas en "
                "brouillon. Fermez-le, ou créez-en un autre."
            }
        )
    survey.status = status
    survey.save(update_fields=["status", "updated_at"])
    record_event(
        actor,
        "enquête.état_changé",
        survey,
        changes={"état": [SurveyStatus(before).label, SurveyStatus(status).label]},
    )
    return survey


# ========================================================================== distribution


@transaction.atomic
def ensure_link(actor, survey: Survey, *, site: Site | None, channel: str) -> SurveyLink:
    """The link of *survey* for *site* and *channel*, made (or made active again) if needed.
    Calling it twice gives the same link."""
    if channel not in LinkChannel.values or channel in INVITATION_CHANNELS.values():
        raise ValidationError({"channel": "Choisissez un canal de diffusion."})
    if site is not None and site.organisation_id != survey.organisation_id:
        raise ValidationError({"site": "Ce site n'appartient pas à l'organisme du questionnaire."})
    # One writer at a time per questionnaire: the unique constraint does not cover site=NULL.
    Survey.objects.select_for_update().filter(pk=survey.pk).first()
    link = SurveyLink.objects.filter(survey=survey, site=site, channel=channel).first()
    if link is None:
        link = SurveyLink.objects.create(survey=survey, site=site, channel=channel)
        record_event(
            actor,
            "enquête.lien_créé",
            survey,
            changes={
                "site": site.name if site else "",
                "canal": LinkChannel(channel).label,
            },
        )
    elif not link.active:
        link.active = True
        link.save(update_fields=["active"])
        record_event(
            actor,
            "enquête.lien_réactivé",
            survey,
            changes={"site": site.name if site else "", "canal": LinkChannel(channel).label},
        )
    return link


@transaction.atomic
def set_link_active(actor, link: SurveyLink, active: bool) -> SurveyLink:
    """Switch a link off (its page says it is no longer used) or on again."""
    if link.active == bool(active):
        return link
    link.active = bool(active)
    link.save(update_fields=["active"])
    record_event(
        actor,
        "enquête.lien_réactivé" if active else "enquête.lien_désactivé",
        link.survey,
        changes={
            "site": link.site.name if link.site_id else "",
            "canal": link.get_channel_display(),
        },
    )
    return link


# ============================================================================== answers


def _required_message(question: Question) -> str:
    return "Répondez à cette question : elle est obligatoire."


def clean_answers(questions, answers: dict) -> tuple[dict, dict]:
    """Check each answer against its question. Returns (stored answers: code → value,
    scored columns of Response). Raises ValidationError {code: French message}; unknown
    codes are ignored. A value may be a string, a number or (multiple choices) a list."""
    errors, stored = {}, {}
    scored = {
        "jdma_satisfaction": None,
        "jdma_clarity": None,
        "jdma_help_tried": None,
        "jdma_help_reached": None,
        "jdma_help_score": None,
        "overall": None,
        "nps": None,
        "verbatim": "",
    }
    # The overall satisfaction: the question flagged so, else the first CSAT question; the
    # recommendation: the first NPS question.
    csat = [q.code for q in questions if q.kind == Kind.CSAT]
    overall_code = next((q.code for q in questions if q.overall), csat[0] if csat else None)
    nps_code = next((q.code for q in questions if q.kind == Kind.NPS), None)
    for question in questions:
        raw = answers.get(question.code)
        kind = question.kind
        if scales.is_multiple(kind):
            values = raw if isinstance(raw, (list, tuple)) else ([] if raw in (None, "") else [raw])
            values = [str(v).strip() for v in values if str(v).strip()]
            values = list(dict.fromkeys(values))
            if not values:
                if question.required:
                    errors[question.code] = (
                        "Cochez au moins une réponse : cette question est obligatoire."
                    )
                continue
            offered = {o.value for o in scales.options_for(question)}
            if any(v not in offered for v in values):
                errors[question.code] = "Cochez parmi les réponses proposées."
                continue
            if kind == Kind.JDMA_CONTACT_TRIED and scales.NO_HELP in values and len(values) > 1:
                errors[question.code] = (
                    "Vous avez coché « Je n'ai pas eu besoin d'aide » et un moyen d'aide : "
                    "cochez l'un ou l'autre."
                )
                continue
            stored[question.code] = values
            if kind == Kind.JDMA_CONTACT_TRIED:
                scored["jdma_help_tried"] = scales.help_tried(values)
            continue
        if isinstance(raw, (list, tuple)):
            raw = raw[-1] if raw else None
        value = "" if raw is None else str(raw).strip()
        if scales.is_text(kind):
            value = value.replace("\r\n", "\n")
            if len(value) > scales.VERBATIM_MAX_LENGTH:
                errors[question.code] = (
                    f"Votre texte compte {len(value)} caractères : raccourcissez-le à "
                    f"{scales.VERBATIM_MAX_LENGTH} caractères au plus."
                )
                continue
            if not value:
                if question.required:
                    errors[question.code] = _required_message(question)
                continue
            stored[question.code] = value
            if kind == Kind.JDMA_VERBATIM:
                scored["verbatim"] = value
            continue
        if not value:
            if question.required:
                errors[question.code] = "Choisissez une réponse : cette question est obligatoire."
            continue
        if value not in {o.value for o in scales.options_for(question)}:
            errors[question.code] = "Choisissez une des réponses proposées."
            continue
        stored[question.code] = int(value) if kind in (Kind.CSAT, Kind.NPS) else value
        points = scales.score(kind, value)
        if kind == Kind.JDMA_SATISFACTION:
            scored["jdma_satisfaction"] = points
        elif kind == Kind.JDMA_CLARITY:
            scored["jdma_clarity"] = points
        elif kind == Kind.JDMA_CONTACT_REACHED:
            scored["jdma_help_reached"] = value == "oui"
        elif kind == Kind.JDMA_CONTACT_SATISFACTION:
            scored["jdma_help_score"] = points
        elif kind == Kind.CSAT and question.code == overall_code:
            scored["overall"] = points
        elif kind == Kind.NPS and question.code == nps_code:
            scored["nps"] = points
    if errors:
        raise ValidationError(errors)
    if not stored:
        raise ValidationError("Répondez à au moins une question avant d'envoyer.")
    # Whoever did not look for help has no « aide joignable » or « aide efficace » answer.
    if scored["jdma_help_tried"] is False:
        scored["jdma_help_reached"] = None
        scored["jdma_help_score"] = None
        for kind in (Kind.JDMA_CONTACT_REACHED, Kind.JDMA_CONTACT_SATISFACTION):
            stored.pop(scales.BY_KIND[kind].code, None)
    return stored, scored


def submit_response(
    *,
    link: SurveyLink | None = None,
    invitation: Invitation | None = None,
    answers: dict,
    nonce: str,
    now: datetime | None = None,
    questions=None,
) -> Response:
    """Record one person's answers, given through a public *link* or a personal
    *invitation*. Raises ValidationError (per question code) for a bad answer,
    AlreadyAnswered when the same form (its one-use *nonce*) or the invitation was already
    answered — under concurrency too: the unique columns (nonce, invitation) decide, with no
    query beforehand. *questions*: the survey's questions when the caller already has them."""
    if (link is None) == (invitation is None):
        raise ValueError("Donnez un lien ou une invitation, pas les deux.")
    source = link or invitation
    survey = source.survey
    if survey.status != SurveyStatus.OPEN:
        raise ValidationError(
            "Ce questionnaire n'est pas ouvert : votre réponse n'a pas pu être prise en compte."
        )
    if link is not None and not link.active:
        raise ValidationError(
            "Ce lien n'est plus utilisé : votre réponse n'a pas pu être prise en compte."
        )
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > NONCE_MAX_LENGTH:
        raise ValidationError("Le formulaire n'a pas pu être vérifié : rechargez la page.")
    if questions is None:
        questions = list(survey.questions.all())
    stored, scored = clean_answers(questions, answers)
    response = Response(
        survey=survey,
        organisation_id=survey.organisation_id,
        link=link,
        invitation=invitation,
        site_id=source.site_id,
        channel=link.channel if link else INVITATION_CHANNELS[invitation.source],
        submitted_at=now or timezone.now(),
        nonce=nonce,
        answers=stored,
        **scored,
    )
    try:
        if transaction.get_connection().in_atomic_block:
            with transaction.atomic():  # a savepoint: a refused row spares the caller's work
                response.save(force_insert=True)
        else:  # autocommit: the INSERT is a transaction by itself (no BEGIN / COMMIT trip)
            response.save(force_insert=True)
    except IntegrityError as exc:
        raise AlreadyAnswered() from exc
    return response


# ========================================================================== invitations


def settings_for(organisation: Organisation) -> SurveySettings:
    """The organisation's survey settings (the defaults, unsaved, when none were saved)."""
    found = SurveySettings.objects.filter(organisation=organisation).first()
    return found or SurveySettings(organisation=organisation)


SETTINGS_FIELDS = {
    "invitation_survey",
    "after_appointment",
    "after_contact",
    "after_complaint",
    "period_days",
    "delay_hours",
}


@transaction.atomic
def save_settings(actor, organisation: Organisation, **fields) -> SurveySettings:
    """Save which questionnaire invitations use, after what, and how often at most."""
    unknown = set(fields) - SETTINGS_FIELDS
    if unknown:
        raise ValidationError(f"Champ inconnu : {', '.join(sorted(unknown))}.")
    current = settings_for(organisation)
    before = model_to_dict(current) if current.pk else {}
    for key, value in fields.items():
        setattr(current, key, value)
    survey = current.invitation_survey
    if survey is not None and survey.organisation_id != organisation.pk:
        raise ValidationError(
            {"invitation_survey": "Ce questionnaire appartient à un autre organisme."}
        )
    try:
        period = int(current.period_days)
    except (TypeError, ValueError):
        period = 0
    if not 1 <= period <= 730:
        raise ValidationError(
            {
                "period_days": "Indiquez une période entre 1 et 730 jours (au plus une invitation "
                "par personne sur cette période)."
            }
        )
    try:
        delay = int(current.delay_hours)
    except (TypeError, ValueError):
        delay = -1
    if not 0 <= delay <= 168:
        raise ValidationError(
            {"delay_hours": "Indiquez un délai d'envoi entre 0 et 168 heures (7 jours)."}
        )
    current.full_clean()
    current.save()
    after = model_to_dict(current)
    changes = {k: [before.get(k), after[k]] for k in SETTINGS_FIELDS if before.get(k) != after[k]}
    record_event(actor, "enquête.réglages_modifiés", organisation, changes=changes)
    return current


def _address_key() -> bytes:
    # Stable (the cap spans months), secret (derived from SECRET_KEY), specific to this use.
    return hashlib.sha256(f"{django_settings.SECRET_KEY}:voix.surveys.invitation".encode()).digest()


def recipient_hash(address: str) -> str:
    """Salted SHA-256 (HMAC) of a normalised address: the cap never stores the address."""
    return hmac.new(_address_key(), address.encode(), hashlib.sha256).hexdigest()


def normalise_address(email: str = "", phone: str = "") -> tuple[str, str]:
    """(via, address): the e-mail lower-cased, else the mobile in +33 form.
    ValidationError naming the field when what was given cannot be used."""
    email = (email or "").strip().lower()
    phone = (phone or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise ValidationError(
                {
                    "email": f"« {email} » n'est pas une adresse électronique valide "
                    "(exemple : nom@exemple.fr)."
                }
            ) from None
        return "email", email
    if phone:
        try:
            return "sms", sms.normalise_phone(phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages[0]}) from None
    raise ValidationError({"email": "Indiquez une adresse électronique ou un numéro de portable."})


def invitation_url(invitation: Invitation) -> str:
    return django_settings.BASE_URL + reverse("surveys:answer", args=[invitation.token])


def _claim_cap(organisation: Organisation, digest: str, now: datetime, period_days: int) -> bool:
    """True when this person may be invited now; moves their « last invited » date.
    INSERT-if-missing, then one conditional UPDATE: of two workers, one only wins (the
    second UPDATE waits for the first's row lock, then finds the date moved)."""
    try:
        with transaction.atomic():
            InvitationCap.objects.create(
                organisation=organisation,
                recipient_hash=digest,
                last_invited_at=datetime(1970, 1, 1, tzinfo=UTC),
            )
    except IntegrityError:
        pass  # already there (or being inserted by another worker, now committed)
    return bool(
        InvitationCap.objects.filter(
            organisation=organisation,
            recipient_hash=digest,
            last_invited_at__lt=now - timedelta(days=period_days),
        ).update(last_invited_at=now)
    )


@transaction.atomic
def invite(
    organisation: Organisation,
    *,
    source: str,
    source_id: int,
    email: str = "",
    phone: str = "",
    site: Site | None = None,
    now: datetime | None = None,
) -> Invitation | None:
    """Invite a person to answer the organisation's invitation questionnaire, after an
    appointment, a contact or a complaint (*source*, *source_id*). None when the settings
    say no, no invitation questionnaire is open, this source was already invited, or the
    person was invited within the period. The message leaves by a task once committed; the
    address is blanked once it is sent. ValidationError (field email / phone) when the
    address cannot be used."""
    if source not in InvitationSource.values:
        raise ValidationError({"source": "Origine d'invitation inconnue."})
    now = now or timezone.now()
    current = settings_for(organisation)
    survey = current.invitation_survey
    if not getattr(current, SOURCE_FLAGS[source]) or survey is None:
        return None
    if survey.status != SurveyStatus.OPEN or survey.organisation_id != organisation.pk:
        return None
    via, address = normalise_address(email, phone)
    if Invitation.objects.filter(survey=survey, source=source, source_id=source_id).exists():
        return None
    digest = recipient_hash(address)
    try:
        with transaction.atomic():
            if not _claim_cap(organisation, digest, now, current.period_days):
                return None
            invitation = Invitation.objects.create(
                organisation=organisation,
                survey=survey,
                site=site if site is not None and site.organisation_id == organisation.pk else None,
                source=source,
                source_id=source_id,
                via=via,
                address=address,
                recipient_hash=digest,
                created_at=now,
            )
    except IntegrityError:
        return None  # another worker invited this source at the same moment
    record_event(
        None,
        "enquête.invitation_créée",
        invitation,
        organisation=organisation,
        changes={"origine": InvitationSource(source).label, "par": via},
    )
    pk = invitation.pk
    transaction.on_commit(lambda: queue_invitation(pk))
    return invitation


def queue_invitation(invitation_id: int) -> None:
    """Enqueue the invitation's message (called on commit)."""
    from .tasks import send_survey_invitation

    try:
        send_survey_invitation.enqueue(invitation_id)
    except Exception:  # the invitation is committed: the sweep sends it later
        logger.exception("Invitation %s non mise en file", invitation_id)


def render_invitation(invitation: Invitation) -> tuple[str, str]:
    """(subject, text) of the invitation: an e-mail body, or the one-line SMS."""
    data = {
        "organisation": invitation.organisation.name,
        "url": invitation_url(invitation),
        "site": invitation.site.name if invitation.site_id else "",
        "source": invitation.source,
    }
    if invitation.via == "sms":
        text = render_to_string("surveys/public/messages/invitation_sms.txt", data)
        return "", " ".join(text.split())
    body = render_to_string("surveys/public/messages/invitation_email.txt", data)
    return f"Votre avis sur {invitation.organisation.name}", body.strip() + "\n"


def send_invitation(invitation_id: int, now: datetime | None = None) -> bool:
    """Send one invitation's message (e-mail or SMS) once, whatever the number of workers:
    a worker claims it by a conditional UPDATE of its attempts. The address is blanked once
    sent, or after the last failed attempt. True when sent."""
    invitation = (
        Invitation.objects.select_related("organisation", "site").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.status == InvitationStatus.SENT or not invitation.address:
        return False
    if invitation.attempts >= MAX_ATTEMPTS:
        return False
    won = Invitation.objects.filter(
        pk=invitation.pk,
        status__in=[InvitationStatus.PENDING, InvitationStatus.FAILED],
        attempts=invitation.attempts,
    ).update(attempts=F("attempts") + 1)
    if not won:
        return False  # another worker has it
    invitation.attempts += 1
    subject, text = render_invitation(invitation)
    try:
        if invitation.via == "sms":
            sms.send_sms(invitation.address, text)
        else:
            send_mail(subject, text, None, [invitation.address])
    except Exception as exc:  # noqa: BLE001 - any backend failure is recorded, not raised
        logger.warning("Invitation %s non envoyée : %s", invitation.pk, exc)
        invitation.status = InvitationStatus.FAILED
        invitation.error = f"{type(exc).__name__} : {exc}"[:300]
        if invitation.attempts >= MAX_ATTEMPTS:
            invitation.address = ""  # given up: the address is not kept
        invitation.save(update_fields=["status", "error", "address"])
        return False
    invitation.status = InvitationStatus.SENT
    invitation.sent_at = now or timezone.now()
    invitation.error = ""
    invitation.address = ""
    invitation.save(update_fields=["status", "sent_at", "error", "address"])
    return True


def retry_invitations(now: datetime | None = None) -> int:
    """Send the invitations still waiting (a lost task: pending for over 10 minutes) or
    failed (fewer than MAX_ATTEMPTS tries). Returns the messages sent."""
    now = now or timezone.now()
    waiting = Invitation.objects.filter(
        status__in=[InvitationStatus.PENDING, InvitationStatus.FAILED],
        attempts__lt=MAX_ATTEMPTS,
        created_at__lt=now - timedelta(minutes=10),
    ).exclude(address="")
    return sum(send_invitation(pk, now=now) for pk in list(waiting.values_list("pk", flat=True)))
