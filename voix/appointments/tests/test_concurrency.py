"""No advisor is ever double-booked, whatever the timing: 50 people pressing « réserver » on
the same slot at the same instant get exactly one booking between them; the others are told
« Ce créneau vient d'être réservé » and offered other slots. Proved on PostgreSQL with real
concurrent connections (one per thread, started together by a barrier)."""

from datetime import date, time
from functools import partial

import pytest
from django.db import connection

from tests.concurrency import run_together
from voix.appointments import services
from voix.appointments.models import Appointment, Channel, Mode, Occupancy
from voix.core import services as core_services
from voix.core.models import Role

ATTEMPTS = 50

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises every writer: concurrent bookings are proved on PostgreSQL.",
)


def _agency(advisors=1):
    caf = core_services.create_organisation(
        None, name="Caf concurrence", slug="caf-concurrence", kind="organisme", departement="53"
    )
    site = core_services.create_site(
        None,
        caf,
        name="Siège",
        slug="siege",
        kind="siege",
        address="1 rue A",
        postcode="53000",
        commune="Laval",
        insee_code="53130",
    )
    short = services.save_reason(
        None, caf, label="Question sur mon dossier", duration_minutes=20, sites=[site]
    )
    long = services.save_reason(
        None, caf, label="Rendez-vous des droits", duration_minutes=60, sites=[site]
    )
    people = []
    for n in range(advisors):
        person = core_services.create_person(
            None, email=f"conseiller{n}@concurrence.localhost", full_name=f"Conseiller {n}"
        )
        core_services.add_membership(None, person, caf, Role.AGENT, site=site)
        for weekday in range(7):  # every day, so the test never depends on today's date
            services.save_opening_slot(
                None,
                person,
                site,
                weekday=weekday,
                starts=time(9),
                ends=time(17),
                valid_from=date(2020, 1, 1),
            )
        people.append(person)
    return site, short, long, people


def _all_at_once(attempts):
    """Run each (reason, starts_at) attempt in its own thread and connection, together."""

    def attempt(n, reason, starts_at):
        try:
            return services.book(
                None,
                reason,
                site=reason.sites.get(),
                mode=Mode.ON_SITE,
                starts_at=starts_at,
                channel=Channel.PUBLIC,
                full_name=f"Personne {n}",
                email=f"personne{n}@example.org",
                consent=True,
            ).pk
        except services.SlotTaken as exc:
            return exc

    results, errors = run_together(*[partial(attempt, n, *args) for n, args in enumerate(attempts)])
    booked = [r for r in results if not isinstance(r, services.SlotTaken)]
    taken = [r for r in results if isinstance(r, services.SlotTaken)]
    return booked, taken, errors


def _overlapping_pairs() -> int:
    """Active appointments of one advisor that overlap — must always be 0."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM appointments_appointment a
            JOIN appointments_appointment b
              ON a.advisor_id = b.advisor_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
            WHERE a.status IN ('prevu', 'honore', 'absent')
              AND b.status IN ('prevu', 'honore', 'absent')
            """
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_attempts_on_one_slot_make_exactly_one_booking(transactional_db):
    site, reason, _, [advisor] = _agency()
    slot = services.first_available(reason, site)
    booked, taken, errors = _all_at_once([(reason, slot.starts_at)] * ATTEMPTS)

    assert errors == []
    assert len(booked) == 1
    assert len(taken) == ATTEMPTS - 1
    [appointment] = Appointment.objects.all()
    assert appointment.pk == booked[0]
    assert (appointment.advisor_id, appointment.starts_at) == (advisor.pk, slot.starts_at)
    cells = list(Occupancy.objects.values_list("appointment_id", flat=True))
    assert cells == [appointment.pk] * 4  # one set of 5-minute cells, for the winner only
    for exc in taken:
        assert exc.messages[0].startswith("Ce créneau vient d'être réservé")
        assert exc.alternatives
        assert all(alt.starts_at != slot.starts_at for alt in exc.alternatives)


@pytest.mark.django_db(transaction=True)
def test_concurrent_attempts_with_two_advisors_book_each_once(transactional_db):
    site, reason, _, advisors = _agency(advisors=2)
    slot = services.first_available(reason, site)
    booked, taken, errors = _all_at_once([(reason, slot.starts_at)] * 20)

    assert errors == []
    assert len(booked) == 2
    assert len(taken) == 18
    assert sorted(Appointment.objects.values_list("advisor_id", flat=True)) == sorted(
        a.pk for a in advisors
    )
    assert Occupancy.objects.count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_bookings_of_different_lengths_never_overlap(transactional_db):
    site, short, long, _ = _agency()
    first = services.first_available(long, site)
    # one hour from the first start, and the three 20-minute starts inside it, many times each
    starts = [s.starts_at for s in services.available_slots(short, site, limit=3)]
    attempts = [(long, first.starts_at)] * 10 + [(short, at) for at in starts] * 10
    booked, taken, errors = _all_at_once(attempts)

    assert errors == []
    assert booked
    assert len(booked) + len(taken) == len(attempts)
    assert _overlapping_pairs() == 0
    # the winners hold exactly their cells
    expected = sum((a.ends_at - a.starts_at).seconds // 300 for a in Appointment.objects.all())
    assert Occupancy.objects.count() == expected
