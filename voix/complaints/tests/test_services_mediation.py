"""Mediation: who may ask and until when, its own queue and contact, the decision."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from voix.complaints import services
from voix.complaints.models import AnswerVia, Decision, Kind, MediationStatus, Status
from voix.complaints.tests.world import public_complaint
from voix.contacts.models import Contact

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)
REASON = "La réponse ne tient pas compte de ma situation."


def answered(world, now=NOW, **fields):
    c = public_complaint(world, now=now, **fields)
    return services.send_answer(
        world.people["qualite"], c, text="Réponse.", via=AnswerVia.EMAIL, now=now
    )


def test_the_requester_may_ask_within_two_months_of_the_answer(world):
    c = answered(world)
    assert services.mediation_deadline(c) == datetime(2030, 5, 4, 9, 0, tzinfo=UTC)
    assert services.can_request_mediation(c, now=datetime(2030, 5, 4, 9, 0, tzinfo=UTC))
    late = datetime(2030, 5, 4, 9, 1, tzinfo=UTC)
    assert not services.can_request_mediation(c, now=late)
    with pytest.raises(ValidationError, match="2 mois"):
        services.escalate_to_mediation(None, c, reason=REASON, now=late)


def test_the_requester_may_not_ask_before_the_answer(world):
    assert not services.can_request_mediation(world.complaint)
    with pytest.raises(ValidationError, match="une fois la réponse reçue"):
        services.escalate_to_mediation(None, world.complaint, reason=REASON)


def test_a_closed_case_may_still_go_to_mediation_and_reopens(world):
    c = answered(world)
    c = services.close_complaint(world.people["qualite"], c, now=NOW + timedelta(days=1))
    m = services.escalate_to_mediation(None, c, reason=REASON, now=NOW + timedelta(days=2))
    c.refresh_from_db()
    assert c.status == Status.MEDIATION and c.closed_at is None
    assert m.requested_by is None


def test_staff_may_refer_an_unanswered_complaint_and_its_clock_stops(world):
    c = services.escalate_to_mediation(
        world.people["qualite"], world.complaint, reason=REASON
    ).complaint
    contact = Contact.objects.get(pk=c.contact_id)
    assert contact.status == "clos" and contact.outcome == "oriente"
    assert c.status == Status.MEDIATION


def test_only_complaints_go_to_mediation_and_only_once(world):
    suggestion = answered(world, kind=Kind.SUGGESTION)
    with pytest.raises(ValidationError):
        services.escalate_to_mediation(world.people["qualite"], suggestion, reason=REASON)
    with pytest.raises(ValidationError, match="déjà demandée"):
        services.escalate_to_mediation(
            world.people["qualite"], world.mediation.complaint, reason=REASON
        )


def test_the_reason_is_checked_like_a_message(world):
    c = answered(world)
    with pytest.raises(ValidationError) as excinfo:
        services.escalate_to_mediation(None, c, reason="  ", now=NOW)
    assert "reason" in excinfo.value.message_dict
    with pytest.raises(ValidationError) as excinfo:
        services.escalate_to_mediation(None, c, reason="Bande de connards, voilà.", now=NOW)
    assert "Reformulez" in excinfo.value.message_dict["reason"][0]


def test_the_mediation_waits_for_a_mediator_in_its_own_contact(world):
    m = world.mediation
    assert m.status == MediationStatus.OPEN and m.mediator is None
    assert m.contact.subject == f"Médiation {m.complaint.reference}"
    assert m.contact.acknowledged_at is not None  # acknowledged by e-mail at once


def test_the_requester_is_told_the_mediation_is_received(world, django_capture_on_commit_callbacks):
    c = answered(world, email="mediation-ack@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        services.escalate_to_mediation(None, c, reason=REASON, now=NOW)
    assert any("médiation" in m.subject for m in mail.outbox)


def test_only_a_mediator_takes_and_decides(world):
    m = world.mediation
    with pytest.raises(PermissionDenied):
        services.take_mediation(world.people["qualite"], m)
    mediator = world.people["mediateur"]
    m = services.take_mediation(mediator, m)
    assert m.mediator == mediator
    assert Contact.objects.get(pk=m.contact_id).assignee == mediator
    with pytest.raises(PermissionDenied):
        services.decide_mediation(
            world.people["admin"], m, decision=Decision.UPHELD, text="Décision."
        )


def test_the_decision_closes_the_case_and_is_sent_to_the_requester(
    world, django_capture_on_commit_callbacks
):
    mediator = world.people["mediateur"]
    with pytest.raises(ValidationError) as excinfo:
        services.decide_mediation(mediator, world.mediation, decision="", text="")
    assert {"decision", "text"} <= set(excinfo.value.message_dict)
    with django_capture_on_commit_callbacks(execute=True):
        m = services.decide_mediation(
            mediator,
            world.mediation,
            decision=Decision.PARTIAL,
            text="La moitié de l'indu est annulée.",
        )
    assert m.status == MediationStatus.DECIDED and m.decided_by == mediator
    assert m.mediator == mediator  # deciding without taking first takes it
    c = m.complaint
    c.refresh_from_db()
    assert c.status == Status.CLOSED and c.closed_at == m.decided_at
    assert Contact.objects.get(pk=m.contact_id).status == "clos"
    [message] = [x for x in mail.outbox if "Décision" in x.subject]
    assert "partiellement révisée" in message.body and "moitié" in message.body
    with pytest.raises(ValidationError):
        services.decide_mediation(mediator, m, decision=Decision.UPHELD, text="Encore.")


def test_a_mediation_taken_by_someone_else_must_be_taken_first(world):
    from voix.core import services as core_services
    from voix.core.models import Role

    other = core_services.create_person(
        None, email="mediateur2@test.localhost", full_name="Autre Médiateur"
    )
    core_services.add_membership(None, other, world.caf, Role.MEDIATEUR)
    services.take_mediation(world.people["mediateur"], world.mediation)
    with pytest.raises(ValidationError, match="prenez-la"):
        services.decide_mediation(other, world.mediation, decision=Decision.UPHELD, text="D.")
    m = services.take_mediation(other, world.mediation)
    assert services.decide_mediation(other, m, decision=Decision.UPHELD, text="D.").decided_at
