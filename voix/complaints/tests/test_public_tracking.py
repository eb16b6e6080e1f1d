"""The private tracking page (/suivi-reclamation/<jeton>/): where the case stands, the
answer, one satisfaction question, the request for mediation; expired links."""

import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from voix.complaints import services
from voix.complaints.models import AnswerVia, Kind, Mediation


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def url(complaint):
    return reverse("complaints:tracking", args=[complaint.token])


def page(response) -> str:
    return unescape(response.content.decode())


def text(response) -> str:
    """The page as a person reads it: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", page(response)).split())


def answer(w, complaint, via=AnswerVia.EMAIL):
    with services.without_messages():
        services.send_answer(
            w.people["qualite"],
            complaint,
            text="Votre allocation a été versée le 5 ; nous vous prions de nous excuser.",
            via=via,
        )
    complaint.refresh_from_db()
    return complaint


def test_the_page_says_where_the_case_stands_and_when_the_answer_is_due(world, client):
    complaint = world.complaint
    words = text(client.get(url(complaint)))
    assert complaint.reference in words
    assert "Accusé de réception envoyé — le" in words
    due = timezone.localtime(complaint.contact.answer_due_at)
    assert f"Réponse attendue au plus tard le {date_format(due, 'l j F Y')}" in words
    assert "Réponse envoyée (à venir)" in words


def test_the_page_shows_the_requesters_message_but_never_the_internal_notes(world, client):
    with services.without_messages():
        services.add_note(world.people["manager"], world.complaint, "Appeler le service payeur.")
    html = page(client.get(url(world.complaint)))
    assert world.complaint.body in html
    assert "Appeler le service payeur." not in html
    assert world.complaint.email not in html


def test_a_paused_case_says_the_clock_waits_for_documents(world, client):
    with services.without_messages():
        services.pause_complaint(world.people["manager"], world.complaint, note="Avis d'imposition")
    html = page(client.get(url(world.complaint)))
    assert "le délai de réponse est suspendu" in html


def test_the_answer_is_shown_with_one_satisfaction_question(world, client):
    complaint = answer(world, world.complaint)
    html = page(client.get(url(complaint)))
    assert "Votre allocation a été versée le 5" in html
    assert "Êtes-vous satisfait de la réponse apportée à votre demande ?" in html
    assert html.count('type="radio" name="avis-score"') == 4


def test_satisfaction_is_recorded_once(world, client):
    complaint = answer(world, world.complaint)
    response = client.post(url(complaint), {"action": "satisfaction", "avis-score": "3"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.satisfaction == 3
    html = page(client.get(url(complaint)))
    assert "votre avis sur la réponse est enregistré" in html
    assert 'name="avis-score"' not in html
    again = client.post(url(complaint), {"action": "satisfaction", "avis-score": "1"})
    assert again.status_code == 400
    complaint.refresh_from_db()
    assert complaint.satisfaction == 3


def test_satisfaction_without_a_choice_says_so(world, client):
    complaint = answer(world, world.complaint)
    response = client.post(url(complaint), {"action": "satisfaction"})
    assert response.status_code == 400
    assert "Choisissez une réponse avant d'envoyer." in page(response)


def test_an_answer_by_letter_can_be_downloaded_as_pdf(world, client):
    complaint = answer(world, world.complaint, via=AnswerVia.LETTER)
    letter_url = reverse("complaints:tracking_letter", args=[complaint.token])
    assert letter_url in page(client.get(url(complaint)))
    response = client.get(letter_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF")


def test_an_answer_by_email_has_no_letter_to_download(world, client):
    complaint = answer(world, world.complaint)
    assert (
        client.get(reverse("complaints:tracking_letter", args=[complaint.token])).status_code == 404
    )


def test_the_requester_may_ask_for_mediation_once_answered(world, client):
    complaint = world.complaint
    assert "Saisir le médiateur" not in page(client.get(url(complaint)))
    answer(world, complaint)
    assert "Saisir le médiateur" in page(client.get(url(complaint)))
    reason = "La réponse ne tient pas compte de mon changement de situation."
    response = client.post(url(complaint), {"action": "mediation", "mediation-reason": reason})
    assert response.status_code == 302
    mediation = Mediation.objects.get(complaint=complaint)
    assert mediation.requested_by is None
    assert mediation.reason == reason
    html = page(client.get(url(complaint)))
    assert "Vous avez demandé la médiation le" in html
    assert "Saisir le médiateur" not in html


def test_a_mediation_request_needs_a_reason(world, client):
    complaint = answer(world, world.complaint)
    response = client.post(url(complaint), {"action": "mediation", "mediation-reason": " "})
    assert response.status_code == 400
    assert "Expliquez pourquoi vous demandez la médiation." in page(response)
    assert not Mediation.objects.filter(complaint=complaint).exists()


def test_a_suggestion_offers_no_mediation(world, client):
    with services.without_messages():
        suggestion = services.file_complaint(
            None,
            world.caf,
            kind=Kind.SUGGESTION,
            intake="formulaire",
            subject="Plus de chaises",
            body="Il manque des chaises dans la salle d'attente le lundi matin.",
            email="idee@example.org",
            consent=True,
        )
    answer(world, suggestion)
    assert "Saisir le médiateur" not in page(client.get(url(suggestion)))


def test_the_mediators_decision_is_shown(world, client):
    mediation = world.mediation
    mediator = world.people["mediateur"]
    with services.without_messages():
        services.take_mediation(mediator, mediation)
        services.decide_mediation(
            mediator, mediation, decision="revisee", text="L'indu est annulé après réexamen."
        )
    words = text(client.get(url(mediation.complaint)))
    assert "Décision révisée en faveur de l'usager" in words
    assert "L'indu est annulé après réexamen." in words
    assert "Demande close — le" in words


def test_an_expired_link_says_how_to_get_a_new_one(world, client):
    complaint = answer(world, world.complaint)
    with services.without_messages():
        services.close_complaint(world.people["qualite"], complaint)
    with time_machine.travel(timezone.now() + timedelta(days=200)):
        response = client.get(url(complaint))
    assert response.status_code == 410
    html = page(response)
    assert "Obtenir un nouveau lien" in html
    assert complaint.reference in html
    assert "Répondez au courriel d'accusé de réception" in html
    assert complaint.body not in html


def test_an_unknown_link_is_not_found(world, client):
    assert client.get(reverse("complaints:tracking", args=["nimporte-quoi"])).status_code == 404


def test_a_thank_you_is_followed_without_an_answer_step(world, client):
    with services.without_messages():
        thanks = services.file_complaint(
            None,
            world.caf,
            kind=Kind.COMPLIMENT,
            intake="formulaire",
            subject="Merci",
            body="Merci à l'agent de Laval pour sa patience.",
            consent=True,
        )
    words = text(client.get(url(thanks)))
    assert "Réponse envoyée" not in words
    assert "Demande close — le" in words
