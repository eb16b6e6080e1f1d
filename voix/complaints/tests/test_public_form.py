"""The public complaint form (/reclamation/<organisme>/): no account, no JavaScript, every
problem said in French at its field, nothing typed lost (files excepted, and said so)."""

from datetime import timedelta
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from voix.complaints.forms import FILES_AGAIN
from voix.complaints.models import Complaint, Intake, Kind
from voix.core import antibot

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def form_url(w):
    return reverse("complaints:public_form", args=[w.caf.slug])


def form_data(**overrides):
    data = {
        "kind": Kind.COMPLAINT,
        "site": "",
        "subject": "Attente trop longue",
        "body": "J'ai attendu plus d'une heure à l'accueil sans être reçu.",
        "full_name": "Sam Usager",
        "email": "sam@example.org",
        "phone": "",
        "postal_address": "",
        "file_number": "",
        "consent": "on",
        antibot.STAMP_FIELD: antibot.stamp(timezone.now() - timedelta(seconds=30)),
        antibot.HONEYPOT_FIELD: "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def page(response) -> str:
    return unescape(response.content.decode())


def test_form_asks_the_kind_in_a_fieldset_with_a_legend_and_a_hint_per_choice(world, client):
    html = page(client.get(form_url(world)))
    assert '<legend class="fr-fieldset__legend" id="id_kind-legend">Votre démarche</legend>' in html
    for label in ("Réclamation", "Suggestion", "Remerciement"):
        assert f'>{label}<span class="fr-hint-text">' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'type="file"' in html and " multiple" in html
    # the hint announces the accepted types and the sizes
    assert "PDF, JPEG, PNG" in html and "5 Mo chacun" in html
    assert "<script" not in html.split('id="contenu"')[1].split("</main>")[0]


def test_site_list_offers_the_organisations_own_sites_only(world, client):
    html = page(client.get(form_url(world)))
    assert world.site.name in html
    assert world.other_site.name not in html
    assert world.relay.name not in html  # relays file through their own page


def test_a_site_can_be_preselected_from_its_public_page(world, client):
    html = client.get(form_url(world) + f"?lieu={world.site.pk}").content.decode()
    assert f'<option value="{world.site.pk}" selected>' in html


def test_sending_files_the_complaint_and_confirms_with_reference_and_private_link(world, client):
    response = client.post(form_url(world), form_data(site=world.site.pk))
    complaint = Complaint.objects.get(subject="Attente trop longue")
    assert complaint.intake == Intake.FORM
    assert complaint.site == world.site
    assert complaint.consent_at is not None
    assert response.status_code == 302
    assert response["Location"].endswith(f"/suivi-reclamation/{complaint.token}/?envoi=1")
    html = page(client.get(response["Location"]))
    assert complaint.reference in html
    assert f"/suivi-reclamation/{complaint.token}/" in html
    assert "Un courriel avec la référence et ce lien vient de vous être envoyé" in html


def test_without_email_the_confirmation_says_to_keep_the_reference(world, client):
    response = client.post(
        form_url(world), form_data(email="", phone="06 12 34 56 78"), follow=True
    )
    html = page(response)
    assert "Vous n'avez pas indiqué d'adresse électronique" in html


def test_attachments_are_kept_with_the_case(world, client):
    files = [
        SimpleUploadedFile("courrier.pdf", PDF, "application/pdf"),
        SimpleUploadedFile("photo.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png"),
    ]
    client.post(form_url(world), {**form_data(), "attachments": files})
    complaint = Complaint.objects.get(subject="Attente trop longue")
    assert sorted(a.original_name for a in complaint.attachments.all()) == [
        "courrier.pdf",
        "photo.png",
    ]


def test_an_oversized_file_is_refused_at_its_field_and_the_text_is_kept(world, client):
    big = SimpleUploadedFile("releve.pdf", PDF + b"0" * (6 * 1024 * 1024), "application/pdf")
    response = client.post(form_url(world), {**form_data(), "attachments": [big]})
    assert response.status_code == 400
    assert not Complaint.objects.filter(subject="Attente trop longue").exists()
    html = page(response)
    assert "« releve.pdf » pèse 6,0 Mo" in html
    assert 'href="#id_attachments"' in html  # the summary links to the field
    assert FILES_AGAIN in html
    assert 'value="Attente trop longue"' in html
    assert "J'ai attendu plus d'une heure à l'accueil sans être reçu." in html
    assert 'value="sam@example.org"' in html


def test_a_file_of_an_unsupported_type_is_refused_whatever_its_name(world, client):
    fake = SimpleUploadedFile("facture.pdf", b"MZ\x90\x00 un programme", "application/pdf")
    response = client.post(form_url(world), {**form_data(), "attachments": [fake]})
    assert response.status_code == 400
    assert "« facture.pdf » n'est pas d'un type accepté" in page(response)
    assert not Complaint.objects.filter(subject="Attente trop longue").exists()


def test_files_must_be_chosen_again_when_another_field_is_wrong(world, client):
    good = SimpleUploadedFile("courrier.pdf", PDF, "application/pdf")
    response = client.post(form_url(world), {**form_data(body=""), "attachments": [good]})
    assert response.status_code == 400
    html = page(response)
    assert "Écrivez votre message : il est vide." in html
    assert FILES_AGAIN in html


def test_an_empty_message_is_refused_with_a_summary_linking_to_the_field(world, client):
    response = client.post(form_url(world), form_data(body="   "))
    assert response.status_code == 400
    html = page(response)
    assert 'id="erreurs"' in html
    assert '<a href="#id_body">Votre message : Écrivez votre message : il est vide.</a>' in html
    assert 'aria-invalid="true"' in html


def test_an_abusive_message_is_refused_politely_and_kept(world, client):
    body = "Votre agent est un connard, je veux être remboursé de mon trajet."
    response = client.post(form_url(world), form_data(body=body))
    assert response.status_code == 400
    html = page(response)
    assert "termes injurieux" in html
    assert body in html
    assert not Complaint.objects.filter(subject="Attente trop longue").exists()


def test_a_message_made_of_links_is_refused(world, client):
    body = "Voyez http://a.example http://b.example http://c.example http://d.example"
    response = client.post(form_url(world), form_data(body=body))
    assert response.status_code == 400
    assert "plus de 3 liens" in page(response)


def test_a_complaint_needs_one_way_to_answer(world, client):
    response = client.post(form_url(world), form_data(email="", phone="", postal_address=""))
    assert response.status_code == 400
    assert "Indiquez au moins un moyen de vous répondre" in page(response)


def test_a_thank_you_needs_no_way_to_answer(world, client):
    data = form_data(
        kind=Kind.COMPLIMENT, email="", subject="Merci", body="Accueil parfait, merci !"
    )
    response = client.post(form_url(world), data)
    assert response.status_code == 302
    assert Complaint.objects.get(subject="Merci").kind == Kind.COMPLIMENT


def test_consent_is_required(world, client):
    response = client.post(form_url(world), form_data(consent=None))
    assert response.status_code == 400
    assert 'href="#id_consent">Consentement :' in page(response)


def test_a_bad_phone_number_is_named_at_its_field(world, client):
    response = client.post(form_url(world), form_data(phone="12"))
    assert response.status_code == 400
    assert "Numéro de téléphone invalide" in page(response)


def test_a_robot_filling_the_honeypot_files_nothing(world, client):
    data = form_data(**{antibot.HONEYPOT_FIELD: "http://spam.example"})
    response = client.post(form_url(world), data)
    assert response.status_code == 400
    assert not Complaint.objects.filter(subject="Attente trop longue").exists()


def test_a_form_sent_too_fast_is_shown_again_with_everything_typed(world, client):
    response = client.post(form_url(world), form_data(**{antibot.STAMP_FIELD: antibot.stamp()}))
    assert response.status_code == 400
    html = page(response)
    assert "trop vite" in html
    assert 'value="Attente trop longue"' in html


def test_too_many_sends_from_one_connection_get_429(world, client, settings):
    settings.PUBLIC_RATE_LIMIT = 1
    client.post(form_url(world), form_data())
    response = client.post(form_url(world), form_data(subject="Deuxième"))
    assert response.status_code == 429
    assert "le dépôt de réclamations" in page(response)
    assert not Complaint.objects.filter(subject="Deuxième").exists()


def test_an_organisation_that_is_not_public_has_no_form(world, client):
    world.caf.is_public = False
    world.caf.save()
    assert client.get(form_url(world)).status_code == 404
