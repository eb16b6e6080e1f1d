"""Deadline clocks: policies, deadlines on working days, pause and resume, the sweep."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection

from tests.concurrency import run_together
from voix.contacts import clocks, services
from voix.contacts.models import Channel, ClockNotice, ClockPolicy, Contact, DelayUnit, Status
from voix.contacts.tasks import send_clock_notices
from voix.core import services as core_services
from voix.core.models import Role

PARIS = ZoneInfo("Europe/Paris")


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


# Thursday 30 April 2026, 17:00: after the 16:30 closing time. Friday 1 May is a holiday,
# so the request counts from Monday 4 May.
RECEIVED = paris(2026, 4, 30, 17, 0)
LATER = paris(2026, 6, 15, 9, 0)


def log(world, channel=Channel.EMAIL, received_at=RECEIVED, **fields):
    with time_machine.travel(fields.pop("now", received_at + timedelta(minutes=5)), tick=False):
        fields = {"site": world.site, "assignee": world.people["agent"], **fields}
        return services.log_contact(
            world.people["agent"], world.caf, channel=channel, received_at=received_at, **fields
        )


# ----- policies -----------------------------------------------------------------------------


def test_default_policies_acknowledge_in_5_working_days_electronic_and_10_by_letter(world):
    created = clocks.ensure_default_policies(world.caf)
    policies = {
        p.channel: p
        for p in ClockPolicy.objects.filter(organisation=world.caf, reason__isnull=True)
    }
    assert len(created) == len(Channel.values) == len(policies)
    assert policies[Channel.EMAIL].ack_delay == 5
    assert policies[Channel.MESSAGING].ack_delay == 5
    assert policies[Channel.LETTER].ack_delay == 10
    assert policies[Channel.PHONE].ack_delay is None
    assert all(p.answer_delay == clocks.DEFAULT_ANSWER_DAYS for p in policies.values())
    assert all(p.ack_unit == DelayUnit.WORKING_DAYS for p in policies.values())


def test_ensure_default_policies_keeps_edited_policies(world):
    clocks.ensure_default_policies(world.caf)
    ClockPolicy.objects.filter(organisation=world.caf, channel=Channel.EMAIL).update(ack_delay=2)
    assert clocks.ensure_default_policies(world.caf) == []
    assert clocks.policy_for(world.caf, Channel.EMAIL).ack_delay == 2


def test_policy_for_prefers_reason_then_theme_then_channel_then_default(world):
    world.policy.delete()
    assert clocks.policy_for(world.caf, Channel.EMAIL, world.reason).pk is None  # default
    channel = services.save_policy(None, world.caf, channel=Channel.EMAIL, answer_delay=20)
    assert clocks.policy_for(world.caf, Channel.EMAIL, world.reason) == channel
    theme = services.save_policy(
        None, world.caf, channel=Channel.EMAIL, reason=world.theme, answer_delay=12
    )
    assert clocks.policy_for(world.caf, Channel.EMAIL, world.reason) == theme
    exact = services.save_policy(
        None, world.caf, channel=Channel.EMAIL, reason=world.reason, answer_delay=8
    )
    assert clocks.policy_for(world.caf, Channel.EMAIL, world.reason) == exact
    assert clocks.policy_for(world.caf, Channel.EMAIL, None) == channel
    assert clocks.policy_for(world.caf, Channel.LETTER, world.reason).pk is None
    book = clocks.PolicyBook(world.caf)
    assert book.resolve(Channel.EMAIL, world.reason.pk) == exact
    assert book.resolve(Channel.EMAIL, None) == channel


def test_a_second_policy_for_the_same_channel_and_reason_is_refused(world):
    services.save_policy(None, world.caf, channel=Channel.EMAIL, answer_delay=20)
    with pytest.raises(Exception, match="existe déjà"):
        services.save_policy(None, world.caf, channel=Channel.EMAIL, answer_delay=10)


# ----- deadlines ----------------------------------------------------------------------------


def test_email_after_closing_time_before_a_holiday_counts_from_the_next_working_day(world):
    contact = log(world)
    # Effective start Monday 4 May. Acknowledgement: 5, 6, 7, (8 May holiday), 11, 12 May.
    assert contact.ack_due_at == paris(2026, 5, 12, 23, 59, 59)
    # Answer, 15 working days: … 13, (14 Ascension), 15, 18–22, (25 Whit Monday), 26–28 May.
    assert contact.answer_due_at == paris(2026, 5, 28, 23, 59, 59)
    assert contact.due_at == contact.ack_due_at
    assert contact.warn_at == contact.due_at - timedelta(hours=24)


def test_letter_is_acknowledged_within_10_working_days(world):
    contact = log(world, Channel.LETTER)
    assert contact.ack_due_at == paris(2026, 5, 20, 23, 59, 59)


def test_request_received_before_closing_time_counts_from_that_day(world):
    contact = log(world, received_at=paris(2026, 4, 30, 16, 0))
    # Start Thursday 30 April: 4, 5, 6, 7, 11 May.
    assert contact.ack_due_at == paris(2026, 5, 11, 23, 59, 59)


def test_phone_contact_has_no_acknowledgement_clock(world):
    contact = log(world, Channel.PHONE)
    assert contact.ack_due_at is None
    assert contact.due_at == contact.answer_due_at == paris(2026, 5, 28, 23, 59, 59)


def test_delays_in_hours_count_wall_clock_hours(world):
    services.save_policy(
        None,
        world.caf,
        channel=Channel.MESSAGING,
        ack_delay=4,
        ack_unit=DelayUnit.HOURS,
        answer_delay=48,
        answer_unit=DelayUnit.HOURS,
        warn_before_hours=2,
    )
    contact = log(world, Channel.MESSAGING)
    assert contact.ack_due_at == RECEIVED + timedelta(hours=4)
    assert contact.answer_due_at == RECEIVED + timedelta(hours=48)
    assert contact.warn_at == RECEIVED + timedelta(hours=2)


def test_organisation_closure_days_do_not_count(world):
    # The Caf closes on 2 and 3 January 2030 (world). Received Monday 31 Dec 2029 at 10:00.
    contact = Contact(
        organisation=world.caf,
        site=world.site,
        channel=Channel.EMAIL,
        received_at=paris(2029, 12, 31, 10, 0),
    )
    clocks.compute_deadlines(contact)
    # 1 Jan holiday, 2–3 Jan closed: 4, 7, 8, 9, 10 January.
    assert contact.ack_due_at == paris(2030, 1, 10, 23, 59, 59)


def test_acknowledging_moves_the_next_deadline_to_the_answer_and_answering_ends_it(world):
    contact = log(world)
    with time_machine.travel(paris(2026, 5, 5, 10, 0), tick=False):
        contact = services.acknowledge_contact(world.people["agent"], contact)
    assert contact.status == Status.ACKNOWLEDGED
    assert contact.due_at == contact.answer_due_at
    with time_machine.travel(paris(2026, 5, 6, 10, 0), tick=False):
        contact = services.answer_contact(world.people["agent"], contact)
    assert contact.status == Status.ANSWERED
    assert contact.due_at is None and contact.warn_at is None
    assert contact.ack_due_at == paris(2026, 5, 12, 23, 59, 59)


def test_pause_stops_the_clock_and_resume_adds_the_paused_working_days(world):
    contact = log(world)
    with time_machine.travel(paris(2026, 5, 6, 10, 0), tick=False):
        contact = services.pause_clock(world.people["agent"], contact)
    assert contact.status == Status.WAITING
    assert contact.due_at is None
    assert contact.returns == 1
    # Paused Wednesday 6 May, resumed Monday 11 May: 7 and 11 May are the paused working
    # days (8 May is a holiday, 9–10 the weekend).
    with time_machine.travel(paris(2026, 5, 11, 10, 0), tick=False):
        contact = services.resume_clock(world.people["agent"], contact)
    assert contact.status == Status.IN_PROGRESS
    assert contact.paused_days == 2
    assert contact.paused_at is None
    # 12 May + 2 working days: 13, (14 Ascension), 15 May.
    assert contact.ack_due_at == paris(2026, 5, 15, 23, 59, 59)
    # 28 May + 2 working days: 29 May, 1 June.
    assert contact.answer_due_at == paris(2026, 6, 1, 23, 59, 59)
    assert contact.due_at == contact.ack_due_at


def test_a_deadline_already_met_is_not_pushed_back_by_a_later_pause(world):
    contact = log(world)
    with time_machine.travel(paris(2026, 5, 5, 10, 0), tick=False):
        contact = services.acknowledge_contact(world.people["agent"], contact)
    with time_machine.travel(paris(2026, 5, 6, 10, 0), tick=False):
        contact = services.pause_clock(world.people["agent"], contact)
    with time_machine.travel(paris(2026, 5, 11, 10, 0), tick=False):
        contact = services.resume_clock(world.people["agent"], contact)
    assert contact.ack_due_at == paris(2026, 5, 12, 23, 59, 59)
    assert contact.due_at == contact.answer_due_at == paris(2026, 6, 1, 23, 59, 59)


def test_a_second_pause_counts_a_second_return(world):
    contact = log(world)
    for day in (5, 11):
        with time_machine.travel(paris(2026, 5, day, 10, 0), tick=False):
            contact = services.pause_clock(world.people["agent"], contact)
        with time_machine.travel(paris(2026, 5, day, 15, 0), tick=False):
            contact = services.resume_clock(world.people["agent"], contact)
    assert contact.returns == 2
    assert contact.paused_days == 0  # same-day pauses cost no working day


def test_bulk_deadlines_match_the_contact_by_contact_computation(world):
    world.policy.delete()
    services.save_policy(
        None, world.caf, channel=Channel.MESSAGING, ack_delay=6, ack_unit=DelayUnit.HOURS
    )
    services.save_policy(
        None, world.caf, channel=Channel.EMAIL, reason=world.reason, answer_delay=3
    )
    received = [RECEIVED + timedelta(hours=7 * i) for i in range(40)]
    contacts = []
    for i, at in enumerate(received):
        channel = [Channel.EMAIL, Channel.LETTER, Channel.MESSAGING, Channel.PHONE][i % 4]
        contacts.append(
            log(
                world,
                channel,
                received_at=at,
                reason=world.reason if i % 3 == 0 else None,
                site=None if i % 5 == 0 else world.site,
                now=LATER,
            )
        )
    expected = {c.pk: (c.ack_due_at, c.answer_due_at, c.due_at, c.warn_at) for c in contacts}
    Contact.objects.filter(pk__in=expected).update(
        ack_due_at=None, answer_due_at=None, due_at=None, warn_at=None
    )
    assert clocks.apply_deadlines_bulk(world.caf, list(expected)) == len(expected)
    got = {
        c.pk: (c.ack_due_at, c.answer_due_at, c.due_at, c.warn_at)
        for c in Contact.objects.filter(pk__in=expected)
    }
    assert got == expected


# ----- sweep --------------------------------------------------------------------------------


def test_sweep_warns_the_assignee_once_before_the_deadline(
    world, django_capture_on_commit_callbacks
):
    contact = log(world)
    with django_capture_on_commit_callbacks(execute=True):
        report = clocks.sweep(now=paris(2026, 5, 12, 8, 0))
    assert report.warned == 1 and report.breached == 0
    notice = ClockNotice.objects.get(contact=contact)
    assert notice.kind == ClockNotice.Kind.WARNING
    assert notice.step == ClockNotice.Step.ACK
    assert notice.recipient == world.people["agent"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [world.people["agent"].email]
    assert "échéance" in mail.outbox[0].subject
    with django_capture_on_commit_callbacks(execute=True):
        again = clocks.sweep(now=paris(2026, 5, 12, 9, 0))
    assert again.warned == again.breached == 0
    assert len(mail.outbox) == 1


def test_sweep_flags_a_breach_once_and_again_for_the_next_missed_deadline(world):
    contact = log(world)
    report = clocks.sweep(now=paris(2026, 5, 13, 8, 0))
    assert report.breached == 1
    contact.refresh_from_db()
    assert contact.breached_at == paris(2026, 5, 13, 8, 0)
    assert clocks.sweep(now=paris(2026, 5, 14, 8, 0)).breached == 0
    with time_machine.travel(paris(2026, 5, 14, 9, 0), tick=False):
        services.acknowledge_contact(world.people["agent"], contact)
    report = clocks.sweep(now=paris(2026, 5, 29, 8, 0))
    assert report.breached == 1
    steps = set(ClockNotice.objects.filter(kind="depassement").values_list("step", flat=True))
    assert steps == {ClockNotice.Step.ACK, ClockNotice.Step.ANSWER}


def test_sweep_ignores_paused_answered_and_closed_contacts(world):
    paused, answered = log(world), log(world)
    with time_machine.travel(paris(2026, 5, 5, 10, 0), tick=False):
        services.pause_clock(world.people["agent"], paused)
        services.answer_contact(world.people["agent"], answered)
    report = clocks.sweep(now=paris(2026, 7, 1, 8, 0))
    assert ClockNotice.objects.filter(contact__in=[paused, answered]).count() == 0
    assert report.breached == 0


def test_sweep_in_small_batches_gives_the_same_result(world):
    contacts = [log(world, received_at=RECEIVED + timedelta(minutes=i)) for i in range(7)]
    report = clocks.sweep(now=paris(2026, 5, 13, 8, 0), batch=2)
    assert report.breached == 7
    assert (
        Contact.objects.filter(pk__in=[c.pk for c in contacts], breached_at__isnull=False).count()
        == 7
    )


def test_unassigned_contacts_get_a_notice_but_no_email(world, django_capture_on_commit_callbacks):
    log(world, assignee=None)
    with django_capture_on_commit_callbacks(execute=True):
        report = clocks.sweep(now=paris(2026, 5, 13, 8, 0))
    assert report.breached == 1
    assert mail.outbox == []


def test_notices_go_with_their_contact_and_outlive_their_recipient(world):
    # ClockNotice has no database-level keys: Django's cascade does this work.
    leaving = core_services.create_person(None, email="depart@test.localhost", full_name="Départ")
    core_services.add_membership(None, leaving, world.caf, Role.AGENT, site=world.site)
    gone, kept = log(world), log(world, assignee=leaving)
    clocks.sweep(now=paris(2026, 5, 13, 8, 0))
    assert ClockNotice.objects.filter(contact__in=[gone, kept]).count() == 2
    gone.delete()
    assert not ClockNotice.objects.filter(contact_id=gone.pk).exists()
    leaving.delete()
    notice = ClockNotice.objects.get(contact=kept)
    assert notice.recipient is None
    assert send_clock_notices.call([notice.pk]) == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers: concurrent sweepers need PostgreSQL.",
)
def test_concurrent_sweepers_send_each_notice_once(transactional_db):
    from conftest import build_world

    world = build_world()
    for i in range(30):
        log(world, received_at=RECEIVED + timedelta(minutes=i))
    now = paris(2026, 5, 13, 8, 0)
    reports, errors = run_together(*[lambda: clocks.sweep(now=now, batch=7)] * 4)
    assert errors == []
    assert sum(r.breached for r in reports) == 30
    assert ClockNotice.objects.count() == 30
    sent = sorted(n for r in reports for n in r.notices)
    assert sent == sorted(ClockNotice.objects.values_list("pk", flat=True))


def test_run_clock_command_sweeps_and_says_what_it_did(world):
    from io import StringIO

    from django.core.management import call_command

    log(world)
    out = StringIO()
    with time_machine.travel(paris(2026, 5, 13, 8, 0), tick=False):
        call_command("run_clock", stdout=out)
    assert "1 dépassement(s)" in out.getvalue()
    assert ClockNotice.objects.filter(kind=ClockNotice.Kind.BREACH).count() == 1


def test_sweep_task_runs_the_sweep(world):
    from voix.contacts.tasks import sweep_clocks

    log(world)
    with time_machine.travel(paris(2026, 5, 13, 8, 0), tick=False):
        result = sweep_clocks.enqueue()
    assert "1 dépassement(s)" in result.return_value
