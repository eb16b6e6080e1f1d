"""Who sees which case, who sees the personal data, and the audit of every view."""

import pytest

from voix.complaints import services
from voix.complaints.models import Intake
from voix.complaints.tests.world import public_complaint
from voix.core.models import AuditEvent


def visible(world, persona):
    return set(services.visible_complaints(world.people[persona]))


@pytest.mark.parametrize("persona", ["manager", "qualite", "admin"])
def test_handlers_see_every_case_of_their_organisation_only(world, persona):
    seen = visible(world, persona)
    assert {world.complaint, world.relay_complaint, world.mediation.complaint} <= seen
    assert world.outsider_complaint not in seen
    assert services.can_see_personal_data(world.people[persona], world.complaint)
    assert services.can_handle(world.people[persona], world.complaint)


def test_an_agent_sees_only_the_cases_given_to_them_or_recorded_by_them(world):
    agent = world.people["agent"]
    assert visible(world, "agent") == set()
    recorded = public_complaint(world, actor=agent, intake=Intake.PHONE)
    assert visible(world, "agent") == {recorded}
    assert not services.can_see_personal_data(agent, recorded)
    services.assign_complaint(world.people["manager"], world.complaint, agent)
    world.complaint.refresh_from_db()
    assert visible(world, "agent") == {recorded, world.complaint}
    assert services.can_see_personal_data(agent, world.complaint)
    assert services.can_handle(agent, world.complaint)


def test_a_partner_sees_its_relays_cases_without_personal_data(world):
    partner = world.people["partenaire"]
    assert visible(world, "partenaire") == {world.relay_complaint}
    assert not services.can_see_personal_data(partner, world.relay_complaint)
    assert not services.can_handle(partner, world.relay_complaint)


def test_a_mediator_sees_the_cases_in_mediation_only(world):
    mediator = world.people["mediateur"]
    assert visible(world, "mediateur") == {world.mediation.complaint}
    assert services.can_see_personal_data(mediator, world.mediation.complaint)
    assert not services.can_see_personal_data(mediator, world.complaint)
    assert set(services.visible_mediations(mediator)) == {world.mediation}


@pytest.mark.parametrize("persona", ["outsider", "sans_role", "anonyme"])
def test_people_outside_see_nothing(world, persona):
    assert visible(world, persona) <= {world.outsider_complaint}
    assert set(services.visible_mediations(world.people[persona])) == set()
    assert not services.can_see_personal_data(world.people[persona], world.complaint)


def test_the_mediation_queue_is_not_open_to_other_roles(world):
    assert set(services.visible_mediations(world.people["qualite"])) == set()
    assert set(services.visible_mediations(world.people["admin"])) == {world.mediation}


def test_every_view_of_personal_data_is_one_audit_line(world):
    manager = world.people["manager"]
    for _ in range(2):
        services.record_personal_data_view(manager, world.complaint)
    events = AuditEvent.objects.filter(
        action="réclamation.consultée", object_id=str(world.complaint.pk)
    )
    assert events.count() == 2
    event = events.first()
    assert event.actor == manager and event.organisation == world.caf
    assert event.object_type == "complaint"
