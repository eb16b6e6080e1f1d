"""The demo Caf's questionnaire: open, with links for its sites, a year of answers scored
like public ones, the surveys indicators recomputed and the last quarter published;
idempotent."""

import importlib.util
import io
from contextlib import ExitStack
from unittest import mock

import pytest
from django.core.management import call_command

from voix.commitments.models import Measurement, Publication
from voix.core.models import Organisation
from voix.surveys import scales
from voix.surveys.models import LinkChannel, Response, Survey, SurveyLink, SurveyStatus

OTHER_DEMOS = [
    "voix.contacts.demo",
    "voix.reception.demo",
    "voix.appointments.demo",
    "voix.complaints.demo",
    "voix.field_reports.demo",
]


def seed():
    """seed_demo without the other apps' activity (slow and unrelated), with fewer answers."""
    out = io.StringIO()
    with ExitStack() as stack:
        for name in OTHER_DEMOS:
            if importlib.util.find_spec(name) is not None:
                stack.enter_context(mock.patch(f"{name}.seed", lambda stdout: None))
        stack.enter_context(mock.patch("voix.surveys.demo.PER_MONTH", 60))
        call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db):
    output = seed()
    return Organisation.objects.get(slug="caf-mayenne-demo"), output


def test_the_demo_caf_has_an_open_standard_questionnaire_with_links(demo):
    caf, output = demo
    survey = Survey.objects.get(organisation=caf)
    assert survey.status == SurveyStatus.OPEN
    kinds = list(survey.questions.values_list("kind", flat=True))
    assert kinds[0] == "jdma_satisfaction" and kinds[-1] == "jdma_verbatim"
    assert "nps" in kinds and survey.questions.filter(overall=True).exists()
    own = caf.sites.own_sites().filter(is_active=True).count()
    reception = SurveyLink.objects.filter(survey=survey, channel=LinkChannel.RECEPTION)
    assert reception.count() == own
    assert SurveyLink.objects.filter(survey=survey, channel=LinkChannel.KIOSK).exists()
    assert SurveyLink.objects.filter(survey=survey, channel=LinkChannel.RELAY).count() == 11
    assert "Enquêtes de démonstration" in output


def test_the_demo_answers_span_a_year_and_are_scored_like_public_answers(demo):
    caf, _ = demo
    rows = Response.objects.filter(organisation=caf)
    assert rows.count() > 12 * 40
    months = {r.submitted_at.strftime("%Y-%m") for r in rows.only("submitted_at")}
    assert len(months) >= 12
    for response in rows.exclude(jdma_satisfaction=None)[:200]:
        option = scales.SATISFACTION.option(response.answers["satisfaction"])
        assert response.jdma_satisfaction == option.score
        assert response.overall == response.answers[scales.OVERALL_CODE]
    assert rows.exclude(verbatim="").exists()
    assert rows.filter(site__isnull=True, channel=LinkChannel.WEB).exists()


def test_the_demo_recomputes_the_surveys_indicators_and_publishes_them(demo):
    caf, _ = demo
    computed = Measurement.objects.filter(
        organisation=caf, indicator__source="surveys.jdma_satisfaction"
    )
    assert computed.filter(site=None, channel="").count() >= 12
    assert not computed.filter(source_ref="démonstration").exists()
    published = Publication.objects.get(organisation=caf, status=Publication.Status.PUBLISHED)
    assert published.results.filter(indicator__source="surveys.jdma_satisfaction").exists()


def test_the_demo_runs_twice_without_adding_anything(demo):
    caf, _ = demo
    counts = (
        Response.objects.count(),
        SurveyLink.objects.count(),
        Survey.objects.count(),
        Publication.objects.count(),
    )
    seed()
    assert counts == (
        Response.objects.count(),
        SurveyLink.objects.count(),
        Survey.objects.count(),
        Publication.objects.count(),
    )
