"""Concurrent workers never invite one person twice within the period, nor one source
twice, and never record one answer form twice: proved on PostgreSQL with real concurrent
connections (one per thread, started together by a barrier)."""

from functools import partial

import pytest
from django.db import connection

from tests.concurrency import run_together
from voix.core import services as core_services
from voix.surveys import services
from voix.surveys.models import (
    Invitation,
    InvitationCap,
    InvitationSource,
    LinkChannel,
    Response,
    SurveyStatus,
)

WORKERS = 20

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises every writer: concurrent invitations are proved on PostgreSQL.",
    ),
    pytest.mark.django_db(transaction=True),
]


def _organisation():
    caf = core_services.create_organisation(
        None, name="Caf concurrence", slug="caf-concurrence", kind="organisme", departement="53"
    )
    survey = services.create_survey(None, caf, title="Votre avis")
    services.set_survey_status(None, survey, SurveyStatus.OPEN)
    services.save_settings(None, caf, invitation_survey=survey)
    return caf, survey


def _invite(caf, source_id, email):
    invitation = services.invite(
        caf, source=InvitationSource.APPOINTMENT, source_id=source_id, email=email
    )
    return invitation.pk if invitation else None


def test_one_person_seen_by_many_workers_at_once_gets_one_invitation(transactional_db):
    caf, _ = _organisation()
    calls = [partial(_invite, caf, n, "Meme.Personne@exemple.fr") for n in range(WORKERS)]
    results, errors = run_together(*calls)
    assert errors == []
    assert len([r for r in results if r]) == 1
    assert Invitation.objects.count() == 1
    assert InvitationCap.objects.count() == 1


def test_one_source_swept_by_many_workers_at_once_gets_one_invitation(transactional_db):
    caf, _ = _organisation()
    calls = [partial(_invite, caf, 42, f"personne{n}@exemple.fr") for n in range(WORKERS)]
    results, errors = run_together(*calls)
    assert errors == []
    assert len([r for r in results if r]) == 1
    assert Invitation.objects.filter(source_id=42).count() == 1


def test_one_form_sent_many_times_at_once_is_recorded_once(transactional_db):
    caf, survey = _organisation()
    link = services.ensure_link(None, survey, site=None, channel=LinkChannel.WEB)
    answers = {"satisfaction": "moyen", "satisfaction_globale": "3"}

    def send():
        try:
            return services.submit_response(link=link, answers=answers, nonce="meme-formulaire").pk
        except services.AlreadyAnswered:
            return "déjà"

    results, errors = run_together(*[send] * WORKERS)
    assert errors == []
    assert results.count("déjà") == WORKERS - 1
    assert Response.objects.count() == 1
