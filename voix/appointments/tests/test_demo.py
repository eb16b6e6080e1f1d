"""The demo Caf's appointments: advisors, reasons, opening slots, a few weeks of bookings
through every channel with realistic outcomes, snapshots, indicators; idempotent."""

import io
from collections import Counter
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from voix.appointments.models import (
    Appointment,
    AvailabilitySnapshot,
    Channel,
    OpeningSlot,
    Reason,
    Status,
)
from voix.commitments.models import Measurement
from voix.core.models import AuditEvent, Organisation


def seed():
    """seed_demo without the contacts and reception demos (a year of rows each, slow, and
    unrelated): the core demo, the commitments catalogue, then the appointments."""
    out = io.StringIO()
    with (
        mock.patch("voix.contacts.demo.seed", lambda stdout: None),
        mock.patch("voix.reception.demo.seed", lambda stdout: None),
    ):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo(db):
    output = seed()
    return Organisation.objects.get(slug="caf-mayenne-demo"), output


def test_the_demo_caf_has_advisors_reasons_and_opening_slots(demo):
    caf, output = demo
    labels = set(Reason.objects.filter(organisation=caf).values_list("label", flat=True))
    assert {"Rendez-vous des droits", "Question sur mon dossier"} <= labels
    rdd = Reason.objects.get(organisation=caf, label="Rendez-vous des droits")
    assert (rdd.duration_minutes, rdd.audience, rdd.video, rdd.phone) == (
        60,
        "partenaire",
        True,
        False,
    )
    advisors = OpeningSlot.objects.filter(site__organisation=caf).values("advisor").distinct()
    assert 6 <= advisors.count() <= 8
    assert "Rendez-vous de démonstration" in output


def test_the_demo_has_past_outcomes_and_coming_bookings_through_every_channel(demo):
    caf, _ = demo
    now = timezone.now()
    rows = Appointment.objects.filter(organisation=caf)
    past = Counter(rows.filter(starts_at__lt=now).values_list("status", flat=True))
    assert past[Status.HONOURED] > past[Status.NO_SHOW] > 0
    assert past[Status.PLANNED] == 0
    assert rows.filter(starts_at__gt=now, status=Status.PLANNED).exists()
    assert rows.filter(status=Status.CANCELLED).exists()
    channels = set(rows.values_list("channel", flat=True))
    assert channels == {Channel.PUBLIC, Channel.PARTNER, Channel.AGENT}
    referred = rows.filter(channel=Channel.PARTNER)
    assert all(a.relay_id and a.referral_note for a in referred)
    assert not rows.filter(channel=Channel.PUBLIC, relay__isnull=False).exists()


def test_the_demo_sites_are_on_the_map_and_snapshots_and_indicators_exist(demo):
    caf, _ = demo
    assert caf.sites.get(slug="laval-siege").latitude is not None
    assert (
        AvailabilitySnapshot.objects.filter(organisation=caf).values("day").distinct().count() >= 21
    )
    assert AvailabilitySnapshot.objects.filter(
        organisation=caf, first_available_at__isnull=False
    ).exists()
    computed = Measurement.objects.filter(
        organisation=caf,
        indicator__source__startswith="appointments.",
        provenance="computed",
    )
    codes = set(computed.values_list("indicator__code", flat=True))
    assert {"delai-obtention-rdv", "rdv-non-honores", "rdv-orientations-relais"} <= codes


def test_seeding_the_demo_again_changes_nothing(demo):
    counts = (
        Appointment.objects.count(),
        AvailabilitySnapshot.objects.count(),
        OpeningSlot.objects.count(),
        Reason.objects.count(),
        AuditEvent.objects.count(),
    )
    seed()
    assert counts == (
        Appointment.objects.count(),
        AvailabilitySnapshot.objects.count(),
        OpeningSlot.objects.count(),
        Reason.objects.count(),
        AuditEvent.objects.count(),
    )
