"""Retention of the surveys' personal data (found by ``voix.core.retention``).

- « verbatims »: the free-text answers may name someone despite the warning; they are
  blanked (``Response.verbatim`` and the text answers in ``Response.answers``) once older
  than the period, counted from the answer. The scored answers stay for the indicators.
- « invitations »: an invitation's address is blanked as soon as its message is sent; one
  whose message never left keeps it at most this period. The cap rows (salted hashes) older
  than both this period and the invitation period are deleted too.
"""

from datetime import timedelta

from voix.core.retention import register_data_type

from .models import Invitation, InvitationCap, QuestionKind, Response, SurveySettings

VERBATIMS_KEY = "verbatims"
INVITATIONS_KEY = "invitations_enquetes"
TEXT_KINDS = (QuestionKind.TEXT, QuestionKind.JDMA_VERBATIM)


def purge_verbatims(organisation, cutoff, now) -> int:
    """Blank the free texts of the organisation's answers received before *cutoff*."""
    from .models import Question

    text_codes: dict[int, set[str]] = {}
    for survey_id, code in Question.objects.filter(
        survey__organisation=organisation, kind__in=TEXT_KINDS
    ).values_list("survey_id", "code"):
        text_codes.setdefault(survey_id, set()).add(code)
    changed = []
    rows = Response.objects.filter(organisation=organisation, submitted_at__lt=cutoff).only(
        "pk", "survey_id", "verbatim", "answers"
    )
    for response in rows.iterator(chunk_size=2000):
        codes = text_codes.get(response.survey_id, set())
        texts = [code for code in codes if response.answers.get(code)]
        if not response.verbatim and not texts:
            continue
        response.verbatim = ""
        response.answers = {k: v for k, v in response.answers.items() if k not in codes}
        changed.append(response)
    Response.objects.bulk_update(changed, ["verbatim", "answers"], batch_size=1000)
    return len(changed)


def purge_invitations(organisation, cutoff, now) -> int:
    """Blank the addresses of invitations made before *cutoff*; delete old cap rows."""
    blanked = (
        Invitation.objects.filter(organisation=organisation, created_at__lt=cutoff)
        .exclude(address="")
        .update(address="")
    )
    period = (
        SurveySettings.objects.filter(organisation=organisation)
        .values_list("period_days", flat=True)
        .first()
    ) or SurveySettings._meta.get_field("period_days").default
    oldest = min(cutoff, now - timedelta(days=period))
    deleted, _ = InvitationCap.objects.filter(
        organisation=organisation, last_invited_at__lt=oldest
    ).delete()
    return blanked + deleted


register_data_type(
    VERBATIMS_KEY,
    "Verbatims des enquêtes",
    365,
    purge_verbatims,
    description="Commentaires libres des réponses aux questionnaires ; comptés depuis la "
    "réponse. Les réponses notées restent pour les indicateurs.",
)
register_data_type(
    INVITATIONS_KEY,
    "Adresses des invitations aux enquêtes",
    30,
    purge_invitations,
    description="Adresse électronique ou numéro de portable d'une invitation dont le message "
    "n'est jamais parti (effacée dès l'envoi sinon), et empreintes du plafond d'invitations.",
)
