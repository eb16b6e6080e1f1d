"""The answer page's per-process caches (views/public.py): the blank form rendered once and
filled per visitor, the link resolved once per few seconds, the POST with the one INSERT —
and the rules they must not bend: a fresh one-use number per visitor, a closed
questionnaire refused (at once here, within TARGET_SECONDS elsewhere), a logged-in staff
member never served the page made for everyone."""

import re
from datetime import timedelta
from functools import partial
from html import unescape

import pytest
import time_machine
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.concurrency import run_together
from voix.core import services as core_services
from voix.surveys import services
from voix.surveys.models import (
    InvitationSource,
    Response,
    Survey,
    SurveyLink,
    SurveyStatus,
)
from voix.surveys.views import public

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture(autouse=True)
def _empty_public_caches():
    public.forget_cached_pages()
    yield
    public.forget_cached_pages()


def answer_url(token):
    return reverse("surveys:answer", args=[token])


def hidden_fields(page) -> dict:
    return {name: unescape(value) for name, value in HIDDEN.findall(page.content.decode())}


def answers(**extra):
    return {
        "satisfaction": "moyen",
        "satisfaction_globale": "4",
        "site_internet": "",
        **extra,
    }


def test_two_visitors_get_the_cached_form_each_with_their_own_one_use_number(
    world, client, settings
):
    settings.PUBLIC_FORM_MIN_SECONDS = 0
    token = world.survey_link.token
    first, second = client.get(answer_url(token)), Client().get(answer_url(token))
    assert first.status_code == second.status_code == 200
    one, two = hidden_fields(first), hidden_fields(second)
    assert one["nonce"] != two["nonce"]
    assert public.read_nonce(token, one["nonce"]) and public.read_nonce(token, two["nonce"])
    assert "horodatage" in one and "@" not in one["horodatage"]
    # the page is the same for both but for these two values
    page_one = first.content.decode().replace(one["nonce"], "N").replace(one["horodatage"], "S")
    page_two = second.content.decode().replace(two["nonce"], "N").replace(two["horodatage"], "S")
    assert page_one == page_two
    assert "no-store" in second["Cache-Control"] and "Cookie" in second["Vary"]
    assert not second.cookies
    # each form is answered once; the same one twice is refused
    before = Response.objects.filter(link=world.survey_link).count()
    assert client.post(answer_url(token), answers(**one)).status_code == 302
    assert client.post(answer_url(token), answers(**two)).status_code == 302
    assert client.post(answer_url(token), answers(**one)).status_code == 409
    assert Response.objects.filter(link=world.survey_link).count() == before + 2


def test_a_questionnaire_closed_in_another_process_is_refused_after_the_cache_delay(world, client):
    token = world.survey_link.token
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        assert client.get(answer_url(token)).status_code == 200
        # another worker closes it: no signal reaches this process (a bare UPDATE)
        Survey.objects.filter(pk=world.survey.pk).update(
            status=SurveyStatus.CLOSED, updated_at=timezone.now()
        )
        traveller.shift(timedelta(seconds=public.TARGET_SECONDS - 1))
        assert client.get(answer_url(token)).status_code == 200  # within the delay
        traveller.shift(timedelta(seconds=2))
        page = client.get(answer_url(token))
        assert page.status_code == 410
        assert "Ce questionnaire est terminé" in page.content.decode()
        assert client.post(answer_url(token), answers()).status_code == 410


def test_a_link_switched_off_here_is_refused_at_once(world, client):
    token = world.survey_link.token
    assert client.get(answer_url(token)).status_code == 200
    services.set_link_active(None, world.survey_link, False)
    assert client.get(answer_url(token)).status_code == 410
    services.set_link_active(None, world.survey_link, True)
    services.set_survey_status(None, world.survey, SurveyStatus.CLOSED)
    assert client.get(answer_url(token)).status_code == 410


def test_a_renamed_questionnaire_shows_at_once_here(world, client):
    token = world.survey_link.token
    assert "Nouveau titre" not in client.get(answer_url(token)).content.decode()
    services.update_survey(None, world.survey, title="Nouveau titre")
    assert "Nouveau titre" in client.get(answer_url(token)).content.decode()


def test_the_cached_page_expires_after_page_seconds(world, client):
    token = world.survey_link.token
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client.get(answer_url(token))
        # a change no fingerprint sees (a bare UPDATE of the introduction, same date)
        Survey.objects.filter(pk=world.survey.pk).update(introduction="Texte changé ailleurs")
        traveller.shift(timedelta(seconds=public.TARGET_SECONDS + 1))
        assert "Texte changé ailleurs" not in client.get(answer_url(token)).content.decode()
        traveller.shift(timedelta(seconds=public.PAGE_SECONDS))
        assert "Texte changé ailleurs" in client.get(answer_url(token)).content.decode()


def test_logged_in_staff_are_never_served_the_page_cached_for_everyone(world, client_for):
    token = world.survey_link.token
    anonymous = Client()
    assert "Se déconnecter" not in anonymous.get(answer_url(token)).content.decode()
    staff = client_for("qualite")
    page = staff.get(answer_url(token))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Se déconnecter" in html and "Mon espace" in html
    assert public.read_nonce(token, hidden_fields(page)["nonce"])
    # and what staff saw is not kept for the next anonymous visitor
    assert "Se déconnecter" not in anonymous.get(answer_url(token)).content.decode()
    thanks = staff.get(reverse("surveys:thanks", args=[token])).content.decode()
    assert "Se déconnecter" in thanks
    anonymous_thanks = anonymous.get(reverse("surveys:thanks", args=[token])).content.decode()
    assert "Se déconnecter" not in anonymous_thanks


def test_a_visitor_with_messages_waiting_gets_a_rendered_page(world, client):
    token = world.survey_link.token
    client.get(answer_url(token))  # fills the cache
    waiting = [Message(constants.SUCCESS, "Votre message en attente")]
    client.cookies["messages"] = CookieStorage(RequestFactory().get("/"))._encode(waiting)
    page = client.get(answer_url(token))
    assert page.status_code == 200
    assert "Votre message en attente" in page.content.decode()


def test_a_repeated_form_costs_no_query_and_an_answer_only_its_insert(world, client, settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 0
    token = world.survey_link.token
    client.get(answer_url(token))
    with CaptureQueriesContext(connection) as queries:
        page = client.get(answer_url(token))
    assert page.status_code == 200 and len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        sent = client.post(answer_url(token), answers(**hidden_fields(page)))
    assert sent.status_code == 302
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("INSERT") == 1
    assert "SELECT" not in statements  # no lookup of the link, no « already answered? »


def test_an_answered_invitation_says_so_even_when_the_form_is_wrong(world, client, settings):
    settings.PUBLIC_FORM_MIN_SECONDS = 0
    token = world.invitation.token
    first = hidden_fields(client.get(answer_url(token)))
    second = hidden_fields(client.get(answer_url(token)))
    assert client.post(answer_url(token), answers(**first)).status_code == 302
    # the second form, with a missing answer: not « correct this », but « already answered »
    page = client.post(answer_url(token), answers(satisfaction="", **second))
    assert "Vous avez déjà répondu" in page.content.decode()
    # and with good answers: refused by the unique column, same page
    page = client.post(answer_url(token), answers(**second))
    assert "Vous avez déjà répondu" in page.content.decode()
    assert Response.objects.filter(invitation=world.invitation).count() == 1


def test_an_invitation_is_never_cached(world, client):
    client.get(answer_url(world.invitation.token))
    assert world.invitation.token not in public._targets
    assert world.survey_link.token not in public._targets
    client.get(answer_url(world.survey_link.token))
    assert world.survey_link.token in public._targets
    SurveyLink.objects.filter(pk=world.survey_link.pk).update(active=False)
    public.forget_cached_pages()
    assert client.get(answer_url(world.survey_link.token)).status_code == 410


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises every writer: concurrent answers are proved on PostgreSQL.",
)
@pytest.mark.django_db(transaction=True)
def test_one_invitation_answered_from_many_forms_at_once_is_recorded_once(transactional_db):
    caf = core_services.create_organisation(
        None, name="Caf concurrence", slug="caf-concurrence", kind="organisme", departement="53"
    )
    survey = services.create_survey(None, caf, title="Votre avis")
    services.set_survey_status(None, survey, SurveyStatus.OPEN)
    services.save_settings(None, caf, invitation_survey=survey)
    invitation = services.invite(
        caf, source=InvitationSource.APPOINTMENT, source_id=1, email="personne@exemple.fr"
    )
    answers = {"satisfaction": "moyen", "satisfaction_globale": "3"}

    def send(n):
        try:
            return services.submit_response(
                invitation=invitation, answers=answers, nonce=f"formulaire-{n}"
            ).pk
        except services.AlreadyAnswered:
            return "déjà"

    results, errors = run_together(*[partial(send, n) for n in range(10)])
    assert errors == []
    assert results.count("déjà") == 9
    assert Response.objects.filter(invitation=invitation).count() == 1
