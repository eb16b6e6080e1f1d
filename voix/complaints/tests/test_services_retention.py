"""Retention: personal data of closed cases erased after the period, files too; idempotent."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from voix.complaints import retention, services
from voix.complaints.models import AnswerVia, Attachment, Complaint, Decision
from voix.complaints.tests.world import public_complaint
from voix.core import retention as core_retention

CLOSED = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def closed_case(world, when=CLOSED, **fields):
    qualite = world.people["qualite"]
    c = public_complaint(
        world,
        now=when,
        full_name="Camille Effacée",
        phone="06 12 34 56 78",
        postal_address="1 rue du Secret",
        file_number="1234567",
        attachments=[SimpleUploadedFile("justificatif.pdf", PDF)],
        **fields,
    )
    services.add_note(qualite, c, "Note avec des détails personnels.")
    services.send_answer(qualite, c, text="Réponse détaillée.", via=AnswerVia.EMAIL, now=when)
    return services.close_complaint(qualite, c, now=when)


def test_complaints_are_a_registered_data_type_kept_five_years_by_default(world):
    data_type = core_retention.get_data_type("reclamations")
    assert data_type.default_days == 5 * 365
    assert core_retention.period_for(world.caf, "reclamations") == 5 * 365


def test_the_purge_erases_personal_data_and_files_of_cases_closed_before_the_cutoff(
    world, media, django_capture_on_commit_callbacks
):
    old = closed_case(world)
    recent = closed_case(world, when=datetime(2029, 1, 1, tzinfo=UTC))
    path = Path(Attachment.objects.get(complaint=old).file.path)
    now = CLOSED + timedelta(days=5 * 365 + 1)
    with django_capture_on_commit_callbacks(execute=True):
        counts = core_retention.purge(now=now)
    assert counts["reclamations"] == 1
    old.refresh_from_db()
    assert (old.full_name, old.email, old.phone, old.postal_address, old.file_number) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert old.subject == old.body == old.answer == retention.ERASED
    assert old.purged_at == now
    assert [n.text for n in old.notes.all()] == [retention.ERASED]
    assert not Attachment.objects.filter(complaint=old).exists() and not path.exists()
    # The case stays for the indicators.
    assert old.answered_at and old.closed_at and old.contact_id
    recent.refresh_from_db()
    assert recent.full_name == "Camille Effacée" and recent.purged_at is None


def test_the_purge_is_idempotent(world):
    closed_case(world)
    now = CLOSED + timedelta(days=5 * 365 + 1)
    assert retention.purge_complaints(world.caf, now - timedelta(days=5 * 365), now) == 1
    assert retention.purge_complaints(world.caf, now - timedelta(days=5 * 365), now) == 0


def test_a_dry_run_erases_nothing_and_keeps_the_files(world, media):
    old = closed_case(world)
    path = Path(Attachment.objects.get(complaint=old).file.path)
    counts = core_retention.purge(now=CLOSED + timedelta(days=5 * 365 + 1), dry_run=True)
    assert counts["reclamations"] == 1
    old.refresh_from_db()
    assert old.full_name == "Camille Effacée" and path.exists()


def test_open_cases_are_never_purged(world):
    now = world.complaint.received_at + timedelta(days=20 * 365)
    assert retention.purge_complaints(world.caf, now, now) == 0


def test_a_mediations_texts_are_erased_with_the_case(world):
    m = services.decide_mediation(
        world.people["mediateur"], world.mediation, decision=Decision.UPHELD, text="Motifs."
    )
    now = m.decided_at + timedelta(days=1)
    assert retention.purge_complaints(world.caf, now, now) == 1
    m.refresh_from_db()
    assert m.reason == m.decision_text == retention.ERASED


def test_a_purged_case_has_no_tracking_page_any_more(world):
    c = closed_case(world)
    retention.purge_complaints(world.caf, CLOSED + timedelta(days=1), CLOSED + timedelta(days=1))
    with pytest.raises(services.TrackingExpired):
        services.complaint_for_token(Complaint.objects.get(pk=c.pk).token, now=CLOSED)
