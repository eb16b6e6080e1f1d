"""The demo Caf's complaints: through the services, over the year, idempotent.

One small run (60 cases instead of 150) for the whole file: seeding is the slow part."""

import io
from unittest import mock

from django.core import mail
from django.core.management import call_command

from voix.commitments.models import Measurement
from voix.complaints import demo
from voix.complaints.models import Complaint, Kind, Mediation, Status
from voix.contacts.models import Contact
from voix.core.models import Organisation


def seed_demo(count):
    """seed_demo without the other apps' slow demos, with fewer complaints."""
    out = io.StringIO()
    real_seed = demo.seed
    with (
        mock.patch("voix.contacts.demo.seed", lambda stdout: None),
        mock.patch("voix.reception.demo.seed", lambda stdout: None),
        mock.patch("voix.appointments.demo.seed", lambda stdout: None),
        mock.patch("voix.surveys.demo.seed", lambda stdout: None, create=True),
        mock.patch("voix.field_reports.demo.seed", lambda stdout: None, create=True),
        mock.patch.object(demo, "seed", lambda stdout: real_seed(stdout, count=count)),
    ):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_the_demo_files_and_handles_complaints_over_the_year_once(db):
    output = seed_demo(60)
    assert "Réclamations de démonstration : 60 dossiers" in output
    caf = Organisation.objects.get(slug="caf-mayenne-demo")
    cases = Complaint.objects.filter(organisation=caf)
    assert cases.count() == 60
    # Through the services: each case has its contact-log entry and its audit trail.
    assert Contact.objects.filter(complaint__in=cases).count() == 60
    assert set(cases.values_list("kind", flat=True)) >= {Kind.COMPLAINT, Kind.SUGGESTION}
    assert cases.filter(status=Status.CLOSED).exists()
    assert cases.filter(theme__isnull=False).exists()
    assert caf.complaint_themes.count() == len(demo.THEMES)
    assert caf.root_causes.count() == len(demo.CAUSES)
    emails = cases.exclude(email="").values_list("email", flat=True)
    assert emails and all(e.endswith("@example.org") for e in emails)
    spread = cases.order_by("received_at")
    assert (spread.last().received_at - spread.first().received_at).days > 200
    assert not mail.outbox
    # Answers in time and late ones.
    answered = cases.filter(kind=Kind.COMPLAINT, answered_at__isnull=False).select_related(
        "contact"
    )
    in_time = [c.answered_at <= c.contact.answer_due_at for c in answered]
    assert any(in_time) and not all(in_time)
    assert Mediation.objects.filter(complaint__in=cases).exists()
    assert Measurement.objects.filter(
        organisation=caf, indicator__source="complaints.answer_in_time"
    ).exists()
    # Idempotent.
    seed_demo(60)
    assert cases.count() == 60
