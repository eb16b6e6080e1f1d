"""The partner relay's page: file for the person sitting with the advisor (consent
recorded), then follow the relay's cases only, without their content."""

from html import unescape

import pytest
from django.urls import reverse

from voix.complaints.models import Complaint, Intake, Kind


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


URL = "complaints:relay_index"


def page(response) -> str:
    return unescape(response.content.decode())


def relay_data(**overrides):
    data = {
        "kind": Kind.COMPLAINT,
        "subject": "Prime d'activité suspendue",
        "body": "Sa prime d'activité est suspendue depuis deux mois sans explication.",
        "full_name": "Claude Reçu",
        "email": "claude@example.org",
        "phone": "",
        "postal_address": "",
        "file_number": "",
        "consent": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_partner_files_for_the_person_and_gets_the_reference_once(world, client_for):
    client = client_for("partenaire")
    response = client.post(reverse(URL), relay_data())
    complaint = Complaint.objects.get(subject="Prime d'activité suspendue")
    assert complaint.intake == Intake.RELAY
    assert complaint.relay == world.relay
    assert complaint.created_by == world.people["partenaire"]
    assert complaint.consent_at is not None
    assert response["Location"] == reverse(URL)
    html = page(client.get(reverse(URL)))
    assert "Demande transmise à Caf test" in html
    assert f"/suivi-reclamation/{complaint.token}/" in html
    # the confirmation shows once; the list keeps the reference only
    html = page(client.get(reverse(URL)))
    assert "Demande transmise" not in html
    assert complaint.reference in html
    assert f"/suivi-reclamation/{complaint.token}/" not in html


def test_without_the_persons_consent_nothing_is_filed(world, client_for):
    response = client_for("partenaire").post(reverse(URL), relay_data(consent=None))
    assert response.status_code == 400
    assert "Cochez la case une fois l'accord de la personne recueilli" in page(response)
    assert not Complaint.objects.filter(subject="Prime d'activité suspendue").exists()
    assert 'value="Prime d\'activité suspendue"' in page(response)


def test_the_list_shows_the_relays_cases_only_and_not_their_content(world, client_for):
    html = page(client_for("partenaire").get(reverse(URL)))
    relay_case = world.relay_complaint
    assert relay_case.reference in html and relay_case.subject in html
    assert relay_case.body not in html
    assert relay_case.email not in html and relay_case.full_name not in html
    assert world.complaint.reference not in html
    assert world.outsider_complaint.reference not in html


def test_staff_have_no_relay_page(world, client_for):
    assert client_for("manager").get(reverse(URL)).status_code == 403
