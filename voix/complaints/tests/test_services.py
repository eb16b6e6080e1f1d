"""Rules of intake, acknowledgement, answer, closing, satisfaction and the tracking link."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from voix.complaints import models, services
from voix.complaints.models import AnswerVia, Intake, Kind, Message, Status
from voix.complaints.tests.world import public_complaint
from voix.contacts.models import Channel, Contact, Reason
from voix.core import sms
from voix.core.models import AuditEvent

NOW = datetime(2030, 3, 4, 9, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# ----- intake checks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"subject": "   "}, "subject"),
        ({"body": " \n "}, "body"),
        ({"body": "Trop bref"}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"subject": "s" * 201}, "subject"),
        ({"email": "pas-une-adresse"}, "email"),
        ({"phone": "12 34"}, "phone"),
        ({"consent": False}, "consent"),
        ({"email": "", "phone": "", "postal_address": ""}, "email"),
        ({"kind": "plainte"}, "kind"),
        ({"file_number": "12-34/56"}, "file_number"),
    ],
)
def test_bad_input_is_refused_per_field_and_nothing_is_written(world, fields, field):
    before = (models.Complaint.objects.count(), Contact.objects.count())
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, **fields)
    assert field in errors_of(excinfo)
    assert (models.Complaint.objects.count(), Contact.objects.count()) == before


def test_every_problem_is_reported_at_once(world):
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, subject="", body="court", email="faux", consent=False)
    assert {"subject", "body", "email", "consent"} <= set(errors_of(excinfo))


def test_obvious_insults_are_refused_with_a_way_to_rephrase(world):
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, body="Vous êtes une bande d'ENCULÉS, rendez-moi mon argent !")
    message = errors_of(excinfo)["body"][0]
    assert (
        "encules" in message and "Reformulez" in message and "reste dans le formulaire" in message
    )


def test_strong_words_that_are_not_insults_are_accepted(world):
    c = public_complaint(world, body="C'est une honte, un scandale : je conteste ce calcul !")
    assert c.pk
    assert services.abusive_terms("Je me dispute avec la computation") == []


def test_a_phone_number_is_enough_to_be_answered_and_is_tidied(world):
    c = public_complaint(world, email="", phone="+33 2 43 12 34 56")
    assert c.phone == "02 43 12 34 56"


def test_staff_intake_needs_neither_consent_nor_a_way_to_answer(world):
    c = public_complaint(
        world,
        actor=world.people["agent"],
        intake=Intake.PHONE,
        email="",
        consent=False,
    )
    assert c.intake == Intake.PHONE and c.consent_at is None
    assert c.created_by == world.people["agent"]


def test_the_public_form_is_always_received_by_form(world):
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, intake=Intake.PHONE)
    assert "intake" in errors_of(excinfo)


def test_a_partner_files_only_for_its_own_relay(world):
    partner = world.people["partenaire"]
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, actor=partner, intake=Intake.RELAY, relay=world.other_relay)
    assert "relay" in errors_of(excinfo)
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, actor=partner, intake=Intake.PHONE)
    assert "intake" in errors_of(excinfo)


def test_people_without_a_role_in_the_organisation_cannot_file(world):
    with pytest.raises(PermissionDenied):
        public_complaint(world, actor=world.people["outsider"], intake=Intake.PHONE)


def test_a_site_of_another_organisation_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        public_complaint(world, site=world.other_site)
    assert "site" in errors_of(excinfo)


def test_the_reference_is_drawn_again_on_collision(world, monkeypatch):
    taken = world.complaint.reference
    draws = iter([taken, taken, "REC-NEWONE22"])
    monkeypatch.setattr(models, "new_reference", lambda: next(draws))
    c = public_complaint(world)
    assert c.reference == "REC-NEWONE22"
    assert c.contact.subject == "Réclamation REC-NEWONE22"


# ----- the contact log ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "intake, channel",
    [
        (Intake.FORM, Channel.MESSAGING),
        (Intake.EMAIL, Channel.EMAIL),
        (Intake.LETTER, Channel.LETTER),
        (Intake.PHONE, Channel.PHONE),
        (Intake.COUNTER, Channel.WALK_IN),
    ],
)
def test_each_intake_logs_a_contact_on_its_channel(world, intake, channel):
    actor = None if intake == Intake.FORM else world.people["agent"]
    c = public_complaint(world, actor=actor, intake=intake)
    assert c.contact.channel == channel
    assert c.contact.reason.code == "reclamation"
    assert c.contact.reason.label == "Réclamation"


def test_the_contact_log_holds_the_reference_and_no_personal_data(world):
    c = world.complaint
    assert c.contact.subject == f"Réclamation {c.reference}"
    assert c.contact.requester_ref == ""
    assert c.contact.site == world.site


def test_a_relay_complaint_is_logged_on_the_relay_channel_and_site(world):
    c = world.relay_complaint
    assert c.contact.channel == Channel.RELAY and c.contact.site == world.relay


def test_suggestions_and_compliments_have_their_own_reasons(world):
    suggestion = public_complaint(world, kind=Kind.SUGGESTION)
    compliment = public_complaint(world, kind=Kind.COMPLIMENT)
    assert suggestion.contact.reason.code == "suggestion"
    assert compliment.contact.reason.code == "remerciement"
    assert set(Reason.objects.filter(organisation=world.caf).values_list("code", flat=True)) >= {
        "reclamation",
        "suggestion",
        "remerciement",
        "mediation",
    }


# ----- acknowledgement ------------------------------------------------------------------------


def test_an_email_gets_the_acknowledgement_with_reference_and_link(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        c = public_complaint(world, email="ack@example.org")
    assert c.status == Status.ACKNOWLEDGED and c.acknowledged_at
    assert c.contact.acknowledged_at == c.acknowledged_at
    [message] = mail.outbox
    assert message.to == ["ack@example.org"]
    assert c.reference in message.subject and c.reference in message.body
    assert services.tracking_url(c) in message.body
    assert Message.objects.get(complaint=c).state == Message.State.SENT


def test_a_mobile_number_alone_gets_the_acknowledgement_by_sms(
    world, django_capture_on_commit_callbacks, sms_outbox
):
    with django_capture_on_commit_callbacks(execute=True):
        c = public_complaint(world, email="", phone="06 12 34 56 78")
    assert not mail.outbox
    [text] = sms_outbox
    assert text.to == "+33612345678" and c.reference in text.text
    assert services.tracking_path(c) in text.text


def test_a_message_is_sent_once_even_when_its_task_runs_twice(
    world, django_capture_on_commit_callbacks
):
    from voix.complaints import notifications

    with django_capture_on_commit_callbacks(execute=True):
        c = public_complaint(world)
    assert notifications.send_message(c.pk, Message.Kind.ACK) == 0
    assert len(mail.outbox) == 1


def test_a_postal_address_alone_leaves_the_acknowledgement_to_an_agent(world):
    c = public_complaint(world, email="", postal_address="3 rue des Tests\n53000 Laval")
    assert c.status == Status.RECEIVED and c.acknowledged_at is None
    assert c.contact.ack_due_at is not None
    c = services.acknowledge_complaint(world.people["qualite"], c, now=c.received_at)
    assert c.status == Status.ACKNOWLEDGED
    with pytest.raises(ValidationError):
        services.acknowledge_complaint(world.people["qualite"], c)


def test_a_compliment_is_closed_once_acknowledged(world):
    c = public_complaint(world, kind=Kind.COMPLIMENT)
    assert c.status == Status.CLOSED and c.closed_at and c.contact.status == "clos"


def test_an_anonymous_compliment_is_closed_at_once(world):
    c = public_complaint(world, kind=Kind.COMPLIMENT, email="", full_name="")
    assert c.status == Status.CLOSED


def test_a_suggestion_is_acknowledged_and_waits_for_an_answer(world):
    c = public_complaint(world, kind=Kind.SUGGESTION)
    assert c.status == Status.ACKNOWLEDGED and c.contact.answer_due_at


# ----- handling -------------------------------------------------------------------------------


def test_assigning_gives_the_contact_too_and_starts_the_work(world):
    agent = world.people["agent"]
    c = services.assign_complaint(world.people["manager"], world.complaint, agent)
    assert c.assignee == agent and c.status == Status.IN_PROGRESS
    assert Contact.objects.get(pk=c.contact_id).assignee == agent


def test_only_people_of_the_organisation_can_be_assigned(world):
    with pytest.raises(ValidationError) as excinfo:
        services.assign_complaint(
            world.people["manager"], world.complaint, world.people["outsider"]
        )
    assert "assignee" in errors_of(excinfo)


def test_an_agent_cannot_act_on_a_case_not_given_to_them(world):
    with pytest.raises(PermissionDenied):
        services.add_note(world.people["agent"], world.complaint, "Une note")
    services.assign_complaint(world.people["manager"], world.complaint, world.people["agent"])
    note = services.add_note(world.people["agent"], world.complaint, "Appelé ce matin.")
    assert note.author == world.people["agent"]


def test_a_note_keeps_its_text_out_of_the_audit_log(world):
    services.add_note(world.people["qualite"], world.complaint, "Secret : IBAN FR76…")
    event = AuditEvent.objects.filter(action="réclamation.note_ajoutée").latest("pk")
    assert "IBAN" not in str(event.changes)


def test_an_empty_note_is_refused(world):
    with pytest.raises(ValidationError) as excinfo:
        services.add_note(world.people["qualite"], world.complaint, "   ")
    assert "text" in errors_of(excinfo)


def test_tagging_takes_the_organisations_themes_and_causes_only(world):
    qualite = world.people["qualite"]
    c = services.tag_complaint(
        qualite, world.complaint, theme=world.complaint_theme, root_causes=[world.complaint_cause]
    )
    assert c.theme == world.complaint_theme and list(c.root_causes.all()) == [world.complaint_cause]
    with pytest.raises(ValidationError) as excinfo:
        services.tag_complaint(
            qualite, world.complaint, theme=world.outsider_complaint_theme, root_causes=[]
        )
    assert "theme" in errors_of(excinfo)


def test_a_retired_theme_cannot_be_given_to_a_new_case(world):
    services.save_theme(None, world.caf, world.complaint_other_theme, active=False)
    with pytest.raises(ValidationError):
        services.tag_complaint(
            world.people["qualite"],
            world.complaint,
            theme=world.complaint_other_theme,
            root_causes=[],
        )


def test_theme_labels_are_unique_in_an_organisation(world):
    with pytest.raises(ValidationError) as excinfo:
        services.save_theme(None, world.caf, label="délais de paiement")
    assert "label" in errors_of(excinfo)
    assert services.save_theme(None, world.other, label="Délais de paiement").pk


# ----- answer, closing, satisfaction ----------------------------------------------------------


def test_an_answer_by_email_sends_the_text_with_the_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        c = services.send_answer(
            world.people["qualite"],
            world.complaint,
            text="Votre allocation a été versée le 3 mars.",
            via=AnswerVia.EMAIL,
        )
    assert c.status == Status.ANSWERED and c.answered_at
    assert c.contact.first_answer_at == c.answered_at and c.contact.status == "repondu"
    [message] = [m for m in mail.outbox if "Réponse" in m.subject]
    assert "versée le 3 mars" in message.body and services.tracking_url(c) in message.body


def test_an_answer_is_sent_once(world):
    qualite = world.people["qualite"]
    services.send_answer(qualite, world.complaint, text="Réponse.", via=AnswerVia.LETTER)
    with pytest.raises(ValidationError):
        services.send_answer(qualite, world.complaint, text="Encore.", via=AnswerVia.LETTER)


def test_an_answer_by_email_needs_an_email_address(world):
    c = public_complaint(world, email="", postal_address="3 rue des Tests, 53000 Laval")
    with pytest.raises(ValidationError) as excinfo:
        services.send_answer(world.people["qualite"], c, text="Réponse.", via=AnswerVia.EMAIL)
    assert "via" in errors_of(excinfo)


def test_a_letter_answer_is_announced_by_sms_to_a_mobile(
    world, django_capture_on_commit_callbacks, sms_outbox
):
    c = public_complaint(world, email="", phone="07 00 00 00 01", postal_address="Laval")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_answer(world.people["qualite"], c, text="Réponse.", via=AnswerVia.LETTER)
    assert any("courrier" in m.text for m in sms_outbox)


def test_a_compliment_takes_no_answer(world):
    c = public_complaint(world, kind=Kind.COMPLIMENT, email="", postal_address="Laval")
    with pytest.raises(ValidationError):
        services.send_answer(world.people["qualite"], c, text="Merci !", via=AnswerVia.LETTER)


def test_a_case_is_closed_only_once_answered(world):
    qualite = world.people["qualite"]
    with pytest.raises(ValidationError):
        services.close_complaint(qualite, world.complaint)
    services.send_answer(qualite, world.complaint, text="Réponse.", via=AnswerVia.EMAIL)
    c = services.close_complaint(qualite, world.complaint)
    assert c.status == Status.CLOSED and c.contact.status == "clos"
    with pytest.raises(ValidationError):
        services.close_complaint(qualite, c)


def test_satisfaction_is_recorded_once_after_the_answer(world):
    with pytest.raises(ValidationError):
        services.record_satisfaction(world.complaint, 4)
    services.send_answer(
        world.people["qualite"], world.complaint, text="Réponse.", via=AnswerVia.EMAIL
    )
    with pytest.raises(ValidationError) as excinfo:
        services.record_satisfaction(world.complaint, 5)
    assert "score" in errors_of(excinfo)
    c = services.record_satisfaction(world.complaint, "3")
    assert c.satisfaction == 3
    with pytest.raises(ValidationError):
        services.record_satisfaction(c, 1)
    assert [label for _, label in services.SATISFACTION_CHOICES][::3] == [
        "Pas du tout satisfait",
        "Tout à fait satisfait",
    ]


# ----- tracking link --------------------------------------------------------------------------


def test_the_tracking_link_finds_the_case(world, settings):
    c = world.complaint
    assert services.tracking_url(c).startswith(settings.BASE_URL)
    assert c.token in services.tracking_url(c)
    assert services.complaint_for_token(c.token) == c


def test_an_unknown_token_is_not_found(world):
    with pytest.raises(Http404):
        services.complaint_for_token("pas-un-jeton")
    with pytest.raises(Http404):
        services.complaint_for_token("")


def test_the_tracking_link_expires_six_months_after_closing(world):
    qualite = world.people["qualite"]
    c = public_complaint(world, now=NOW)
    services.send_answer(qualite, c, text="Réponse.", via=AnswerVia.EMAIL, now=NOW)
    c = services.close_complaint(qualite, c, now=NOW + timedelta(days=1))
    assert services.complaint_for_token(c.token, now=datetime(2030, 9, 5, tzinfo=UTC)) == c
    with pytest.raises(services.TrackingExpired) as excinfo:
        services.complaint_for_token(c.token, now=datetime(2030, 9, 6, tzinfo=UTC))
    assert excinfo.value.complaint == c


def test_an_open_case_keeps_its_link(world):
    c = world.complaint
    assert services.complaint_for_token(c.token, now=c.received_at + timedelta(days=3650)) == c


def test_actions_are_audited_without_personal_data(world):
    c = world.complaint
    events = AuditEvent.objects.filter(object_type="complaint", object_id=str(c.pk))
    assert {"réclamation.créée", "réclamation.accusée"} <= set(
        events.values_list("action", flat=True)
    )
    assert "camille" not in str(list(events.values_list("changes", "object_repr"))).lower()
