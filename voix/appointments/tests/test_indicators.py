"""The appointments' indicator sources, on a hand-worked month (March 2026 at the siège),
and the daily availability snapshot that feeds the « délai d'obtention » indicator."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from voix.appointments import indicators, services
from voix.appointments.management.commands.snapshot_availability import take_snapshots
from voix.appointments.models import AvailabilitySnapshot, Channel, Mode, Status
from voix.commitments import catalogue, measures
from voix.commitments.models import Indicator, Measurement

PARIS = ZoneInfo("Europe/Paris")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
BOOKED_ON = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)


def at(month, day, hour, minute=0):
    return datetime(2026, month, day, hour, minute, tzinfo=PARIS)


def _book(w, reason, starts_at, mode, channel, status, *, relay=None, name="Personne"):
    appointment = services.book(
        w.people["partenaire"] if channel == Channel.PARTNER else None,
        reason,
        site=w.site,
        mode=mode,
        starts_at=starts_at,
        channel=channel,
        full_name=name,
        phone="06 12 34 56 78",
        consent=True,
        relay=relay,
        referral_note="Situation à examiner." if relay else "",
        now=BOOKED_ON if starts_at.month == 3 else datetime(2026, 3, 25, tzinfo=PARIS),
    )
    if status == Status.CANCELLED:
        services.cancel(None, appointment, reason_text="Empêchement")
    elif status != Status.PLANNED:
        services.set_status(None, appointment, status)
    return appointment


@pytest.fixture
def march(world):
    """March 2026 at the siège: 3 honoured, 2 no-shows (phone; visio through a relay),
    1 cancelled, 1 excused; one honoured appointment in April (another period)."""
    w = world
    rdv, rdd = w.rdv_reason, w.rdd_reason
    _book(w, rdv, at(3, 9, 9), Mode.ON_SITE, Channel.PUBLIC, Status.HONOURED)
    _book(w, rdv, at(3, 9, 9, 20), Mode.PHONE, Channel.AGENT, Status.NO_SHOW)
    _book(w, rdv, at(3, 10, 9), Mode.VIDEO, Channel.PUBLIC, Status.HONOURED)
    _book(w, rdd, at(3, 10, 10), Mode.ON_SITE, Channel.PARTNER, Status.HONOURED, relay=w.relay)
    _book(w, rdd, at(3, 11, 9), Mode.VIDEO, Channel.PARTNER, Status.NO_SHOW, relay=w.other_relay)
    _book(w, rdv, at(3, 11, 14), Mode.ON_SITE, Channel.PUBLIC, Status.CANCELLED)
    _book(w, rdv, at(3, 12, 9), Mode.ON_SITE, Channel.AGENT, Status.EXCUSED)
    _book(w, rdv, at(4, 1, 9), Mode.ON_SITE, Channel.PUBLIC, Status.HONOURED)
    return w


def _source(key, w, site=None, start=MARCH, end=APRIL):
    return measures.SOURCES[key](w.caf, site, "month", start, end)


def test_every_source_is_registered_and_named_in_the_catalogue(db):
    keys = {
        "appointments.delay",
        "appointments.no_show",
        "appointments.referrals",
        "appointments.mode.sur_place",
        "appointments.mode.telephone",
        "appointments.mode.visio",
        "appointments.channel.public",
        "appointments.channel.partenaire",
        "appointments.channel.agent",
        "appointments.channel.api",
    }
    assert keys <= set(measures.SOURCES)
    catalogue.load_catalogue()
    sources = set(
        Indicator.objects.filter(source__startswith="appointments.").values_list(
            "source", flat=True
        )
    )
    assert sources == keys


def test_no_show_rate_counts_honoured_and_no_shows_of_the_period(march):
    w = march
    assert _source("appointments.no_show", w) == [
        (w.site, "", 2, 5, None),
        (None, "", 2, 5, None),
        (None, "En visio", 1, 2, None),
        (None, "Par téléphone", 1, 1, None),
        (None, "Sur place", 0, 2, None),
    ]
    assert _source("appointments.no_show", w, site=w.site) == [(w.site, "", 2, 5, None)]
    assert _source("appointments.no_show", w, site=w.relay) == []


def test_shares_by_mode_and_channel_leave_cancelled_and_excused_out(march):
    w = march
    expected = {
        "appointments.mode.sur_place": 2,
        "appointments.mode.telephone": 1,
        "appointments.mode.visio": 2,
        "appointments.channel.public": 2,
        "appointments.channel.partenaire": 2,
        "appointments.channel.agent": 1,
        "appointments.channel.api": 0,
    }
    for key, count in expected.items():
        assert _source(key, w) == [(w.site, "", count, 5, None), (None, "", count, 5, None)], key


def test_referrals_are_counted_per_relay(march):
    w = march
    rows = _source("appointments.referrals", w)
    assert sorted(rows, key=lambda r: (r[0] is None, r[0] and r[0].name)) == [
        (w.relay, "", 1, None, 1),
        (w.other_relay, "", 1, None, 1),
        (None, "", 2, None, 2),
    ]
    assert _source("appointments.referrals", w, site=w.relay) == [(w.relay, "", 1, None, 1)]


def _snapshot(w, reason, day, first_at):
    AvailabilitySnapshot.objects.create(
        day=day,
        organisation=w.caf,
        site=w.site,
        reason=reason,
        taken_at=datetime.combine(day, datetime.min.time(), tzinfo=PARIS),
        first_available_at=first_at,
    )


@pytest.fixture
def snapshots(world):
    """« Question » : same day (0), Friday → Monday (1), Saturday → Wednesday (3);
    « Rendez-vous des droits » : Monday → Thursday (3), and a day with no free slot (left
    out). April: Friday → Tuesday over Easter Monday (1, another period)."""
    w = world
    _snapshot(w, w.rdv_reason, date(2026, 3, 2), at(3, 2, 10))
    _snapshot(w, w.rdv_reason, date(2026, 3, 6), at(3, 9, 9))
    _snapshot(w, w.rdv_reason, date(2026, 3, 7), at(3, 11, 9))
    _snapshot(w, w.rdd_reason, date(2026, 3, 2), at(3, 5, 14))
    _snapshot(w, w.rdd_reason, date(2026, 3, 3), None)
    _snapshot(w, w.rdv_reason, date(2026, 4, 3), at(4, 7, 9))
    return w


def test_delay_is_the_mean_of_working_days_to_the_first_free_slot(snapshots):
    w = snapshots
    assert _source("appointments.delay", w) == [
        (w.site, "", 7, 4, None),
        (w.site, "Question sur mon dossier", 4, 3, None),
        (w.site, "Rendez-vous des droits", 3, 1, None),
        (None, "", 7, 4, None),
        (None, "Question sur mon dossier", 4, 3, None),
        (None, "Rendez-vous des droits", 3, 1, None),
    ]
    # Easter Monday 2026 (6 April) is not a working day.
    assert _source("appointments.delay", w, start=APRIL, end=date(2026, 5, 1)) == [
        (w.site, "", 1, 1, None),
        (w.site, "Question sur mon dossier", 1, 1, None),
        (None, "", 1, 1, None),
        (None, "Question sur mon dossier", 1, 1, None),
    ]


def test_long_reason_labels_are_cut_to_the_measurement_column(world):
    services.save_reason(
        None, world.caf, label="Accompagnement après une séparation ou un décès", sites=[]
    )
    labels = indicators.reason_labels(world.caf)
    assert all(len(label) <= 30 for label in labels.values())
    assert "Accompagnement après une sépa…" in labels.values()


def test_recompute_stores_the_catalogue_indicators(march, snapshots):
    catalogue.load_catalogue()
    expected = {
        "rdv-non-honores": Decimal("40.0"),
        "rdv-part-sur-place": Decimal("40.0"),
        "rdv-pris-par-relais": Decimal("40.0"),
        "rdv-pris-par-api": Decimal("0.0"),
        "rdv-orientations-relais": Decimal("2.0"),
        "delai-obtention-rdv": Decimal("1.8"),
    }
    for code, value in expected.items():
        indicator = Indicator.objects.get(organisation=None, code=code)
        measures.recompute(indicator, march.caf, "month", [MARCH])
        stored = Measurement.objects.get(
            indicator=indicator, organisation=march.caf, site=None, channel=""
        )
        assert stored.value == value, code
    again = measures.recompute(
        Indicator.objects.get(code="rdv-non-honores"), march.caf, "month", [MARCH]
    )
    assert again.created == again.updated == 0


def test_the_snapshot_command_measures_each_reason_at_each_site_once_a_day(world):
    rows = take_snapshots(organisation=world.caf)
    assert len(rows) == 3  # three reasons at the siège
    by_reason = {row.reason_id: row for row in rows}
    # A partner reason is measured as the relays book it, an agents-only one as agents do.
    assert by_reason[world.rdd_reason.pk].first_available_at is not None
    assert by_reason[world.agent_reason.pk].first_available_at is not None
    assert all(row.delay_days is None or row.delay_days >= 0 for row in rows)
    out = io.StringIO()
    call_command("snapshot_availability", "--organisme", "caf-test", stdout=out)
    assert "3 mesure(s) de disponibilité enregistrée(s)" in out.getvalue()
    assert AvailabilitySnapshot.objects.filter(organisation=world.caf).count() == 3


def test_the_snapshot_command_refuses_an_unknown_organisation(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Aucun organisme"):
        call_command("snapshot_availability", "--organisme", "inconnu", stdout=io.StringIO())
