"""The appointments engine, checked from the outside: which starts are offered (opening
slots, validity, exceptions, holidays and closures, absences, booking window, audience,
reasons, modes, existing bookings of any length), what a booking refuses and why, and that
an advisor is never booked twice.

The world is built today; each test then travels to the turn of 2029–2030, where the
calendar is known: Tuesday 1 January 2030 is a public holiday and the Caf is closed on
Wednesday 2 and Thursday 3 January (world.closure). In the world, w.advisor receives Monday
to Friday 09:00–12:00 and 14:00–16:30, w.advisor2 Monday, Tuesday and Thursday 09:00–12:00.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from conftest import PASSWORD
from voix.appointments import services
from voix.appointments.models import Appointment, Channel, Mode, Occupancy, Status
from voix.core import services as core_services
from voix.core.models import Role

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2029, 12, 27, 10, 0, tzinfo=PARIS)  # a Thursday
MON, TUE, WED, THU, FRI = (date(2030, 1, 7) + timedelta(days=n) for n in range(5))

MORNING = [time(9, 0), time(9, 20), time(9, 40), time(10, 0), time(10, 20), time(10, 40)]
MORNING += [time(11, 0), time(11, 20), time(11, 40)]
AFTERNOON = [time(14, 0), time(14, 20), time(14, 40), time(15, 0), time(15, 20), time(15, 40)]
AFTERNOON += [time(16, 0)]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), PARIS)


@pytest.fixture
def w(world, time_machine):
    time_machine.move_to(NOW, tick=False)
    return world


def slots_on(w, day, reason=None, *, now=NOW, **kwargs):
    return services.available_slots(
        reason or w.rdv_reason, w.site, start=day, days=1, now=now, **kwargs
    )


def starts(slots) -> list[time]:
    return [s.starts_at.astimezone(PARIS).time() for s in slots]


def by_start(slots) -> dict[time, tuple[int, ...]]:
    return {s.starts_at.astimezone(PARIS).time(): s.advisor_ids for s in slots}


def new_advisor(w, n=3):
    person = core_services.create_person(
        None, email=f"advisor{n}@test.localhost", full_name=f"Conseiller {n}", password=PASSWORD
    )
    core_services.add_membership(None, person, w.caf, Role.AGENT, site=w.site)
    return person


def book(w, starts_at, reason=None, channel=Channel.PUBLIC, mode=Mode.ON_SITE, **fields):
    now = fields.pop("now", NOW)
    person = {
        "full_name": "Camille Usager",
        "phone": "06 12 34 56 78",
        "email": "camille@example.org",
        "consent": True,
        **fields,
    }
    if channel == Channel.PARTNER:
        person.setdefault("relay", w.relay)
        person.setdefault("referral_note", "Séparation récente.")
    return services.book(
        None,
        reason or w.rdv_reason,
        site=w.site,
        mode=mode,
        starts_at=starts_at,
        channel=channel,
        now=now,
        **person,
    )


def field_errors(excinfo) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in excinfo.value.message_dict.items()}


# ------------------------------------------------------------------------------ opening slots


def test_slots_follow_each_advisors_weekly_hours(w):
    monday = by_start(slots_on(w, MON))
    assert list(monday) == MORNING + AFTERNOON
    assert all(set(monday[t]) == {w.advisor.pk, w.advisor2.pk} for t in MORNING)
    assert all(monday[t] == (w.advisor.pk,) for t in AFTERNOON)
    assert starts(slots_on(w, WED)) == MORNING + AFTERNOON
    assert all(s.advisor_ids == (w.advisor.pk,) for s in slots_on(w, WED))


def test_a_start_is_offered_only_when_the_whole_reason_fits_in_the_slot(w):
    # 20 minutes from 16:00 ends at 16:20; 16:20 would end at 16:40, after 16:30
    assert starts(slots_on(w, MON))[-1] == time(16, 0)
    # one hour from 14:00: 14:00 and 15:00, not 16:00
    rdd = slots_on(w, WED, w.rdd_reason, channel=Channel.PARTNER)
    assert starts(rdd) == [time(9), time(10), time(11), time(14), time(15)]


def test_no_slots_on_weekends(w):
    slots = services.available_slots(w.rdv_reason, w.site, start=date(2030, 1, 12), days=2, now=NOW)
    assert slots == []


def test_slots_are_sorted_and_carry_site_length_and_modes(w):
    slots = services.available_slots(w.rdv_reason, w.site, start=MON, days=5, now=NOW)
    assert [s.starts_at for s in slots] == sorted(s.starts_at for s in slots)
    assert {s.site_id for s in slots} == {w.site.pk}
    assert all(s.ends_at - s.starts_at == timedelta(minutes=20) for s in slots)
    assert all(set(s.modes) == {Mode.ON_SITE, Mode.PHONE, Mode.VIDEO} for s in slots)


def test_validity_dates_bound_a_recurring_slot(w):
    advisor3 = new_advisor(w)
    services.save_opening_slot(
        None,
        advisor3,
        w.site,
        weekday=5,  # Saturday
        starts=time(9),
        ends=time(10),
        valid_from=date(2030, 1, 5),
        valid_until=date(2030, 1, 12),
    )
    saturdays = [date(2029, 12, 29), date(2030, 1, 5), date(2030, 1, 12), date(2030, 1, 19)]
    offered = [bool(slots_on(w, day)) for day in saturdays]
    assert offered == [False, True, True, False]
    assert starts(slots_on(w, date(2030, 1, 5))) == [time(9), time(9, 20), time(9, 40)]


def test_a_slot_exception_removes_that_day_only(w):
    monday_slot = w.advisor2.opening_slots.get(weekday=0)
    services.add_slot_exception(None, monday_slot, day=MON, label="Formation")
    assert all(s.advisor_ids == (w.advisor.pk,) for s in slots_on(w, MON))
    next_monday = by_start(slots_on(w, MON + timedelta(days=7)))
    assert w.advisor2.pk in next_monday[time(9)]


def test_a_slot_exception_must_fall_on_the_slots_weekday(w):
    monday_slot = w.advisor2.opening_slots.get(weekday=0)
    with pytest.raises(ValidationError) as excinfo:
        services.add_slot_exception(None, monday_slot, day=TUE)
    assert "lundi" in field_errors(excinfo)["day"].lower()


# ------------------------------------------------------------------- holidays and closures


def test_no_slots_on_new_years_day_nor_during_the_closure(w):
    slots = services.available_slots(
        w.rdv_reason, w.site, start=date(2029, 12, 31), days=5, now=NOW
    )
    days = {s.starts_at.astimezone(PARIS).date() for s in slots}
    assert days == {date(2029, 12, 31), date(2030, 1, 4)}


def test_a_site_closure_applies_to_its_site_only(w):
    core_services.add_closure(
        None, w.caf, start_date=FRI, end_date=FRI, label="Travaux", site=w.site
    )
    assert slots_on(w, FRI) == []
    assert slots_on(w, THU)


def test_agents_cannot_book_on_a_holiday_either(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(date(2030, 1, 1), 9), channel=Channel.AGENT)
    assert "fermé" in field_errors(excinfo)["starts_at"]


# ------------------------------------------------------------------------------- absences


def test_an_absence_removes_the_starts_it_overlaps(w):
    services.add_absence(
        None, w.advisor, w.caf, starts_at=at(TUE, 10), ends_at=at(TUE, 11), label="Réunion"
    )
    tuesday = by_start(slots_on(w, TUE))
    assert w.advisor.pk in tuesday[time(9, 40)]  # ends at 10:00, when the absence starts
    for start in (time(10), time(10, 20), time(10, 40)):
        assert tuesday[start] == (w.advisor2.pk,)
    assert w.advisor.pk in tuesday[time(11)]
    assert w.advisor.pk in tuesday[time(14)]


def test_an_absence_over_several_days_empties_them(w):
    services.add_absence(
        None, w.advisor, w.caf, starts_at=at(TUE, 0), ends_at=at(THU, 12), label="Congés"
    )
    assert slots_on(w, WED) == []
    assert all(s.advisor_ids == (w.advisor2.pk,) for s in slots_on(w, TUE))
    assert starts(slots_on(w, THU)) == MORNING + AFTERNOON
    assert by_start(slots_on(w, THU))[time(9)] == (w.advisor2.pk,)


def test_an_absence_must_end_after_it_starts(w):
    with pytest.raises(ValidationError) as excinfo:
        services.add_absence(None, w.advisor, w.caf, starts_at=at(TUE, 11), ends_at=at(TUE, 10))
    assert "ends_at" in excinfo.value.message_dict


# --------------------------------------------------------------------------- booking window


def test_the_public_must_book_with_the_minimum_notice(w):
    now = at(MON, 9)  # the reason asks two hours' notice
    public = starts(slots_on(w, MON, now=now))
    assert public[0] == time(11)
    agent = starts(slots_on(w, MON, now=now, channel=Channel.AGENT))
    assert agent[0] == time(9)  # agents may book inside the notice, not in the past
    later = starts(slots_on(w, MON, now=at(MON, 9, 5), channel=Channel.AGENT))
    assert later[0] == time(9, 20)


def test_the_public_cannot_book_beyond_the_horizon(w):
    slots = services.available_slots(w.rdv_reason, w.site, now=NOW)
    latest = NOW + timedelta(days=w.rdv_reason.max_horizon_days)
    assert slots and slots[-1].starts_at <= latest
    assert slots[-1].starts_at > latest - timedelta(days=4)  # up to the end, not short of it
    assert slots[0].starts_at >= NOW + timedelta(hours=2)
    agents = services.available_slots(w.rdv_reason, w.site, now=NOW, channel=Channel.AGENT)
    assert agents[-1].starts_at > latest


def test_first_available_is_the_first_slot_of_the_window(w):
    first = services.first_available(w.rdv_reason, w.site, now=NOW)
    assert first == services.available_slots(w.rdv_reason, w.site, now=NOW)[0]
    # Thursday 27 at 10:00 + 2 h notice: 14:00 the same day
    assert first.starts_at == at(date(2029, 12, 27), 14)


def test_limit_and_days_narrow_the_answer(w):
    assert len(services.available_slots(w.rdv_reason, w.site, now=NOW, limit=3)) == 3
    week = services.available_slots(w.rdv_reason, w.site, start=MON, days=7, now=NOW)
    assert {s.starts_at.astimezone(PARIS).date() for s in week} == {MON, TUE, WED, THU, FRI}


# ------------------------------------------------------------------ audience, reasons, modes


def test_audience_decides_who_sees_the_slots(w):
    assert slots_on(w, MON, w.rdd_reason) == []  # public: partners and agents only
    assert slots_on(w, MON, w.rdd_reason, channel=Channel.PARTNER)
    assert slots_on(w, MON, w.rdd_reason, channel=Channel.AGENT)
    assert slots_on(w, MON, w.agent_reason) == []
    assert slots_on(w, MON, w.agent_reason, channel=Channel.PARTNER) == []
    assert slots_on(w, MON, w.agent_reason, channel=Channel.AGENT)


def test_an_inactive_reason_or_one_not_offered_at_the_site_has_no_slots(w):
    assert services.available_slots(w.rdv_reason, w.relay, start=MON, days=1, now=NOW) == []
    w.rdv_reason.is_active = False
    w.rdv_reason.save()
    assert slots_on(w, MON) == []


def test_a_slot_restricted_to_some_reasons_serves_only_them(w):
    advisor3 = new_advisor(w)
    services.save_opening_slot(
        None,
        advisor3,
        w.site,
        reasons=[w.rdd_reason],
        weekday=2,
        starts=time(9),
        ends=time(12),
        valid_from=date(2020, 1, 1),
    )
    assert all(advisor3.pk not in s.advisor_ids for s in slots_on(w, WED))
    rdd = by_start(slots_on(w, WED, w.rdd_reason, channel=Channel.PARTNER))
    assert set(rdd[time(9)]) == {w.advisor.pk, advisor3.pk}


def test_modes_come_from_the_reason_and_the_slot(w):
    advisor3 = new_advisor(w)
    services.save_opening_slot(
        None,
        advisor3,
        w.site,
        weekday=2,
        starts=time(14),
        ends=time(17),
        video=False,
        valid_from=date(2020, 1, 1),
    )
    video = by_start(slots_on(w, WED, mode=Mode.VIDEO))
    assert time(16, 20) not in video  # only advisor3 then, and not by video
    assert all(advisor3.pk not in ids for ids in video.values())
    on_site = by_start(slots_on(w, WED, mode=Mode.ON_SITE))
    assert on_site[time(16, 20)] == (advisor3.pk,)
    late = {s.starts_at.astimezone(PARIS).time(): s for s in slots_on(w, WED)}
    assert set(late[time(16, 20)].modes) == {Mode.ON_SITE, Mode.PHONE}
    assert set(late[time(14)].modes) == {Mode.ON_SITE, Mode.PHONE, Mode.VIDEO}
    # « Rendez-vous des droits » is not offered by phone
    assert slots_on(w, WED, w.rdd_reason, channel=Channel.AGENT, mode=Mode.PHONE) == []


# ------------------------------------------------------------ existing bookings of any length


def test_a_booking_of_another_length_removes_the_starts_it_overlaps(w):
    hour = book(w, at(WED, 9), w.rdd_reason, channel=Channel.AGENT)  # 09:00–10:00
    assert hour.advisor == w.advisor
    wednesday = starts(slots_on(w, WED))
    assert time(9) not in wednesday
    assert time(9, 20) not in wednesday
    assert time(9, 40) not in wednesday
    assert time(10) in wednesday
    book(w, at(WED, 14, 20))  # 14:20–14:40
    rdd = starts(slots_on(w, WED, w.rdd_reason, channel=Channel.AGENT))
    assert time(14) not in rdd  # 14:00–15:00 would overlap it
    assert time(15) in rdd


def test_a_booking_takes_its_advisor_only(w):
    first = book(w, at(MON, 9))
    assert by_start(slots_on(w, MON))[time(9)] == tuple(
        a for a in (w.advisor.pk, w.advisor2.pk) if a != first.advisor_id
    )


def test_cancelled_and_excused_bookings_free_the_time_but_honoured_ones_do_not(w):
    a = book(w, at(WED, 9), channel=Channel.AGENT)
    services.set_status(None, a, Status.EXCUSED)
    assert time(9) in starts(slots_on(w, WED))
    assert not Occupancy.objects.filter(appointment=a).exists()
    services.set_status(None, a, Status.PLANNED)
    assert time(9) not in starts(slots_on(w, WED))
    assert Occupancy.objects.filter(appointment=a).count() == 4


# ------------------------------------------------------------------------ booking validation


def test_a_booking_is_recorded_with_its_advisor_cells_and_normalised_contact(w):
    appointment = book(w, at(WED, 10), phone="+33 6 12 34 56 78", email=" camille@example.org ")
    appointment.refresh_from_db()
    assert appointment.advisor == w.advisor
    assert appointment.status == Status.PLANNED
    assert appointment.ends_at == at(WED, 10, 20)
    assert appointment.phone == "06 12 34 56 78"
    assert appointment.email == "camille@example.org"
    assert appointment.consent_at == NOW
    assert appointment.channel == Channel.PUBLIC
    cells = sorted(Occupancy.objects.filter(appointment=appointment).values_list("cell_start"))
    assert [c[0] for c in cells] == [at(WED, 10, m) for m in (0, 5, 10, 15)]


def test_a_landline_is_accepted(w):
    appointment = book(w, at(WED, 10), phone="02.43.00.00.00", email="")
    assert appointment.phone == "02 43 00 00 00"


@pytest.mark.parametrize(
    "phone", ["01", "06 12 34 56", "00 00 00 00 00", "06 12 34 56 78 9", "abc"]
)
def test_an_invalid_phone_is_refused(w, phone):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(WED, 10), phone=phone)
    assert "téléphone" in field_errors(excinfo)["phone"].lower()
    assert not Appointment.objects.filter(starts_at=at(WED, 10)).exists()


@pytest.mark.parametrize("email", ["camille", "camille@", "camille@exemple", "a b@exemple.fr"])
def test_an_invalid_email_is_refused(w, email):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(WED, 10), email=email)
    assert "adresse électronique invalide" in field_errors(excinfo)["email"].lower()


def test_the_public_must_leave_a_phone_or_an_email_and_consent(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(WED, 10), phone="", email="", consent=False, full_name="  ")
    errors = field_errors(excinfo)
    assert "téléphone ou une adresse" in errors["phone"]
    assert "consent" in errors
    assert "nom" in errors["full_name"]


def test_an_agent_may_book_without_contact_nor_consent(w):
    appointment = book(w, at(WED, 10), channel=Channel.AGENT, phone="", email="", consent=False)
    assert appointment.channel == Channel.AGENT
    assert appointment.consent_at is None


def test_a_partner_booking_needs_its_relay_and_a_note(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(WED, 10), w.rdd_reason, channel=Channel.PARTNER, relay=None, referral_note="")
    errors = field_errors(excinfo)
    assert "relais" in errors["relay"]
    assert "situation" in errors["referral_note"]
    with pytest.raises(ValidationError) as excinfo:  # a site, not a relay
        book(w, at(WED, 10), w.rdd_reason, channel=Channel.PARTNER, relay=w.site)
    assert "relay" in excinfo.value.message_dict
    appointment = book(w, at(WED, 10), w.rdd_reason, channel=Channel.PARTNER)
    assert appointment.relay == w.relay
    assert appointment.referral_note == "Séparation récente."


def test_a_reason_is_booked_only_through_its_audience(w):
    with pytest.raises(ValidationError):
        book(w, at(WED, 10), w.rdd_reason, channel=Channel.PUBLIC)
    with pytest.raises(ValidationError):
        book(w, at(WED, 10), w.agent_reason, channel=Channel.PARTNER)
    assert not Appointment.objects.filter(starts_at=at(WED, 10)).exists()


def test_a_past_slot_is_refused(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(date(2029, 12, 27), 9), channel=Channel.AGENT)
    assert "passé" in field_errors(excinfo)["starts_at"]


@pytest.mark.parametrize("day", [date(2030, 1, 1), date(2030, 1, 2), date(2030, 1, 3)])
def test_a_closed_day_is_refused(w, day):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(day, 9, 20))
    assert "fermé" in field_errors(excinfo)["starts_at"]


def test_a_start_within_the_minimum_notice_is_refused_to_the_public(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(date(2029, 12, 27), 11))
    assert "2 heure(s) à l'avance" in field_errors(excinfo)["starts_at"]
    assert book(w, at(date(2029, 12, 27), 11), channel=Channel.AGENT).advisor == w.advisor


def test_a_start_beyond_the_horizon_is_refused(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(date(2030, 2, 4), 9))
    assert "trop lointain" in field_errors(excinfo)["starts_at"]


def test_a_start_nobody_receives_at_is_refused(w):
    for starts_at in (at(WED, 9, 10), at(WED, 12, 0), at(date(2030, 1, 12), 9)):
        with pytest.raises(ValidationError) as excinfo:
            book(w, starts_at)
        assert "Aucun conseiller ne reçoit" in field_errors(excinfo)["starts_at"]


def test_a_mode_the_reason_does_not_offer_is_refused(w):
    with pytest.raises(ValidationError) as excinfo:
        book(w, at(WED, 10), w.rdd_reason, channel=Channel.AGENT, mode=Mode.PHONE)
    assert "mode" in excinfo.value.message_dict


def test_a_video_booking_gets_a_meeting_link(w):
    appointment = book(w, at(WED, 10), mode=Mode.VIDEO)
    assert appointment.video_link.startswith("https://")
    other = book(w, at(WED, 10, 20), mode=Mode.VIDEO)
    assert other.video_link != appointment.video_link


# ------------------------------------------------------------------------ no double booking


def test_the_same_slot_twice_with_one_advisor_raises_slot_taken_with_alternatives(w):
    book(w, at(WED, 10))
    with pytest.raises(services.SlotTaken) as excinfo:
        book(w, at(WED, 10), full_name="Dominique Autre")
    taken = excinfo.value
    assert taken.messages[0].startswith("Ce créneau vient d'être réservé")
    assert taken.alternatives
    assert all(s.starts_at != at(WED, 10) for s in taken.alternatives)
    assert all(isinstance(s, services.Slot) for s in taken.alternatives)
    assert Appointment.objects.filter(starts_at=at(WED, 10)).count() == 1


def test_an_overlapping_booking_of_another_length_raises_slot_taken(w):
    book(w, at(WED, 9), w.rdd_reason, channel=Channel.AGENT)  # 09:00–10:00
    with pytest.raises(services.SlotTaken):
        book(w, at(WED, 9, 40))
    assert Appointment.objects.filter(advisor=w.advisor, starts_at__date=WED).count() == 1


def test_a_second_booking_goes_to_the_advisor_still_free_then_the_slot_is_taken(w):
    first = book(w, at(MON, 9))
    second = book(w, at(MON, 9), full_name="Dominique Autre")
    assert {first.advisor_id, second.advisor_id} == {w.advisor.pk, w.advisor2.pk}
    with pytest.raises(services.SlotTaken):
        book(w, at(MON, 9), full_name="Troisième Personne")


def test_an_agent_may_ask_for_an_advisor_and_gets_slot_taken_when_busy(w):
    appointment = book(w, at(MON, 9), channel=Channel.AGENT, advisor=w.advisor2)
    assert appointment.advisor == w.advisor2
    with pytest.raises(services.SlotTaken):
        book(w, at(MON, 9), channel=Channel.AGENT, advisor=w.advisor2)


def test_the_database_refuses_a_second_occupancy_of_the_same_cell(w):
    appointment = book(w, at(WED, 10))
    twin = Appointment.objects.create(
        organisation=w.caf,
        site=w.site,
        reason=w.rdv_reason,
        advisor=w.advisor,
        mode=Mode.ON_SITE,
        starts_at=at(WED, 10, 15),
        ends_at=at(WED, 10, 35),
        channel=Channel.AGENT,
        full_name="Contournement",
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Occupancy.objects.create(advisor=w.advisor, cell_start=at(WED, 10, 15), appointment=twin)
    assert appointment.occupancy.count() == 4


# ---------------------------------------------------------------------------- cancel and move


def test_cancelling_frees_the_slot(w):
    appointment = book(w, at(WED, 10))
    assert time(10) not in starts(slots_on(w, WED))
    services.cancel(None, appointment, reason_text="Empêchement")
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.cancel_reason == "Empêchement"
    assert not Occupancy.objects.filter(appointment=appointment).exists()
    assert time(10) in starts(slots_on(w, WED))
    again = book(w, at(WED, 10), full_name="Dominique Autre")
    assert again.advisor == w.advisor


def test_an_agent_must_say_why_they_cancel_and_a_cancelled_booking_stays_cancelled(w):
    appointment = book(w, at(WED, 10))
    with pytest.raises(ValidationError) as excinfo:
        services.cancel(None, appointment, reason_text="  ")
    assert "reason_text" in excinfo.value.message_dict
    services.cancel(None, appointment, by_user=True)
    with pytest.raises(ValidationError):
        services.cancel(None, appointment, by_user=True)


def test_moving_keeps_one_appointment_and_bumps_its_version(w):
    appointment = book(w, at(WED, 10))
    token, reference = appointment.token, appointment.reference
    count = Appointment.objects.count()
    moved = services.move(None, appointment, starts_at=at(WED, 11), now=NOW)
    assert moved.pk == appointment.pk
    assert Appointment.objects.count() == count
    moved.refresh_from_db()
    assert moved.starts_at == at(WED, 11)
    assert moved.ends_at == at(WED, 11, 20)
    assert moved.version == 2
    assert (moved.token, moved.reference) == (token, reference)
    assert Appointment.objects.filter(reference=reference).count() == 1
    cells = sorted(
        c for (c,) in Occupancy.objects.filter(appointment=moved).values_list("cell_start")
    )
    assert cells == [at(WED, 11, m) for m in (0, 5, 10, 15)]
    wednesday = starts(slots_on(w, WED))
    assert time(10) in wednesday
    assert time(11) not in wednesday


def test_moving_a_little_later_over_its_own_time_is_allowed(w):
    appointment = book(w, at(WED, 10))
    moved = services.move(None, appointment, starts_at=at(WED, 10, 20), now=NOW)
    assert moved.starts_at == at(WED, 10, 20)
    assert Occupancy.objects.filter(appointment=appointment).count() == 4


def test_moving_onto_a_taken_slot_raises_slot_taken_and_changes_nothing(w):
    first = book(w, at(WED, 10))
    second = book(w, at(WED, 11), full_name="Dominique Autre")
    with pytest.raises(services.SlotTaken):
        services.move(None, second, starts_at=at(WED, 10), now=NOW)
    second.refresh_from_db()
    assert (second.starts_at, second.version) == (at(WED, 11), 1)
    assert Occupancy.objects.filter(appointment=second).count() == 4
    assert Occupancy.objects.filter(appointment=first).count() == 4


def test_moving_checks_the_calendar_like_booking(w):
    appointment = book(w, at(WED, 10))
    with pytest.raises(ValidationError) as excinfo:
        services.move(None, appointment, starts_at=at(date(2030, 1, 2), 10), now=NOW)
    assert "fermé" in field_errors(excinfo)["starts_at"]
    services.cancel(None, appointment, reason_text="Empêchement")
    with pytest.raises(ValidationError):
        services.move(None, appointment, starts_at=at(THU, 10), now=NOW)


# ------------------------------------------------------------------- clocks, statuses, arrival


@pytest.mark.parametrize(
    "travel, monday",
    [
        (datetime(2030, 3, 25, 10, tzinfo=PARIS), date(2030, 4, 1)),  # after summer time starts
        (datetime(2030, 10, 21, 10, tzinfo=PARIS), date(2030, 10, 28)),  # after it ends
    ],
)
def test_slots_keep_local_hours_across_clock_changes(w, time_machine, travel, monday):
    time_machine.move_to(travel, tick=False)
    week = services.available_slots(
        w.rdv_reason, w.site, start=monday - timedelta(days=3), days=4, now=travel
    )
    friday, after = monday - timedelta(days=3), monday
    assert starts(s for s in week if s.starts_at.astimezone(PARIS).date() == friday) == (
        MORNING + AFTERNOON
    )
    assert starts(s for s in week if s.starts_at.astimezone(PARIS).date() == after) == (
        MORNING + AFTERNOON
    )
    appointment = book(w, at(after, 9), now=travel)
    assert appointment.starts_at == at(after, 9)
    assert len(by_start(slots_on(w, after, now=travel))[time(9)]) == 1  # one advisor left


def test_honoured_and_no_show_are_recorded_only_from_the_start(w, time_machine):
    appointment = book(w, at(WED, 10))
    with pytest.raises(ValidationError):
        services.set_status(None, appointment, Status.HONOURED, now=at(WED, 9, 59))
    services.set_status(None, appointment, Status.NO_SHOW, now=at(WED, 10))
    appointment.refresh_from_db()
    assert appointment.status == Status.NO_SHOW
    assert Occupancy.objects.filter(appointment=appointment).count() == 4  # the time was held


def test_a_user_cannot_cancel_once_the_appointment_has_started(w, time_machine):
    appointment = book(w, at(WED, 10))
    time_machine.move_to(at(WED, 10, 5), tick=False)
    with pytest.raises(ValidationError):
        services.cancel(None, appointment, by_user=True)
    with pytest.raises(ValidationError):
        services.move(None, appointment, starts_at=at(THU, 10), now=at(WED, 10, 5), by_user=True)


def test_arrival_puts_an_on_site_appointment_of_today_in_the_queue(w, time_machine):
    appointment = book(w, at(WED, 10))
    by_phone = book(w, at(WED, 10, 20), mode=Mode.PHONE)
    with pytest.raises(ValidationError):
        services.check_in(None, appointment, now=at(TUE, 10))  # not today
    with pytest.raises(ValidationError):
        services.check_in(None, by_phone, now=at(WED, 10))  # not on site
    ticket = services.check_in(None, appointment, now=at(WED, 9, 50))
    assert ticket.pk
    appointment.refresh_from_db()
    assert appointment.checked_in_at == at(WED, 9, 50)
