"""Staff pages of the complaints app: the list, intake by an agent, a case's page and its
actions, attachments, letters, export — and the audit of every view of personal data."""

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from voix.complaints import services
from voix.complaints.models import AnswerVia, Complaint, Intake, Kind, Mediation, Status
from voix.core.models import AuditEvent

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
VIEWED = "réclamation.consultée"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def page(response) -> str:
    return unescape(response.content.decode())


def text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page(response)).split())


def views_of(complaint) -> int:
    return AuditEvent.objects.filter(
        action=VIEWED, object_type="complaint", object_id=str(complaint.pk)
    ).count()


def detail(complaint):
    return reverse("complaints:detail", args=[complaint.pk])


def action(name, complaint):
    return reverse(f"complaints:{name}", args=[complaint.pk])


def file_with_attachment(w):
    with services.without_messages():
        return services.file_complaint(
            None,
            w.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Courrier incompréhensible",
            body="Voici le courrier reçu, je ne le comprends pas du tout.",
            email="piece@example.org",
            consent=True,
            attachments=[SimpleUploadedFile("courrier.pdf", PDF, "application/pdf")],
        )


# ----- the list and the export ----------------------------------------------------------------


def test_the_list_shows_no_personal_data_and_is_not_audited(world, client_for):
    client = client_for("manager")
    response = client.get(reverse("complaints:index"))
    html = page(response)
    assert world.complaint.reference in html
    assert world.complaint.full_name not in html
    assert world.complaint.email not in html
    assert world.outsider_complaint.reference not in html
    assert views_of(world.complaint) == 0


def test_the_list_puts_the_nearest_deadline_first(world, client_for):
    late = world.relay_complaint
    late.contact.due_at = timezone.now() - timedelta(days=2)
    late.contact.save(update_fields=["due_at"])
    html = page(client_for("manager").get(reverse("complaints:index")))
    assert html.index(late.reference) < html.index(world.complaint.reference)
    assert "En retard de 2 jours" in html


def test_the_list_filters_overdue_cases_and_my_cases(world, client_for):
    late = world.relay_complaint
    late.contact.due_at = timezone.now() - timedelta(days=1)
    late.contact.save(update_fields=["due_at"])
    client = client_for("manager")
    html = page(client.get(reverse("complaints:index") + "?echeance=depassee"))
    assert late.reference in html and world.complaint.reference not in html
    with services.without_messages():
        services.assign_complaint(world.people["manager"], world.complaint, world.people["manager"])
    html = page(client.get(reverse("complaints:index") + "?charge=moi"))
    assert world.complaint.reference in html and late.reference not in html


def test_an_agent_sees_only_the_cases_given_to_them(world, client_for):
    client = client_for("agent")
    assert world.complaint.reference not in page(client.get(reverse("complaints:index")))
    with services.without_messages():
        services.assign_complaint(world.people["manager"], world.complaint, world.people["agent"])
    html = page(client.get(reverse("complaints:index")))
    assert f'href="{detail(world.complaint)}"' in html
    assert client.get(detail(world.complaint)).status_code == 200


def test_a_partner_is_sent_to_its_relay_page(world, client_for):
    response = client_for("partenaire").get(reverse("complaints:index"))
    assert response["Location"] == reverse("complaints:relay_index")


def test_the_export_leaves_out_every_personal_data(world, client_for):
    response = client_for("manager").get(reverse("complaints:export"))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0][0] == "reference"
    references = {row[0] for row in rows[1:]}
    assert world.complaint.reference in references
    assert world.outsider_complaint.reference not in references
    for complaint in (world.complaint, world.relay_complaint):
        for secret in (complaint.full_name, complaint.email, complaint.body, complaint.subject):
            assert secret not in content


# ----- intake by an agent ---------------------------------------------------------------------


def intake_data(**overrides):
    data = {
        "intake": Intake.PHONE,
        "kind": Kind.COMPLAINT,
        "subject": "Appel au sujet d'un rappel",
        "body": "La personne n'a jamais été rappelée malgré le rendez-vous téléphonique.",
        "full_name": "Lou Appel",
        "phone": "06 12 34 56 78",
        "email": "",
        "postal_address": "",
        "file_number": "1234567",
    }
    data.update(overrides)
    return data


def test_an_agent_records_a_phone_complaint_without_the_consent_box(world, client_for):
    client = client_for("agent")
    response = client.post(reverse("complaints:create"), intake_data())
    complaint = Complaint.objects.get(subject="Appel au sujet d'un rappel")
    assert complaint.intake == Intake.PHONE
    assert complaint.created_by == world.people["agent"]
    assert complaint.consent_at is None
    # the agent does not handle the case: back to the form with the reference to give
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("complaints:create"))
    messages_text = text(client.get(response["Location"]))
    assert complaint.reference in messages_text
    assert f"/suivi-reclamation/{complaint.token}/" in messages_text


def test_a_manager_lands_on_the_case_after_intake(world, client_for):
    response = client_for("manager").post(
        reverse("complaints:create"), intake_data(intake=Intake.LETTER, consent="on")
    )
    complaint = Complaint.objects.get(subject="Appel au sujet d'un rappel")
    assert response["Location"] == detail(complaint)
    assert complaint.consent_at is not None


def test_an_agent_may_record_a_case_the_person_gave_no_contact_for(world, client_for):
    data = intake_data(intake=Intake.COUNTER, full_name="", phone="")
    response = client_for("agent").post(reverse("complaints:create"), data)
    assert response.status_code == 302
    complaint = Complaint.objects.get(subject="Appel au sujet d'un rappel")
    assert complaint.intake == Intake.COUNTER and not complaint.phone


def test_intake_keeps_what_was_typed_when_something_is_wrong(world, client_for):
    response = client_for("agent").post(reverse("complaints:create"), intake_data(body=""))
    assert response.status_code == 400
    html = page(response)
    assert "Écrivez votre message : il est vide." in html
    assert 'value="Appel au sujet d\'un rappel"' in html
    assert not Complaint.objects.filter(subject="Appel au sujet d'un rappel").exists()


def test_intake_asks_how_the_request_came(world, client_for):
    response = client_for("agent").post(reverse("complaints:create"), intake_data(intake=""))
    assert response.status_code == 400
    assert "Indiquez par où la demande est arrivée." in page(response)


# ----- a case's page --------------------------------------------------------------------------


def test_opening_a_case_is_written_to_the_audit_log(world, client_for):
    response = client_for("qualite").get(detail(world.complaint))
    assert response.status_code == 200
    html = page(response)
    assert world.complaint.full_name in html and world.complaint.email in html
    assert views_of(world.complaint) == 1
    event = AuditEvent.objects.get(action=VIEWED, object_id=str(world.complaint.pk))
    assert event.actor == world.people["qualite"]


def test_the_case_page_shows_deadlines_and_history_but_not_the_views(world, client_for):
    client = client_for("manager")
    client.get(detail(world.complaint))
    words = text(client.get(detail(world.complaint)))
    assert "attendue au plus tard le" in words
    assert "Réclamation enregistrée" in words
    assert "Données personnelles d'une réclamation consultées" not in words


def test_a_partner_never_opens_the_page_of_a_case_its_relay_filed(world, client_for):
    assert client_for("partenaire").get(detail(world.relay_complaint)).status_code == 404


def test_an_attachment_is_downloaded_with_its_stored_type_and_never_sniffed(world, client_for):
    complaint = file_with_attachment(world)
    item = complaint.attachments.get()
    client = client_for("manager")
    assert f"/reclamations/{complaint.pk}/pieces/{item.pk}/" in page(client.get(detail(complaint)))
    before = views_of(complaint)
    response = client.get(reverse("complaints:attachment", args=[complaint.pk, item.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith('attachment; filename="courrier.pdf"')
    assert b"".join(response.streaming_content) == PDF
    assert views_of(complaint) == before + 1


def test_an_attachment_of_another_case_is_not_found(world, client_for):
    complaint = file_with_attachment(world)
    item = complaint.attachments.get()
    url = reverse("complaints:attachment", args=[world.complaint.pk, item.pk])
    assert client_for("manager").get(url).status_code == 404


def test_a_note_is_added_and_shown_on_the_case(world, client_for):
    client = client_for("manager")
    response = client.post(action("note", world.complaint), {"text": "Rappeler jeudi."})
    assert response["Location"].endswith("#notes")
    assert "Rappeler jeudi." in page(client.get(detail(world.complaint)))


def test_an_empty_note_is_refused_with_a_message(world, client_for):
    client = client_for("manager")
    response = client.post(action("note", world.complaint), {"text": ""}, follow=True)
    assert "Écrivez la note : elle est vide." in page(response)
    assert not world.complaint.notes.exists()


def test_assigning_gives_the_case_to_a_person_of_the_organisation(world, client_for):
    agent = world.people["agent"]
    client_for("manager").post(action("assign", world.complaint), {"assignee": agent.pk})
    world.complaint.refresh_from_db()
    assert world.complaint.assignee == agent
    # someone of another organisation is not even offered
    outsider = world.people["outsider"]
    client_for("manager").post(action("assign", world.complaint), {"assignee": outsider.pk})
    world.complaint.refresh_from_db()
    assert world.complaint.assignee == agent


def test_tagging_sets_the_theme_and_the_causes(world, client_for):
    client_for("qualite").post(
        action("tag", world.complaint),
        {"theme": world.complaint_theme.pk, "root_causes": [world.complaint_cause.pk]},
    )
    world.complaint.refresh_from_db()
    assert world.complaint.theme == world.complaint_theme
    assert list(world.complaint.root_causes.all()) == [world.complaint_cause]


def test_another_organisations_theme_cannot_be_used(world, client_for):
    client_for("qualite").post(
        action("tag", world.complaint), {"theme": world.outsider_complaint_theme.pk}
    )
    world.complaint.refresh_from_db()
    assert world.complaint.theme is None


def test_pause_and_resume_stop_and_restart_the_clock(world, client_for):
    client = client_for("manager")
    client.post(action("pause", world.complaint), {"note": "Avis d'imposition"})
    world.complaint.refresh_from_db()
    assert world.complaint.status == Status.WAITING
    assert "Délai suspendu" in page(client.get(detail(world.complaint)))
    client.post(action("resume", world.complaint))
    world.complaint.refresh_from_db()
    assert world.complaint.status != Status.WAITING


def test_a_refused_action_says_why(world, client_for):
    # acknowledged already (the requester gave an e-mail)
    response = client_for("manager").post(action("acknowledge", world.complaint), follow=True)
    assert "L'accusé de réception est déjà enregistré." in page(response)


def test_the_médiateur_reads_a_mediated_case_but_does_not_act_on_it(world, client_for):
    client = client_for("mediateur")
    complaint = world.mediation.complaint
    assert client.get(detail(complaint)).status_code == 200
    assert client.post(action("note", complaint), {"text": "Vu."}).status_code == 403


# ----- answering ------------------------------------------------------------------------------


ANSWER = "Bonjour,\n\nVotre allocation a été versée le 5.\n\nCordialement."


def test_the_answer_page_offers_a_draft_and_both_ways(world, client_for):
    response = client_for("manager").get(action("answer", world.complaint))
    html = page(response)
    assert world.complaint.reference in html
    assert 'value="courriel"' in html and 'value="courrier"' in html
    assert "Aperçu de la lettre" in html
    assert views_of(world.complaint) == 1


def test_sending_an_answer_asks_for_a_confirmation_first(world, client_for):
    client = client_for("manager")
    url = action("answer", world.complaint)
    response = client.post(url, {"text": ANSWER, "via": AnswerVia.EMAIL})
    assert response.status_code == 200
    assert "Confirmer l'envoi de la réponse" in page(response)
    assert world.complaint.email in page(response)
    world.complaint.refresh_from_db()
    assert world.complaint.answered_at is None
    response = client.post(url, {"text": ANSWER, "via": AnswerVia.EMAIL, "confirmer": "1"})
    assert response["Location"].endswith("#reponse")
    world.complaint.refresh_from_db()
    assert world.complaint.answered_at is not None
    assert world.complaint.answer.replace("\r\n", "\n") == ANSWER
    assert world.complaint.answer_via == AnswerVia.EMAIL


def test_going_back_from_the_confirmation_keeps_the_text(world, client_for):
    client = client_for("manager")
    data = {"text": ANSWER, "via": AnswerVia.EMAIL, "modifier": "1"}
    response = client.post(action("answer", world.complaint), data)
    assert response.status_code == 200
    assert "Votre allocation a été versée le 5." in page(response)
    world.complaint.refresh_from_db()
    assert world.complaint.answered_at is None


def test_an_empty_answer_is_refused_at_its_field(world, client_for):
    response = client_for("manager").post(
        action("answer", world.complaint), {"text": "", "via": AnswerVia.EMAIL}
    )
    assert response.status_code == 400
    assert 'href="#id_text"' in page(response)


def test_without_email_only_the_letter_is_offered(world, client_for):
    with services.without_messages():
        complaint = services.file_complaint(
            None,
            world.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Par courrier",
            body="Je n'ai pas d'adresse électronique, répondez-moi par courrier.",
            postal_address="3 rue des Lilas\n53000 Laval",
            consent=True,
        )
    html = page(client_for("manager").get(action("answer", complaint)))
    assert 'value="courriel"' not in html
    assert "Pas d'adresse électronique dans le dossier" in html


def test_the_letter_preview_saves_nothing(world, client_for):
    response = client_for("manager").post(
        action("letter", world.complaint), {"text": ANSWER, "via": AnswerVia.LETTER}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    world.complaint.refresh_from_db()
    assert world.complaint.answer == "" and world.complaint.answered_at is None


def test_the_letter_of_an_answer_sent_by_post_is_ready_and_audited(world, client_for):
    client = client_for("manager")
    url = action("answer", world.complaint)
    client.post(url, {"text": ANSWER, "via": AnswerVia.LETTER, "confirmer": "1"})
    assert reverse("complaints:letter", args=[world.complaint.pk]) in page(
        client.get(detail(world.complaint))
    )
    before = views_of(world.complaint)
    response = client.get(action("letter", world.complaint))
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert views_of(world.complaint) == before + 1


# ----- closing and mediation ------------------------------------------------------------------


def test_closing_asks_for_a_confirmation(world, client_for):
    client = client_for("manager")
    client.post(
        action("answer", world.complaint),
        {"text": ANSWER, "via": AnswerVia.EMAIL, "confirmer": "1"},
    )
    response = client.get(action("close", world.complaint))
    assert "Clore la réclamation" in page(response)
    world.complaint.refresh_from_db()
    assert world.complaint.status != Status.CLOSED
    client.post(action("close", world.complaint))
    world.complaint.refresh_from_db()
    assert world.complaint.status == Status.CLOSED


def test_an_unanswered_complaint_cannot_be_closed(world, client_for):
    response = client_for("manager").get(action("close", world.complaint))
    assert "Envoyez d'abord la réponse" in page(response)
    assert 'type="submit"' not in page(response).split('id="contenu"')[1].split("</main>")[0]


def test_staff_refer_a_case_to_the_mediateur_with_a_reason(world, client_for):
    client = client_for("manager")
    response = client.get(action("escalate", world.complaint))
    assert "Transmettre" in page(response)
    reason = "La personne a appelé : elle conteste le montant retenu."
    client.post(action("escalate", world.complaint), {"reason": reason})
    mediation = Mediation.objects.get(complaint=world.complaint)
    assert mediation.requested_by == world.people["manager"]
    assert mediation.reason == reason


def test_a_referral_needs_a_reason(world, client_for):
    response = client_for("manager").post(action("escalate", world.complaint), {"reason": ""})
    assert response.status_code == 400
    assert not Mediation.objects.filter(complaint=world.complaint).exists()
