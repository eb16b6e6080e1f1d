"""Writes of the contact log: bad input refused whole, idempotent upsert, assignment,
roll-ups refreshed on commit, audit."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection

from tests.concurrency import run_together
from voix.contacts import rollups, services
from voix.contacts.models import Channel, Contact, Outcome, Status
from voix.core.models import AuditEvent

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=PARIS)


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def counts():
    return Contact.objects.count(), AuditEvent.objects.filter(object_type="contact").count()


def log(world, **fields):
    fields = {
        "channel": Channel.EMAIL,
        "site": world.site,
        "received_at": NOW - timedelta(days=3),
        **fields,
    }
    return services.log_contact(world.people["agent"], world.caf, **fields)


def test_an_answer_before_receipt_is_refused_naming_the_field(world, at_now):
    before = counts()
    with pytest.raises(ValidationError) as error:
        log(world, first_answer_at=NOW - timedelta(days=4))
    message = error.value.message_dict["first_answer_at"][0]
    assert "date de première réponse" in message and "précède la date de réception" in message
    assert counts() == before


def test_a_date_in_the_future_is_refused_naming_the_field(world, at_now):
    before = counts()
    with pytest.raises(ValidationError) as error:
        log(world, received_at=NOW + timedelta(hours=1))
    assert "date de réception" in error.value.message_dict["received_at"][0]
    assert "futur" in error.value.message_dict["received_at"][0]
    with pytest.raises(ValidationError) as error:
        log(world, acknowledged_at=NOW + timedelta(days=1))
    assert "futur" in error.value.message_dict["acknowledged_at"][0]
    assert counts() == before


def test_closing_before_the_first_answer_is_refused(world, at_now):
    with pytest.raises(ValidationError) as error:
        log(
            world,
            first_answer_at=NOW - timedelta(days=1),
            closed_at=NOW - timedelta(days=2),
            outcome=Outcome.ANSWERED,
        )
    assert "date de clôture" in error.value.message_dict["closed_at"][0]


def test_unknown_channel_and_reason_are_refused(world, at_now):
    before = counts()
    with pytest.raises(ValidationError) as error:
        log(world, channel="pigeon")
    assert "Canal inconnu : « pigeon »" in error.value.message_dict["channel"][0]
    with pytest.raises(ValidationError) as error:
        log(world, reason="inexistant")
    assert "Motif inconnu : « inexistant »" in error.value.message_dict["reason"][0]
    assert counts() == before


def test_a_reason_of_another_organisation_is_refused(world, at_now):
    other = services.save_reason(None, world.other, code="autre", label="Autre")
    with pytest.raises(ValidationError):
        log(world, reason=other)


def test_an_outsider_cannot_be_given_a_contact(world, at_now):
    with pytest.raises(ValidationError) as error:
        log(world, assignee=world.people["outsider"])
    assert "assignee" in error.value.message_dict


def test_reason_by_code_and_status_from_the_timestamps(world, at_now):
    contact = log(
        world,
        reason="rsa",
        first_answer_at=NOW - timedelta(days=1),
        closed_at=NOW - timedelta(days=1),
        outcome=Outcome.ANSWERED,
    )
    assert contact.reason == world.reason
    assert contact.status == Status.CLOSED
    assert contact.due_at is None
    event = AuditEvent.objects.filter(object_type="contact", object_id=str(contact.pk)).get()
    assert event.action == "contact.créé"


def test_upsert_is_idempotent_on_source_and_external_id(world, at_now):
    first, created = services.upsert_contact(
        None,
        world.caf,
        source="crm",
        external_id="A-1",
        channel=Channel.EMAIL,
        received_at=NOW - timedelta(days=2),
    )
    again, created_again = services.upsert_contact(
        None,
        world.caf,
        source="crm",
        external_id="A-1",
        channel=Channel.EMAIL,
        received_at=NOW - timedelta(days=2),
    )
    assert created and not created_again
    assert again.pk == first.pk
    assert Contact.objects.filter(external_id="A-1").count() == 1
    # Unchanged: no second audit line.
    assert AuditEvent.objects.filter(object_type="contact", object_id=str(first.pk)).count() == 1
    updated, _ = services.upsert_contact(
        None,
        world.caf,
        source="crm",
        external_id="A-1",
        channel=Channel.EMAIL,
        received_at=NOW - timedelta(days=2),
        acknowledged_at=NOW - timedelta(days=1),
    )
    assert updated.status == Status.ACKNOWLEDGED
    assert updated.due_at == updated.answer_due_at
    # The same external id from another source is another contact.
    _, created_other = services.upsert_contact(
        None,
        world.caf,
        source="tel",
        external_id="A-1",
        channel=Channel.PHONE,
        received_at=NOW - timedelta(days=2),
    )
    assert created_other


def test_upsert_refuses_bad_input_and_leaves_the_contact_as_it_was(world, at_now):
    contact, _ = services.upsert_contact(
        None,
        world.caf,
        source="crm",
        external_id="B-1",
        channel=Channel.EMAIL,
        received_at=NOW - timedelta(days=2),
    )
    with pytest.raises(ValidationError):
        services.upsert_contact(
            None,
            world.caf,
            source="crm",
            external_id="B-1",
            channel=Channel.EMAIL,
            received_at=NOW - timedelta(days=2),
            first_answer_at=NOW - timedelta(days=3),
        )
    contact.refresh_from_db()
    assert contact.first_answer_at is None


def test_upsert_needs_an_external_id(world, at_now):
    with pytest.raises(ValidationError):
        services.upsert_contact(None, world.caf, source="crm", external_id="", channel="courriel")


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers: concurrent upserts need PostgreSQL.",
)
def test_two_identical_upserts_at_once_make_one_contact(transactional_db):
    from conftest import build_world

    world = build_world()
    received = datetime.now(PARIS) - timedelta(days=1)

    def upsert():
        return services.upsert_contact(
            None,
            world.caf,
            source="api",
            external_id="SAME",
            channel=Channel.EMAIL,
            received_at=received,
        )

    results, errors = run_together(*[upsert] * 4)
    assert errors == []
    assert Contact.objects.filter(external_id="SAME").count() == 1
    assert sum(created for _, created in results) == 1
    assert len({contact.pk for contact, _ in results}) == 1


def test_rollups_are_refreshed_on_commit_for_the_days_touched(
    world, at_now, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(rollups, "refresh", lambda organisation, days: calls.append(days))
    with django_capture_on_commit_callbacks(execute=True):
        contact = log(world, received_at=datetime(2026, 6, 5, 10, 0, tzinfo=PARIS))
    assert date(2026, 6, 5) in calls[-1]
    with django_capture_on_commit_callbacks(execute=True):
        services.answer_contact(world.people["agent"], contact)
    assert {date(2026, 6, 5), date(2026, 6, 10)} <= set(calls[-1])


def test_no_rollup_refresh_when_the_write_is_refused(
    world, at_now, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(rollups, "refresh", lambda organisation, days: calls.append(days))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        log(world, received_at=NOW + timedelta(days=1))
    assert calls == []


def test_pausing_twice_or_resuming_a_running_clock_is_refused(world, at_now):
    contact = log(world)
    with pytest.raises(ValidationError, match="pas en attente"):
        services.resume_clock(world.people["agent"], contact)
    services.pause_clock(world.people["agent"], contact)
    with pytest.raises(ValidationError, match="déjà en attente"):
        services.pause_clock(world.people["agent"], contact)


def test_closing_needs_an_outcome_and_records_the_answer(world, at_now):
    contact = log(world)
    with pytest.raises(ValidationError):
        services.close_contact(world.people["agent"], contact, outcome="")
    contact = services.close_contact(world.people["agent"], contact, outcome=Outcome.ORIENTED)
    assert contact.status == Status.CLOSED
    assert contact.first_answer_at == contact.closed_at == NOW
    with pytest.raises(ValidationError, match="déjà clos"):
        services.close_contact(world.people["agent"], contact, outcome=Outcome.ORIENTED)


def test_closing_a_paused_contact_ends_the_pause(world, at_now):
    contact = log(world)
    services.pause_clock(world.people["agent"], contact, now=NOW - timedelta(days=1))
    contact = services.close_contact(world.people["agent"], contact, outcome=Outcome.ABANDONED)
    assert contact.paused_at is None
    assert contact.first_answer_at is None  # « sans suite »: no answer was given


def test_acknowledging_in_the_future_is_refused(world, at_now):
    contact = log(world)
    with pytest.raises(ValidationError) as error:
        services.acknowledge_contact(world.people["agent"], contact, at=NOW + timedelta(minutes=5))
    assert "futur" in error.value.message_dict["acknowledged_at"][0]
    contact.refresh_from_db()
    assert contact.acknowledged_at is None


def test_assign_contacts_gives_them_to_an_agent_and_audits_each(world, at_now):
    a, b = log(world), log(world)
    changed = services.assign_contacts(world.people["manager"], [a, b], world.people["agent"])
    assert changed == 2
    assert set(Contact.objects.filter(pk__in=[a.pk, b.pk]).values_list("assignee", flat=True)) == {
        world.people["agent"].pk
    }
    assert AuditEvent.objects.filter(action="contact.assigné").count() == 2


def test_assign_contacts_refuses_someone_outside_the_organisation(world, at_now):
    contact = log(world)
    with pytest.raises(ValidationError):
        services.assign_contacts(world.people["manager"], [contact], world.people["outsider"])
    with pytest.raises(ValidationError):
        services.assign_contacts(world.people["manager"], [contact], world.people["partenaire"])
    contact.refresh_from_db()
    assert contact.assignee is None
