"""Data of the surveys app added to the test world (conftest.build_world): the Caf's open
standard questionnaire, a reception link and a kiosk link at the siège, a few answers, the
invitation settings and one invitation after the world's appointment."""

from datetime import timedelta

from django.utils import timezone

from voix.surveys import services
from voix.surveys.models import InvitationSource, LinkChannel, SurveyStatus

ANSWERS = [
    {
        "satisfaction": "tres_bien",
        "comprehension": "5",
        "contact_tried": ["aucune"],
        "satisfaction_globale": "5",
        "verbatim": "Très bon accueil, merci.",
    },
    {
        "satisfaction": "moyen",
        "comprehension": "3",
        "contact_tried": ["telephone"],
        "contact_reached": "oui",
        "contact_satisfaction": "4",
        "satisfaction_globale": "4",
    },
    {
        "satisfaction": "pas_bien",
        "comprehension": "1",
        "contact_tried": ["telephone", "guichet"],
        "contact_reached": "non",
        "satisfaction_globale": "2",
        "verbatim": "Trop d'attente au téléphone.",
    },
]


def extend_world(w):
    w.survey = services.create_survey(None, w.caf, title="Votre avis sur notre accueil")
    services.set_survey_status(None, w.survey, SurveyStatus.OPEN)
    w.survey_link = services.ensure_link(None, w.survey, site=w.site, channel=LinkChannel.RECEPTION)
    w.kiosk_link = services.ensure_link(None, w.survey, site=w.site, channel=LinkChannel.KIOSK)
    now = timezone.now()
    w.survey_responses = [
        services.submit_response(
            link=w.kiosk_link if n == 2 else w.survey_link,
            answers=answers,
            nonce=f"monde-{n}",
            now=now - timedelta(days=n + 1),
        )
        for n, answers in enumerate(ANSWERS)
    ]
    w.survey_settings = services.save_settings(None, w.caf, invitation_survey=w.survey)
    # A fictitious address: the world's messages go nowhere (and tests run without commit).
    w.invitation = services.invite(
        w.caf,
        source=InvitationSource.APPOINTMENT,
        source_id=w.appointment.pk,
        email="camille.usager@exemple.invalid",
        site=w.site,
        now=now - timedelta(hours=3),
    )
    return w
