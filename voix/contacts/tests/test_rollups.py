"""Daily roll-ups on a small hand-worked example (March 2026, Caf of the Mayenne: no public
holiday in March; Paris is UTC+1 until 29 March)."""

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from voix.contacts import rollups
from voix.contacts.models import (
    Call,
    CallDay,
    CallOutcome,
    Channel,
    Contact,
    ContactDay,
    Reason,
    Status,
)

PARIS = ZoneInfo("Europe/Paris")


def at(day, hour=10, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=PARIS)


def end_of(day):
    return at(day, 23, 59)


@pytest.fixture
def example(world):
    return build_example(world)


def build_example(world):
    """The example of docs/contacts-indicators.md.

    A  courriel reçu lundi 2, accusé le 3, répondu et clos le 5 (dans les délais).
    B  courriel reçu lundi 2, mis en attente de pièces (un aller-retour), accusé le 10
       (en retard, dû le 9), répondu et clos le 23 (en retard, dû le 20 après la pause).
    C  courrier reçu mardi 3, quittance de loyer (pièce saisonnière), jamais traité.
    D  courrier reçu mercredi 4, jamais traité : 15 jours ouvrés le 25, 16 le 26.
    E  courriel reçu le 5 janvier, jamais traité : stock ancien.
    F  appel téléphonique du lundi 2, résolu au premier contact (aucun délai).
    """
    caf, site = world.caf, world.site
    seasonal = Reason.objects.create(
        organisation=caf, code="quittance", label="Quittance de loyer", seasonal_mass=True
    )

    def contact(name, channel, received, **fields):
        return Contact.objects.create(
            organisation=caf,
            site=site,
            channel=channel,
            external_id=name,
            source="test",
            received_at=received,
            **fields,
        )

    contact(
        "A",
        Channel.EMAIL,
        at(2),
        acknowledged_at=at(3),
        ack_due_at=end_of(9),
        first_answer_at=at(5, 11),
        answer_due_at=end_of(16),
        closed_at=at(5, 11),
        status=Status.CLOSED,
    )
    contact(
        "B",
        Channel.EMAIL,
        at(2, 14),
        acknowledged_at=at(10),
        ack_due_at=end_of(9),
        first_answer_at=at(23, 15),
        answer_due_at=end_of(20),
        closed_at=at(23, 15),
        returns=1,
        status=Status.CLOSED,
    )
    contact("C", Channel.LETTER, at(3), reason=seasonal, ack_due_at=end_of(17))
    contact("D", Channel.LETTER, at(4), ack_due_at=end_of(18))
    contact("E", Channel.EMAIL, datetime(2026, 1, 5, 9, tzinfo=PARIS))
    contact(
        "F",
        Channel.PHONE,
        at(2, 9),
        first_answer_at=at(2, 9, 10),
        closed_at=at(2, 9, 10),
        status=Status.CLOSED,
    )
    calls = [
        (CallOutcome.AGENT, True, 30),
        (CallOutcome.IVR, False, 0),
        (CallOutcome.ABANDONED, True, 300),
        (CallOutcome.ABANDONED, False, None),  # after opening hours
    ]
    for number, (outcome, needs_agent, wait) in enumerate(calls):
        Call.objects.create(
            organisation=caf,
            site=site,
            external_id=f"appel-{number}",
            started_at=at(2, 10 + number),
            outcome=outcome,
            needs_agent=needs_agent,
            wait_seconds=wait,
        )
    rollups.rebuild(caf, date(2026, 3, 1), date(2026, 3, 31))
    return world


def day_row(world, channel, day, site=None):
    return ContactDay.objects.get(
        organisation=world.caf, site=site or world.site, channel=channel, day=date(2026, 3, day)
    )


def test_receipts_are_counted_on_their_local_day_seasonal_items_included(example):
    assert day_row(example, Channel.EMAIL, 2).received == 2
    assert day_row(example, Channel.LETTER, 3).received == 1  # C, seasonal
    assert day_row(example, Channel.LETTER, 4).received == 1


def test_acknowledgements_count_on_their_due_day_and_a_late_one_is_not_in_time(example):
    row = day_row(example, Channel.EMAIL, 9)
    assert (row.ack_due, row.ack_in_time) == (2, 1)
    letters = day_row(example, Channel.LETTER, 18)
    assert (letters.ack_due, letters.ack_in_time) == (1, 0)  # D, never acknowledged


def test_an_answer_sent_before_the_acknowledgement_deadline_stands_for_it(example):
    answer_only = Contact.objects.get(external_id="A")
    answer_only.acknowledged_at = None
    answer_only.save()
    rollups.refresh(example.caf, [date(2026, 3, 9)])
    row = day_row(example, Channel.EMAIL, 9)
    assert (row.ack_due, row.ack_in_time) == (2, 1)


def test_rebuild_rollups_command_rebuilds_a_range(example):
    ContactDay.objects.all().delete()
    out = io.StringIO()
    call_command(
        "rebuild_rollups",
        "--organisation=caf-test",
        "--depuis=2026-03-01",
        "--jusqu-au=2026-03-31",
        stdout=out,
    )
    assert "caf-test : du 01/03/2026 au 31/03/2026" in out.getvalue()
    assert day_row(example, Channel.EMAIL, 2).received == 2


def test_rebuild_rollups_command_refuses_a_bad_date(example):
    with pytest.raises(CommandError, match="--depuis"):
        call_command("rebuild_rollups", "--depuis=mars")


def test_answers_count_on_their_day_with_delay_in_working_days(example):
    early = day_row(example, Channel.EMAIL, 5)
    assert (early.answered, early.answered_in_time, early.answer_days_total) == (1, 1, 3)
    late = day_row(example, Channel.EMAIL, 23)  # B: after the pause, still past the 20th
    assert (late.answered, late.answered_in_time, late.answer_days_total) == (1, 0, 15)


def test_an_answer_without_deadline_counts_in_time(example):
    phone = day_row(example, Channel.PHONE, 2)
    assert (phone.answered, phone.answered_in_time, phone.answer_days_total) == (1, 1, 0)


def test_closures_count_processed_and_the_ones_that_went_back_to_the_requester(example):
    late = day_row(example, Channel.EMAIL, 23)
    assert (late.processed, late.returned) == (1, 1)
    early = day_row(example, Channel.EMAIL, 5)
    assert (early.processed, early.returned) == (1, 0)


def test_stock_at_end_of_day_counts_open_contacts_and_old_ones(example):
    # Monday 2: A and B received that day, E from January.
    row = day_row(example, Channel.EMAIL, 2)
    assert (row.pending, row.pending_within_15) == (3, 2)
    # Friday 20: B is 14 working days old, E is old.
    row = day_row(example, Channel.EMAIL, 20)
    assert (row.pending, row.pending_within_15) == (2, 1)
    # Monday 23: B answered that day, out of the stock.
    row = day_row(example, Channel.EMAIL, 23)
    assert (row.pending, row.pending_within_15) == (1, 0)


def test_seasonal_mass_items_stay_out_of_the_stock(example):
    row = day_row(example, Channel.LETTER, 3)
    assert (row.received, row.pending) == (1, 0)


def test_stock_is_within_15_working_days_up_to_the_fifteenth(example):
    assert (day_row(example, Channel.LETTER, 25).pending_within_15) == 1  # 15 working days
    assert day_row(example, Channel.LETTER, 26).pending == 1
    assert day_row(example, Channel.LETTER, 26).pending_within_15 == 0  # 16


def test_the_stock_is_kept_on_weekends(example):
    saturday = day_row(example, Channel.LETTER, 7)
    assert (saturday.received, saturday.pending, saturday.pending_within_15) == (0, 1, 1)


def test_call_log_roll_up_counts_agent_voice_server_and_abandoned_calls(example):
    row = CallDay.objects.get(organisation=example.caf, site=example.site, day=date(2026, 3, 2))
    assert (row.offered, row.needing_agent, row.answered_agent) == (4, 2, 1)
    assert (row.answered_ivr, row.abandoned, row.wait_seconds_total) == (1, 2, 330)


def snapshot(world):
    def order(row):
        return (row[0] or 0, *row[1:])

    return sorted(
        ContactDay.objects.filter(organisation=world.caf).values_list(
            "site_id", "channel", "day", *rollups.CONTACT_FIELDS
        ),
        key=order,
    ) + sorted(
        CallDay.objects.filter(organisation=world.caf).values_list(
            "site_id", "day", *rollups.CALL_FIELDS
        ),
        key=order,
    )


def test_rebuilding_twice_changes_nothing(example):
    before = snapshot(example)
    rows = set(ContactDay.objects.values_list("pk", flat=True))
    rollups.rebuild(example.caf, date(2026, 3, 1), date(2026, 3, 31))
    rollups.refresh(example.caf, [date(2026, 3, 2), date(2026, 3, 20)])
    assert snapshot(example) == before
    # Rows already right are left as they are: none was deleted and inserted again.
    assert set(ContactDay.objects.values_list("pk", flat=True)) == rows


def test_a_rebuild_rewrites_only_the_rows_that_changed(example):
    before = day_row(example, Channel.EMAIL, 5)  # A was closed on the 5th
    others = set(ContactDay.objects.exclude(pk=before.pk).values_list("pk", flat=True))
    Contact.objects.filter(external_id="A").update(returns=1)
    rollups.rebuild(example.caf, date(2026, 3, 1), date(2026, 3, 31))
    after = day_row(example, Channel.EMAIL, 5)
    assert (after.pk != before.pk, after.returned) == (True, before.returned + 1)
    assert set(ContactDay.objects.exclude(pk=after.pk).values_list("pk", flat=True)) == others


def test_refresh_rewrites_exactly_the_days_given(example):
    letter = Contact.objects.get(external_id="D")
    letter.closed_at = at(10, 15)
    letter.status = Status.CLOSED
    letter.save()
    rollups.refresh(example.caf, [at(10, 15)])
    assert day_row(example, Channel.LETTER, 10).processed == 1
    assert day_row(example, Channel.LETTER, 10).pending == 0
    # The 11th was not asked for: still the old figures until it is refreshed.
    assert day_row(example, Channel.LETTER, 11).pending == 1
    rollups.refresh(example.caf, [date(2026, 3, 11)])
    assert not ContactDay.objects.filter(
        organisation=example.caf, channel=Channel.LETTER, day=date(2026, 3, 11)
    ).exists()


def test_rollups_of_another_organisation_are_left_alone(example):
    Contact.objects.create(
        organisation=example.other,
        site=example.other_site,
        channel=Channel.EMAIL,
        received_at=at(2),
    )
    rollups.rebuild(example.other, date(2026, 3, 1), date(2026, 3, 31))
    rollups.rebuild(example.caf, date(2026, 3, 1), date(2026, 3, 31))
    assert ContactDay.objects.filter(organisation=example.other, day=date(2026, 3, 2)).exists()
    assert day_row(example, Channel.EMAIL, 2).received == 2


def test_refresh_of_days_far_apart_rebuilds_each_of_them(example):
    ContactDay.objects.all().delete()
    rollups.refresh(example.caf, [date(2026, 1, 5), date(2026, 3, 2)])
    january = ContactDay.objects.get(
        organisation=example.caf, channel=Channel.EMAIL, day=date(2026, 1, 5)
    )
    assert (january.received, january.pending, january.pending_within_15) == (1, 1, 1)
    row = day_row(example, Channel.EMAIL, 2)
    assert (row.received, row.pending, row.pending_within_15) == (2, 3, 2)
    assert ContactDay.objects.filter(organisation=example.caf).count() == 3  # + the phone


def random_contacts(world, count=400, seed=7):
    """Random contacts from January to mid-April 2026: late, paused (returns), seasonal,
    open, answered, closed, with and without a site."""
    import numpy as np

    rng = np.random.default_rng(seed)
    seasonal = Reason.objects.create(
        organisation=world.caf, code="quittance", label="Quittance", seasonal_mass=True
    )
    start = datetime(2026, 1, 1, tzinfo=PARIS)
    channels = [Channel.EMAIL, Channel.LETTER, Channel.PHONE, Channel.RELAY]
    for number in range(count):
        received = start + timedelta(hours=int(rng.integers(0, 24 * 100)))
        answer = received + timedelta(hours=int(rng.integers(1, 24 * 40)))
        closed = answer + timedelta(hours=int(rng.integers(0, 24 * 5)))
        fields = {
            "acknowledged_at": received + timedelta(hours=int(rng.integers(1, 24 * 12))),
            "ack_due_at": received + timedelta(days=7),
            "answer_due_at": received + timedelta(days=20),
            "first_answer_at": answer if rng.random() < 0.8 else None,
            "closed_at": closed if rng.random() < 0.6 else None,
            "returns": int(rng.integers(0, 2)),
        }
        if fields["closed_at"] and not fields["first_answer_at"]:
            fields["first_answer_at"] = fields["closed_at"]
        for name in ("acknowledged_at", "first_answer_at", "closed_at"):
            if fields[name] and fields[name] > TODAY_AT:
                fields[name] = None
        Contact.objects.create(
            organisation=world.caf,
            site=[world.site, world.relay, None][number % 3],
            channel=channels[number % 4],
            reason=seasonal if number % 7 == 0 else None,
            received_at=received,
            source="test",
            external_id=f"R{number}",
            **fields,
        )


TODAY_AT = datetime(2026, 4, 20, 12, 0, tzinfo=PARIS)
RANGE = (date(2026, 1, 1), TODAY_AT.date())


def test_both_ways_of_computing_give_the_same_rollups(world, monkeypatch):
    """A long range is counted in one read of the contacts (numpy); a few days, one
    indexed query per kind of event. Same roll-ups, in chunks or not."""
    random_contacts(world)
    monkeypatch.setattr(rollups, "ONE_PASS_CHUNK", 37)
    monkeypatch.setattr(rollups, "SINGLE_PASS_DAYS", 1)
    rollups.rebuild(world.caf, *RANGE)
    one_pass = snapshot(world)
    rollups.rebuild(world.caf, date(2026, 3, 1), date(2026, 3, 31))
    march_one_pass = snapshot(world)
    monkeypatch.setattr(rollups, "SINGLE_SCAN", False)
    rollups.rebuild(world.caf, *RANGE)
    assert snapshot(world) == one_pass
    rollups.rebuild(world.caf, date(2026, 3, 1), date(2026, 3, 31))
    assert snapshot(world) == march_one_pass
    assert sum(row[-1] for row in one_pass if len(row) == 13) > 0  # some young stock


@pytest.mark.django_db(transaction=True)
def test_several_connections_reading_a_full_rebuild_count_what_one_would(
    transactional_db, monkeypatch
):
    """On PostgreSQL a full rebuild called outside any transaction reads its chunks of
    contacts on READERS connections sharing its snapshot: same roll-ups as one reader."""
    from django.db import connection

    from conftest import build_world

    if connection.vendor != "postgresql":
        pytest.skip("several connections read along on PostgreSQL only")
    world = build_world()
    random_contacts(world)
    outcomes = [CallOutcome.AGENT, CallOutcome.IVR, CallOutcome.ABANDONED]
    for number in range(60):  # late evening calls too: their local day is the next UTC one
        Call.objects.create(
            organisation=world.caf,
            site=[world.site, world.relay, None][number % 3],
            external_id=f"A{number}",
            started_at=datetime(2026, 1, 1, 23, 30, tzinfo=PARIS) + timedelta(hours=37 * number),
            outcome=outcomes[number % 4 % 3],
            needs_agent=number % 5 != 0,
            wait_seconds=None if number % 7 == 0 else 17 * number,
        )
    monkeypatch.setattr(rollups, "ONE_PASS_CHUNK", 53)
    opened = []
    real = rollups._Readers.__init__

    def spy(self, shared):
        real(self, shared)
        opened.append(self.snapshot)

    monkeypatch.setattr(rollups._Readers, "__init__", spy)
    rollups.rebuild(world.caf, *RANGE)
    assert opened and opened[-1] is not None  # the snapshot was shared
    several = snapshot(world)
    monkeypatch.setattr(rollups, "READERS", 1)
    rollups.rebuild(world.caf, *RANGE)
    assert opened[-1] is None
    assert snapshot(world) == several
    calls = [row for row in several if len(row) == 8]
    assert sum(row[2] for row in calls) == 60 and sum(row[-1] for row in calls) > 0


def test_a_short_refresh_gives_the_rows_of_a_long_rebuild(world):
    """Per-day queries over a few days and the long range agree, day by day."""
    random_contacts(world)
    rollups.rebuild(world.caf, *RANGE)
    whole = snapshot(world)
    for day in (date(2026, 1, 3), date(2026, 2, 14), date(2026, 3, 30), date(2026, 4, 20)):
        rollups.refresh(world.caf, [day])
    rollups.refresh(world.caf, [date(2026, 3, 2) + timedelta(days=i) for i in range(10)])
    assert snapshot(world) == whole


@pytest.mark.parametrize(
    "write",
    [
        "answer_in_the_past",
        "close_in_the_past",
        "move_answer_back",
        "move_answer_later",
        "move_receipt_back",
        "pause_and_resume",
        "log_a_late_letter",
        "make_seasonal",
    ],
)
def test_refresh_after_a_single_write_gives_the_rows_of_a_full_rebuild(
    world, write, django_capture_on_commit_callbacks
):
    """The days the services refresh after one write are enough: the roll-ups are exactly
    those of a full rebuild — including the stock of every day after an answer or closure
    date set or moved into the past."""
    import time_machine

    from voix.contacts import services

    random_contacts(world, count=200)
    agent = world.people["agent"]
    with time_machine.travel(TODAY_AT, tick=False):
        rollups.rebuild(world.caf, *RANGE)
        open_ones = Contact.objects.filter(
            organisation=world.caf, first_answer_at=None, closed_at=None, reason=None
        ).order_by("received_at")
        answered = Contact.objects.filter(
            organisation=world.caf, first_answer_at__isnull=False, closed_at=None
        ).order_by("first_answer_at")
        with django_capture_on_commit_callbacks(execute=True):
            if write == "answer_in_the_past":
                contact = open_ones.first()  # received in January
                services.answer_contact(agent, contact, at=contact.received_at + timedelta(days=9))
            elif write == "close_in_the_past":
                contact = open_ones.last()
                services.close_contact(
                    agent,
                    contact,
                    outcome="sans_suite",
                    at=contact.received_at + timedelta(hours=5),
                )
            elif write in ("move_answer_back", "move_answer_later"):
                contact = answered.filter(first_answer_at__gte=datetime(2026, 3, 1, tzinfo=PARIS))
                contact = contact.first()
                shift = timedelta(days=-12 if write == "move_answer_back" else 15)
                moved = max(contact.first_answer_at + shift, contact.received_at)
                services.upsert_contact(
                    agent,
                    world.caf,
                    source="test",
                    external_id=contact.external_id,
                    first_answer_at=min(moved, TODAY_AT),
                )
            elif write == "move_receipt_back":
                contact = open_ones.last()
                services.upsert_contact(
                    agent,
                    world.caf,
                    source="test",
                    external_id=contact.external_id,
                    received_at=contact.received_at - timedelta(days=20),
                )
            elif write == "pause_and_resume":
                contact = open_ones.last()
                services.pause_clock(agent, contact, now=TODAY_AT - timedelta(days=3))
                services.resume_clock(agent, contact, now=TODAY_AT)
            elif write == "log_a_late_letter":
                services.log_contact(
                    agent,
                    world.caf,
                    channel=Channel.LETTER,
                    site=world.site,
                    received_at=datetime(2026, 2, 2, 9, tzinfo=PARIS),
                )
            elif write == "make_seasonal":
                contact = open_ones.first()
                services.upsert_contact(
                    agent,
                    world.caf,
                    source="test",
                    external_id=contact.external_id,
                    reason="quittance",
                )
        refreshed = snapshot(world)
        rollups.rebuild(world.caf, *RANGE)
    assert refreshed == snapshot(world)


def test_refresh_since_a_day_rebuilds_the_stock_up_to_today(example):
    letter = Contact.objects.get(external_id="D")
    letter.first_answer_at = letter.closed_at = at(10, 15)
    letter.save()
    rollups.refresh(example.caf, [], since=date(2026, 3, 10), today=date(2026, 3, 31))
    assert day_row(example, Channel.LETTER, 10).answered == 1
    later = ContactDay.objects.filter(
        organisation=example.caf, channel=Channel.LETTER, day__gt=date(2026, 3, 10)
    )
    assert not later.filter(pending__gt=0).exists()  # nothing left in the letters' stock
    assert day_row(example, Channel.LETTER, 9).pending == 1  # before: unchanged


def test_a_contact_logged_through_the_services_is_rolled_up_after_commit(
    world, django_capture_on_commit_callbacks
):
    from voix.contacts import services

    with django_capture_on_commit_callbacks(execute=True):
        contact = services.log_contact(
            world.people["agent"],
            world.caf,
            channel=Channel.LETTER,
            site=world.site,
            received_at=at(2, 9),
        )
    row = day_row(world, Channel.LETTER, 2)
    assert (row.received, row.pending, row.pending_within_15) == (1, 1, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_contact(world.people["agent"], contact, at=at(4, 10))
    assert day_row(world, Channel.LETTER, 4).answered == 1
    assert day_row(world, Channel.LETTER, 4).pending == 0
