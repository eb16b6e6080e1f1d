"""The médiateur's pages: the queue with its own deadlines, take a mediation, decide after
a confirmation; administrators read, only médiateurs act."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from voix.complaints import services
from voix.complaints.models import Decision, MediationStatus, Status
from voix.core.models import AuditEvent


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def page(response) -> str:
    return unescape(response.content.decode())


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page(response)).split())


def detail(m):
    return reverse("complaints:mediation_detail", args=[m.pk])


DECISION = {"decision": Decision.PARTIAL, "text": "Le montant est ramené à 120 euros."}


def test_the_queue_lists_open_mediations_with_their_own_deadline(world, client_for):
    response = client_for("mediateur").get(reverse("complaints:mediation_index"))
    words = text(response)
    assert world.mediation.complaint.reference in words
    due = timezone.localtime(world.mediation.contact.due_at)
    assert f"le {due:%d/%m/%Y}" in words
    assert world.complaint.reference not in words  # not in mediation


def test_the_queue_puts_the_nearest_deadline_first(world, client_for):
    with services.without_messages():
        other = services.file_complaint(
            None,
            world.caf,
            kind="reclamation",
            intake="formulaire",
            subject="Deuxième contestation",
            body="Je conteste aussi la réponse qui m'a été faite le mois dernier.",
            email="deux@example.org",
            consent=True,
        )
        services.send_answer(world.people["qualite"], other, text="Réponse.", via="courriel")
        second = services.escalate_to_mediation(None, other, reason="Je ne suis pas d'accord.")
    second.contact.due_at = timezone.now() + timedelta(days=1)
    second.contact.save(update_fields=["due_at"])
    html = page(client_for("mediateur").get(reverse("complaints:mediation_index")))
    assert html.index(other.reference) < html.index(world.mediation.complaint.reference)


def test_the_mediation_page_shows_the_case_and_is_audited(world, client_for):
    response = client_for("mediateur").get(detail(world.mediation))
    words = text(response)
    complaint = world.mediation.complaint
    assert world.mediation.reason in words
    assert complaint.body in words
    assert complaint.answer in words
    assert complaint.full_name in words
    assert AuditEvent.objects.filter(
        action="réclamation.consultée", object_id=str(complaint.pk)
    ).exists()


def test_a_mediateur_takes_a_mediation(world, client_for):
    client = client_for("mediateur")
    response = client.post(reverse("complaints:mediation_take", args=[world.mediation.pk]))
    assert response["Location"] == detail(world.mediation)
    world.mediation.refresh_from_db()
    assert world.mediation.mediator == world.people["mediateur"]
    html = page(client.get(reverse("complaints:mediation_index") + "?filtre=miennes"))
    assert world.mediation.complaint.reference in html


def test_deciding_asks_for_a_confirmation_then_closes_the_case(world, client_for):
    client = client_for("mediateur")
    url = reverse("complaints:mediation_decide", args=[world.mediation.pk])
    response = client.post(url, DECISION)
    assert response.status_code == 200
    assert "Confirmer la décision de médiation" in page(response)
    world.mediation.refresh_from_db()
    assert world.mediation.status == MediationStatus.OPEN
    response = client.post(url, {**DECISION, "confirmer": "1"})
    assert response["Location"].endswith("#decision")
    world.mediation.refresh_from_db()
    assert world.mediation.status == MediationStatus.DECIDED
    assert world.mediation.decision == Decision.PARTIAL
    assert world.mediation.complaint.status == Status.CLOSED
    assert "Le montant est ramené à 120 euros." in text(client.get(detail(world.mediation)))


def test_a_decision_needs_a_choice_and_a_text(world, client_for):
    url = reverse("complaints:mediation_decide", args=[world.mediation.pk])
    response = client_for("mediateur").post(url, {"decision": "", "text": ""})
    assert response.status_code == 400
    html = page(response)
    assert "Choisissez la décision." in html
    assert "Rédigez la motivation de la décision." in html


def test_going_back_from_the_confirmation_keeps_the_text(world, client_for):
    url = reverse("complaints:mediation_decide", args=[world.mediation.pk])
    response = client_for("mediateur").post(url, {**DECISION, "modifier": "1"})
    assert response.status_code == 200
    assert "Le montant est ramené à 120 euros." in page(response)
    world.mediation.refresh_from_db()
    assert world.mediation.status == MediationStatus.OPEN


def test_a_mediation_taken_by_someone_else_is_not_decided_behind_their_back(world, client_for):
    from voix.core import services as core_services
    from voix.core.models import Role

    colleague = core_services.create_person(
        None, email="mediateur2@test.localhost", full_name="Deuxième Médiateur"
    )
    core_services.add_membership(None, colleague, world.caf, Role.MEDIATEUR)
    with services.without_messages():
        services.take_mediation(colleague, world.mediation)
    url = reverse("complaints:mediation_decide", args=[world.mediation.pk])
    response = client_for("mediateur").post(url, {**DECISION, "confirmer": "1"})
    assert response.status_code == 400
    assert "prenez-la d'abord" in page(response)


def test_an_administrator_reads_the_queue_but_does_not_decide(world, client_for):
    client = client_for("admin")
    assert world.mediation.complaint.reference in page(
        client.get(reverse("complaints:mediation_index"))
    )
    html = page(client.get(detail(world.mediation)))
    assert "Prendre cette médiation" not in html
    url = reverse("complaints:mediation_decide", args=[world.mediation.pk])
    assert client.post(url, {**DECISION, "confirmer": "1"}).status_code == 403
