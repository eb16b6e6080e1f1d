"""Invitations to answer: one per source, at most one per person per period (by a salted
hash of the address, never the address itself), the message sent once by a task after the
commit, the address blanked once sent; the sweep after honoured appointments and answered
complaints; the optional address in the contact log's « close » action."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from voix.appointments import services as appointment_services
from voix.appointments.models import Appointment, Channel, Mode, Status
from voix.contacts import services as contact_services
from voix.contacts.models import Contact
from voix.core import sms
from voix.surveys import invitations, services
from voix.surveys.models import (
    Invitation,
    InvitationCap,
    InvitationSource,
    InvitationStatus,
    SurveyStatus,
)

APPOINTMENT = InvitationSource.APPOINTMENT
COMPLAINT = InvitationSource.COMPLAINT


@pytest.fixture(autouse=True)
def _locmem_sms(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _invite(w, source_id, *, email="alex@exemple.fr", phone="", now=None, source=APPOINTMENT):
    return services.invite(
        w.caf, source=source, source_id=source_id, email=email, phone=phone, now=now
    )


def test_an_invitation_sends_a_personal_link_after_commit_then_forgets_the_address(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(world, 1001, email="  Alex@Exemple.FR ")
        assert invitation.address == "alex@exemple.fr" and not mail.outbox
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alex@exemple.fr"]
    assert reverse("surveys:answer", args=[invitation.token]) in message.body
    assert "Caf test" in message.subject
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.SENT and invitation.sent_at
    assert invitation.address == ""
    assert "alex" not in invitation.recipient_hash
    assert not InvitationCap.objects.filter(recipient_hash__icontains="exemple").exists()


def test_an_sms_invitation_is_short_and_carries_the_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = _invite(world, 1002, email="", phone="06 12 34 56 78")
    assert invitation.via == "sms"
    assert [m.to for m in sms.outbox] == ["+33612345678"]
    text = sms.outbox[0].text
    assert f"/avis/{invitation.token}/" in text and len(text) <= 160


def test_one_invitation_per_person_per_period_whatever_the_spelling(world):
    now = timezone.now()
    assert _invite(world, 2001, email="alex@exemple.fr", now=now)
    assert _invite(world, 2002, email="ALEX@exemple.fr", now=now + timedelta(days=1)) is None
    assert _invite(world, 2003, email="", phone="0612345678", now=now)
    assert _invite(world, 2004, email="", phone="+33 6 12 34 56 78", now=now) is None
    period = world.survey_settings.period_days
    later = now + timedelta(days=period, minutes=1)
    assert _invite(world, 2005, email="alex@exemple.fr", now=later)


def test_the_cap_is_per_organisation(world):
    other_survey = services.create_survey(None, world.other, title="Metz")
    services.set_survey_status(None, other_survey, SurveyStatus.OPEN)
    services.save_settings(None, world.other, invitation_survey=other_survey)
    assert _invite(world, 3001)
    assert services.invite(world.other, source=APPOINTMENT, source_id=3001, email="alex@exemple.fr")


def test_a_source_is_never_invited_twice(world):
    now = timezone.now()
    assert _invite(world, 4001, email="a@exemple.fr", now=now)
    later = now + timedelta(days=1000)
    assert _invite(world, 4001, email="b@exemple.fr", now=later) is None
    assert Invitation.objects.filter(source_id=4001).count() == 1


def test_settings_decide_whether_to_invite(world):
    services.save_settings(None, world.caf, after_appointment=False)
    assert _invite(world, 5001) is None
    assert _invite(world, 5001, source=COMPLAINT)
    services.set_survey_status(None, world.survey, SurveyStatus.CLOSED)
    assert _invite(world, 5002, email="other@exemple.fr", source=COMPLAINT) is None
    services.save_settings(None, world.caf, invitation_survey=None)
    assert _invite(world, 5003, email="third@exemple.fr", source=COMPLAINT) is None


def test_an_unusable_address_is_named(world):
    with pytest.raises(services.ValidationError) as error:
        _invite(world, 6001, email="pas-une-adresse")
    assert "email" in error.value.message_dict
    with pytest.raises(services.ValidationError) as error:
        _invite(world, 6002, email="", phone="02 43 00 00 00")  # a landline: no SMS
    assert "portable" in error.value.message_dict["phone"][0]


def test_a_failed_message_is_retried_then_the_address_dropped(world, settings, monkeypatch):
    invitation = _invite(world, 7001, now=timezone.now() - timedelta(hours=1))

    def broken(*args, **kwargs):
        raise OSError("serveur de messagerie injoignable")

    monkeypatch.setattr(services, "send_mail", broken)
    assert services.send_invitation(invitation.pk) is False
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.FAILED and invitation.attempts == 1
    assert invitation.address  # kept for the next try
    for _ in range(services.MAX_ATTEMPTS):
        services.retry_invitations()
    invitation.refresh_from_db()
    assert invitation.attempts == services.MAX_ATTEMPTS and invitation.address == ""
    monkeypatch.undo()
    assert services.retry_invitations() == 0  # nothing left to send to


def test_a_sent_invitation_is_not_sent_again(world):
    invitation = _invite(world, 7101)
    assert services.send_invitation(invitation.pk) is True
    assert services.send_invitation(invitation.pk) is False
    assert len(mail.outbox) == 1


# ----- the sweep ------------------------------------------------------------------------------


def _honoured_appointment(w, *, ended_hours_ago, email="rdv@exemple.fr", status=Status.HONOURED):
    slots = appointment_services.available_slots(w.rdv_reason, w.site, mode=Mode.ON_SITE)
    with appointment_services.without_messages():
        for slot in slots:
            try:
                appointment = appointment_services.book(
                    None,
                    w.rdv_reason,
                    site=w.site,
                    mode=Mode.ON_SITE,
                    starts_at=slot.starts_at,
                    channel=Channel.PUBLIC,
                    full_name="Dominique Usager",
                    email=email,
                    consent=True,
                )
                break
            except appointment_services.SlotTaken:
                continue
    ends = timezone.now() - timedelta(hours=ended_hours_ago)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=status, starts_at=ends - timedelta(minutes=20), ends_at=ends
    )
    return appointment


def _answered_complaint(w, *, answered_hours_ago, email="rec@exemple.fr", purged=False):
    from voix.complaints.models import Complaint

    now = timezone.now()
    return Complaint.objects.create(
        organisation=w.caf,
        intake="formulaire",
        subject="Retard de paiement",
        body="…",
        email=email if not purged else "",
        received_at=now - timedelta(days=2),
        answered_at=now - timedelta(hours=answered_hours_ago),
        purged_at=now if purged else None,
    )


def test_sweep_invites_after_honoured_appointments_and_answered_complaints_once(world):
    due = _honoured_appointment(world, ended_hours_ago=3)
    _honoured_appointment(world, ended_hours_ago=1, email="tot@exemple.fr")  # too recent
    _honoured_appointment(world, ended_hours_ago=24 * 5, email="old@exemple.fr")  # too old
    _honoured_appointment(world, ended_hours_ago=3, email="abs@exemple.fr", status=Status.NO_SHOW)
    complaint = _answered_complaint(world, answered_hours_ago=5)
    _answered_complaint(world, answered_hours_ago=5, purged=True)
    first = invitations.sweep()
    assert first.invited == 2
    made = Invitation.objects.exclude(pk=world.invitation.pk)
    assert set(made.values_list("source", "source_id")) == {
        (APPOINTMENT, due.pk),
        (COMPLAINT, complaint.pk),
    }
    again = invitations.sweep()
    assert again.invited == 0
    assert Invitation.objects.count() == 3


def test_sweep_respects_the_settings(world):
    services.save_settings(None, world.caf, after_appointment=False, after_complaint=False)
    _honoured_appointment(world, ended_hours_ago=3)
    _answered_complaint(world, answered_hours_ago=5)
    assert invitations.sweep().invited == 0


def test_sweep_command_prints_a_summary(world):
    from io import StringIO

    from django.core.management import call_command

    _honoured_appointment(world, ended_hours_ago=3)
    out = StringIO()
    call_command("send_survey_invitations", stdout=out)
    assert "1 invitation(s) créée(s)" in out.getvalue()


# ----- the contact log's close action -------------------------------------------------------------


def _open_contact(w):
    return contact_services.log_contact(
        w.people["agent"], w.caf, channel="telephone", subject="Question", site=w.site
    )


def test_closing_a_contact_can_invite_without_storing_the_address(world, client_for):
    contact = _open_contact(world)
    client = client_for("agent")
    url = reverse("contacts:contact_action", args=[contact.pk, "clore"])
    data = {"outcome": "reponse_apportee", "survey_address": "06 98 76 54 32"}
    page = client.post(url, data, follow=True)
    assert "Le questionnaire de satisfaction va être envoyé." in page.content.decode()
    invitation = Invitation.objects.get(source=InvitationSource.CONTACT, source_id=contact.pk)
    assert invitation.via == "sms"
    contact.refresh_from_db()
    assert contact.status == "clos"
    row = Contact.objects.filter(pk=contact.pk).values().first()
    stored = " ".join(str(value) for value in row.values())
    assert "98 76" not in stored and "987654" not in stored


def test_a_bad_address_at_closing_keeps_the_contact_open(world, client_for):
    contact = _open_contact(world)
    client = client_for("agent")
    url = reverse("contacts:contact_action", args=[contact.pk, "clore"])
    data = {"outcome": "reponse_apportee", "survey_address": "pas une adresse"}
    page = client.post(url, data, follow=True)
    assert "portable invalide" in page.content.decode()
    contact.refresh_from_db()
    assert contact.status != "clos"
    assert not Invitation.objects.filter(source=InvitationSource.CONTACT).exists()


# ----- retention ----------------------------------------------------------------------------------


def test_retention_blanks_old_verbatims_and_unsent_addresses(world):
    from voix.surveys import retention

    now = timezone.now()
    old = [r for r in world.survey_responses if r.verbatim]
    assert retention.purge_verbatims(world.caf, now, now) == len(old)
    for response in old:
        response.refresh_from_db()
        assert response.verbatim == "" and "verbatim" not in response.answers
        assert response.jdma_satisfaction is not None  # the scores stay
    assert world.invitation.address
    assert retention.purge_invitations(world.caf, now, now) >= 1
    world.invitation.refresh_from_db()
    assert world.invitation.address == ""
