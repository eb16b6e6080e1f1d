"""Contact-log data of the test world: a theme and a reason, a team, a few contacts."""

from datetime import timedelta

from django.utils import timezone

from voix.contacts import services
from voix.contacts.models import Channel, Outcome


def extend_world_log(w):
    agent, manager = w.people["agent"], w.people["manager"]
    w.theme = services.save_reason(None, w.caf, code="prestations", label="Prestations")
    w.reason = services.save_reason(
        None, w.caf, code="rsa", label="Revenu de solidarité active", parent=w.theme
    )
    w.team = services.save_team(
        None, w.caf, name="Équipe courrier", site=w.site, members=[agent, manager]
    )
    w.policy = services.save_policy(
        None, w.caf, channel=Channel.EMAIL, reason=w.reason, ack_delay=5, answer_delay=10
    )
    now = timezone.now()
    w.contact = services.log_contact(
        agent,
        w.caf,
        channel=Channel.EMAIL,
        reason=w.reason,
        site=w.site,
        team=w.team,
        assignee=agent,
        requester_ref="ALLOC-001",
        subject="Question sur le RSA",
        received_at=now - timedelta(days=30),
    )
    w.relay_contact = services.log_contact(
        w.people["partenaire"],
        w.caf,
        channel=Channel.RELAY,
        reason=w.reason,
        site=w.relay,
        requester_ref="ALLOC-002",
        subject="Dossier transmis par le relais",
        received_at=now - timedelta(days=2),
    )
    w.closed_contact = services.log_contact(
        agent,
        w.caf,
        channel=Channel.WALK_IN,
        site=w.site,
        assignee=agent,
        received_at=now - timedelta(hours=3),
        first_answer_at=now - timedelta(hours=3),
        closed_at=now - timedelta(hours=3),
        outcome=Outcome.RESOLVED_FIRST,
    )
    w.other_contact = services.log_contact(
        w.people["outsider"],
        w.other,
        channel=Channel.LETTER,
        site=w.other_site,
        received_at=now - timedelta(days=1),
    )
    return w
