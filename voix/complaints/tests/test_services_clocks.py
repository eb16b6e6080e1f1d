"""A complaint's deadlines are the contact log's clocks: policies, pauses, warnings, breaches."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from voix.complaints import services
from voix.complaints.models import AnswerVia, Intake
from voix.complaints.tests.world import public_complaint
from voix.contacts import services as contact_services
from voix.contacts.models import Channel, ClockNotice, ClockPolicy, Contact

PARIS = ZoneInfo("Europe/Paris")
MONDAY = datetime(2030, 3, 4, 10, 0, tzinfo=PARIS)


def end_of(day) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=PARIS)


def test_a_complaint_is_answered_within_21_working_days_by_default(world):
    c = public_complaint(world, now=MONDAY)
    # 4 March 2030 + 21 working days (no holiday in between) = Tuesday 2 April.
    assert c.contact.answer_due_at == end_of(datetime(2030, 4, 2))


def test_a_letter_is_acknowledged_within_two_weeks_an_electronic_request_within_one(world):
    agent = world.people["agent"]
    letter = public_complaint(
        world, actor=agent, intake=Intake.LETTER, email="", postal_address="Laval", now=MONDAY
    )
    assert letter.contact.ack_due_at == end_of(datetime(2030, 3, 18))
    phone = public_complaint(
        world, actor=agent, intake=Intake.PHONE, email="", postal_address="Laval", now=MONDAY
    )
    assert phone.contact.ack_due_at == end_of(datetime(2030, 3, 11))


def test_a_mediation_has_its_own_longer_deadline(world):
    mediation = world.mediation
    assert mediation.contact.reason.code == "mediation"
    assert mediation.contact.assignee is None
    due = mediation.contact.answer_due_at
    assert due - mediation.requested_at > timedelta(days=50)


def test_the_deadline_policies_are_editable_in_the_contacts_settings(world):
    policy = services.policy_of(world.caf, services.REASON_COMPLAINT, Channel.MESSAGING)
    contact_services.save_policy(None, world.caf, policy, answer_delay=10)
    c = public_complaint(world, now=MONDAY)
    assert c.contact.answer_due_at == end_of(datetime(2030, 3, 18))


def test_existing_policies_are_never_overwritten(world):
    count = ClockPolicy.objects.filter(organisation=world.caf).count()
    services.ensure_reason(world.caf, services.REASON_COMPLAINT)
    assert ClockPolicy.objects.filter(organisation=world.caf).count() == count


def test_a_compliment_has_no_answer_clock(world):
    c = public_complaint(world, kind="compliment", email="", postal_address="Laval", now=MONDAY)
    assert c.contact.answer_due_at is None and c.contact.ack_due_at is not None


def test_waiting_for_documents_pushes_the_deadline_back(world):
    qualite = world.people["qualite"]
    c = public_complaint(world, now=MONDAY)
    before = c.contact.answer_due_at
    c = services.pause_complaint(qualite, c, note="Attestation de loyer", now=MONDAY)
    assert c.status == "en_attente" and c.contact.due_at is None
    assert c.notes.get().text.endswith("Attestation de loyer")
    c = services.resume_complaint(qualite, c, now=MONDAY + timedelta(days=7))
    assert c.status == "en_cours"
    assert c.contact.answer_due_at == before + timedelta(days=7)  # 5 working days later
    with pytest.raises(ValidationError, match="pas en attente"):
        services.resume_complaint(qualite, c)


def test_an_answer_during_a_pause_ends_it(world):
    qualite = world.people["qualite"]
    c = public_complaint(world, now=MONDAY)
    services.pause_complaint(qualite, c, now=MONDAY)
    c = services.send_answer(
        qualite, c, text="Réponse.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=2)
    )
    assert c.contact.paused_at is None and c.contact.status == "repondu"


def test_the_sweep_warns_and_flags_complaints_past_their_deadline(world):
    agent = world.people["agent"]
    with time_machine.travel(MONDAY, tick=False):
        c = public_complaint(world, email="", postal_address="3 rue des Tests, Laval")
        services.assign_complaint(world.people["manager"], c, agent)
    contact = Contact.objects.get(pk=c.contact_id)
    assert contact.ack_due_at == end_of(datetime(2030, 3, 11))
    mail.outbox.clear()
    with time_machine.travel(datetime(2030, 3, 12, 8, 0, tzinfo=PARIS), tick=False):
        call_command("run_clock")
    notice = ClockNotice.objects.get(contact=contact)
    assert notice.kind == ClockNotice.Kind.BREACH and notice.step == ClockNotice.Step.ACK
    assert notice.recipient == agent
    assert Contact.objects.get(pk=contact.pk).breached_at is not None
    # A second sweep says nothing more.
    with time_machine.travel(datetime(2030, 3, 12, 9, 0, tzinfo=PARIS), tick=False):
        call_command("run_clock")
    assert ClockNotice.objects.filter(contact=contact).count() == 1


def test_answered_in_time_reads_the_clock(world):
    qualite = world.people["qualite"]
    on_time = public_complaint(world, now=MONDAY)
    services.send_answer(
        qualite, on_time, text="R.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=10)
    )
    late = public_complaint(world, now=MONDAY)
    services.send_answer(
        qualite, late, text="R.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=40)
    )
    on_time.refresh_from_db()
    late.refresh_from_db()
    assert services.deadline_summary(on_time)["answered_in_time"] is True
    assert services.deadline_summary(late)["answered_in_time"] is False


def test_time_is_taken_in_utc_or_local_alike(world):
    c = public_complaint(world, now=MONDAY.astimezone(UTC))
    assert c.received_at == MONDAY
