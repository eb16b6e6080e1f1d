"""The surveys services: the standard questionnaire, the builder rules, answers and their
scores, replayed forms."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from voix.core.models import AuditEvent
from voix.surveys import scales, services
from voix.surveys.models import LinkChannel, QuestionKind, Response, SurveyStatus

pytestmark = pytest.mark.django_db


def _survey(w, title="Accueil"):
    survey = services.create_survey(w.people["qualite"], w.caf, title=title)
    services.set_survey_status(w.people["qualite"], survey, SurveyStatus.OPEN)
    return survey


def _link(w, survey, channel=LinkChannel.RECEPTION):
    return services.ensure_link(w.people["qualite"], survey, site=w.site, channel=channel)


FULL = {
    "satisfaction": "tres_bien",
    "comprehension": "4",
    "contact_tried": ["telephone", "guichet"],
    "contact_reached": "oui",
    "contact_satisfaction": "5",
    "satisfaction_globale": "4",
    "verbatim": "  Accueil agréable.  ",
}


def test_standard_survey_has_the_jdma_questions_then_overall_then_comment(world):
    survey = services.create_survey(world.people["qualite"], world.caf, title="Accueil")
    questions = list(survey.questions.all())
    assert [q.code for q in questions] == [
        "satisfaction",
        "comprehension",
        "contact_tried",
        "contact_reached",
        "contact_satisfaction",
        "satisfaction_globale",
        "verbatim",
    ]
    overall = [q for q in questions if q.overall]
    assert len(overall) == 1 and overall[0].kind == QuestionKind.CSAT
    assert overall[0].label.startswith("Globalement, êtes-vous satisfait")
    assert questions[0].label == "De façon générale, comment ça s'est passé ?"
    assert survey.status == SurveyStatus.DRAFT
    assert AuditEvent.objects.filter(action="enquête.créée", object_id=str(survey.pk)).exists()


def test_a_full_answer_fills_the_scored_columns(world):
    survey = _survey(world)
    response = services.submit_response(link=_link(world, survey), answers=FULL, nonce="n1")
    response.refresh_from_db()
    assert response.jdma_satisfaction == 10
    assert response.jdma_clarity == Decimal("7.5")
    assert response.jdma_help_tried is True
    assert response.jdma_help_reached is True
    assert response.jdma_help_score == Decimal("10")
    assert response.overall == 4
    assert response.nps is None
    assert response.verbatim == "Accueil agréable."
    assert response.answers["contact_tried"] == ["telephone", "guichet"]
    assert response.answers["satisfaction_globale"] == 4
    assert response.site == world.site and response.channel == LinkChannel.RECEPTION
    assert response.organisation == world.caf


def test_no_help_needed_drops_the_help_answers(world):
    survey = _survey(world)
    answers = {**FULL, "contact_tried": ["aucune"]}
    response = services.submit_response(link=_link(world, survey), answers=answers, nonce="n2")
    assert response.jdma_help_tried is False
    assert response.jdma_help_reached is None and response.jdma_help_score is None
    assert "contact_reached" not in response.answers


def test_no_help_and_a_channel_together_is_refused_with_a_message(world):
    survey = _survey(world)
    answers = {**FULL, "contact_tried": ["aucune", "telephone"]}
    with pytest.raises(ValidationError) as error:
        services.submit_response(link=_link(world, survey), answers=answers, nonce="n3")
    assert "l'un ou l'autre" in error.value.message_dict["contact_tried"][0]


def test_each_bad_answer_gets_a_french_message_on_its_question(world):
    survey = _survey(world)
    answers = {"satisfaction": "", "comprehension": "9", "verbatim": "x" * 2001}
    with pytest.raises(ValidationError) as error:
        services.submit_response(link=_link(world, survey), answers=answers, nonce="n4")
    messages = error.value.message_dict
    assert "obligatoire" in messages["satisfaction"][0]
    assert "obligatoire" in messages["satisfaction_globale"][0]
    assert messages["comprehension"] == ["Choisissez une des réponses proposées."]
    assert "2000 caractères" in messages["verbatim"][0]
    assert not Response.objects.filter(survey=survey).exists()


def test_a_replayed_form_is_refused_and_the_first_answer_kept(world):
    survey = _survey(world)
    link = _link(world, survey)
    services.submit_response(link=link, answers=FULL, nonce="same")
    with pytest.raises(services.AlreadyAnswered):
        services.submit_response(link=link, answers=FULL, nonce="same")
    assert Response.objects.filter(survey=survey).count() == 1


def test_a_closed_survey_takes_no_answer(world):
    survey = _survey(world)
    link = _link(world, survey)
    services.set_survey_status(world.people["qualite"], survey, SurveyStatus.CLOSED)
    link.refresh_from_db()
    with pytest.raises(ValidationError):
        services.submit_response(link=link, answers=FULL, nonce="n5")


def test_ensure_link_is_idempotent_and_refuses_another_organisations_site(world):
    survey = _survey(world)
    assert _link(world, survey) == _link(world, survey)
    with pytest.raises(ValidationError) as error:
        services.ensure_link(None, survey, site=world.other_site, channel=LinkChannel.KIOSK)
    assert "site" in error.value.message_dict


def test_scores_follow_the_reference(world):
    assert [o.score for o in scales.SATISFACTION.options] == [0, 5, 10]
    assert [o.score for o in scales.CLARITY.options] == [
        Decimal(x) for x in ("0", "2.5", "5", "7.5", "10")
    ]
    assert scales.score(QuestionKind.CSAT, "5") == 5
    assert scales.score(QuestionKind.NPS, "11") is None
    assert scales.nps_category(9) == "promoteur" and scales.nps_category(6) == "détracteur"
    assert scales.is_satisfied(4) and scales.is_dissatisfied(2) and not scales.is_satisfied(3)
    assert scales.MIN_ANSWERS == 100
