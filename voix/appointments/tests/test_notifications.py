"""Messages about appointments: confirmation, change, cancellation and reminders, by e-mail
and SMS, with the delivery log — each message once, never after the appointment."""

from datetime import timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.concurrency import run_together
from voix.appointments import links, notifications, services
from voix.appointments.models import Appointment, Channel, Mode, Notification, Status
from voix.core import sms

Kind = Notification.Kind


@pytest.fixture(autouse=True)
def _locmem_sms(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def slot_in(world, days=3, mode=Mode.ON_SITE, index=0, reason=None):
    """A free slot of the « question » reason at least *days* days ahead."""
    start = timezone.localdate() + timedelta(days=days)
    return services.available_slots(
        reason or world.rdv_reason, world.site, mode=mode, start=start, limit=index + 1
    )[index]


def book(world, days=3, mode=Mode.ON_SITE, index=0, **person):
    person = {
        "full_name": "Camille Usager",
        "phone": "06 12 34 56 78",
        "email": "camille@example.org",
        **person,
    }
    slot = slot_in(world, days, mode, index)
    return services.book(
        None,
        world.rdv_reason,
        site=world.site,
        mode=mode,
        starts_at=slot.starts_at,
        channel=Channel.PUBLIC,
        consent=True,
        **person,
    )


def calendar_part(message):
    [part] = message.attachments
    return part


def log(appointment, **filters):
    return Notification.objects.filter(appointment=appointment, **filters)


# ----- confirmation, change, cancellation ----------------------------------------------------


def test_booking_sends_a_confirmation_by_email_with_the_ics_and_by_sms(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille@example.org"]
    assert "confirmé" in message.subject
    assert notifications.when(appointment.starts_at) in message.subject
    manage_path = links.manage_url(appointment).split("/mon-rendez-vous/")[0]
    assert manage_path + "/mon-rendez-vous/" in message.body
    assert "Siège test" in message.body and "1 rue A, 53000 Laval" in message.body
    assert appointment.reference in message.body
    assert "Apportez votre dernier avis d'imposition." in message.body
    assert message.from_email == "Voix <ne-pas-repondre@voix.localhost>"
    part = calendar_part(message)
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "REQUEST"
    calendar = part.get_payload(decode=True).decode("utf-8")
    assert "METHOD:REQUEST\r\n" in calendar and f"UID:{appointment.reference}@voix" in calendar
    assert [m.to for m in sms.outbox] == ["+33612345678"]
    assert "confirmé" in sms.outbox[0].text and "/mon-rendez-vous/" in sms.outbox[0].text
    rows = log(appointment, kind=Kind.CONFIRMATION, version=1)
    assert {(n.via, n.to, n.state, n.attempts) for n in rows} == {
        ("courriel", "camille@example.org", "envoye", 1),
        ("sms", "+33612345678", "envoye", 1),
    }
    assert all(n.sent_at is not None for n in rows)


def test_the_manage_link_in_the_message_opens_the_appointment(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    url = next(word for word in sms.outbox[0].text.split() if "/mon-rendez-vous/" in word).rstrip(
        "."
    )
    token = url.rstrip("/").rsplit("/", 1)[1]
    assert links.appointment_for(token) == appointment


def test_a_message_is_sent_once_even_when_its_task_runs_again(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    assert notifications.send_message(appointment.pk, Kind.CONFIRMATION, 1) == 0
    from voix.appointments.tasks import send_appointment_message

    assert send_appointment_message.enqueue(appointment.pk, Kind.CONFIRMATION, 1).return_value == 0
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1
    assert log(appointment).count() == 2


def test_a_landline_gets_no_sms_and_no_email_gets_no_email(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        landline = book(world, phone="02 43 00 00 00")
    assert len(mail.outbox) == 1 and sms.outbox == []
    assert list(log(landline).values_list("via", flat=True)) == ["courriel"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sms_only = book(world, index=1, email="")
    assert mail.outbox == [] and len(sms.outbox) == 1
    assert list(log(sms_only).values_list("via", flat=True)) == ["sms"]


def test_a_phone_appointment_says_who_calls_which_number(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        book(world, mode=Mode.PHONE)
    assert "un conseiller vous appellera au 06 12 34 56 78" in mail.outbox[0].body
    assert "un conseiller vous appellera au 06 12 34 56 78" in sms.outbox[0].text
    assert "1 rue A" not in sms.outbox[0].text


def test_a_video_appointment_carries_its_meeting_link(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world, mode=Mode.VIDEO)
    assert appointment.video_link.startswith("https://visio.voix.localhost/")
    assert appointment.video_link in mail.outbox[0].body
    assert appointment.video_link in sms.outbox[0].text
    calendar = calendar_part(mail.outbox[0]).get_payload(decode=True).decode("utf-8")
    assert "LOCATION:https://visio.voix.localhost/" in calendar


def test_a_move_sends_a_change_with_the_new_time_and_a_new_sequence(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    mail.outbox.clear()
    sms.outbox.clear()
    new = slot_in(world, days=5)
    with django_capture_on_commit_callbacks(execute=True):
        moved = services.move(world.advisor, appointment, starts_at=new.starts_at)
    assert moved.version == 2
    [message] = mail.outbox
    assert "a changé" in message.subject
    assert notifications.when(new.starts_at) in message.subject
    assert "l'ancien horaire n'est plus valable" in message.body
    calendar = calendar_part(message).get_payload(decode=True).decode("utf-8")
    assert "SEQUENCE:2\r\n" in calendar and "METHOD:REQUEST" in calendar
    assert "déplacé" in sms.outbox[0].text
    assert log(appointment, kind=Kind.CHANGE, version=2).count() == 2


def test_a_confirmation_superseded_by_a_move_is_not_sent(world):
    appointment = book(world)  # its confirmation is still waiting (not committed here)
    services.move(world.advisor, appointment, starts_at=slot_in(world, days=5).starts_at)
    assert notifications.send_message(appointment.pk, Kind.CONFIRMATION, 1) == 0
    assert notifications.send_message(appointment.pk, Kind.CHANGE, 2) == 2
    assert mail.outbox[0].subject.startswith("Votre rendez-vous a changé")


def test_a_cancellation_sends_a_cancel_ics(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    mail.outbox.clear()
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(world.advisor, appointment, reason_text="Conseiller absent")
    [message] = mail.outbox
    assert "annulé" in message.subject
    assert "Motif : Conseiller absent" in message.body
    part = calendar_part(message)
    assert part.get_param("method") == "CANCEL"
    calendar = part.get_payload(decode=True).decode("utf-8")
    assert "STATUS:CANCELLED" in calendar and "METHOD:CANCEL" in calendar
    assert "annulé" in sms.outbox[0].text and "/mon-rendez-vous/" in sms.outbox[0].text
    assert log(appointment, kind=Kind.CANCELLATION).count() == 2


class BrokenSms:
    def send(self, to, text):
        raise sms.SmsError("Le fournisseur SMS est injoignable (test).")


def test_a_failure_is_logged_and_retried_by_the_sweep(
    world, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = f"{__name__}.BrokenSms"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    assert len(mail.outbox) == 1  # the e-mail went; the SMS failure did not stop it
    failed = log(appointment, via="sms").get()
    assert failed.state == "echec" and failed.attempts == 1 and failed.sent_at is None
    assert "injoignable" in failed.error
    assert notifications.retry_failed() == 0  # still broken
    failed.refresh_from_db()
    assert failed.attempts == 2 and failed.state == "echec"
    settings.SMS_BACKEND = "locmem"
    assert notifications.retry_failed() == 1
    failed.refresh_from_db()
    assert failed.state == "envoye" and failed.attempts == 3 and failed.error == ""
    assert len(sms.outbox) == 1 and len(mail.outbox) == 1
    assert notifications.retry_failed() == 0


def test_retries_stop_after_three_attempts(world, settings, django_capture_on_commit_callbacks):
    settings.SMS_BACKEND = f"{__name__}.BrokenSms"
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(world)
    for _ in range(5):
        notifications.retry_failed()
    assert log(appointment, via="sms").get().attempts == notifications.MAX_ATTEMPTS


def test_a_queue_failure_does_not_break_the_booking(world, monkeypatch):
    from voix.appointments import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("file de tâches injoignable")

    monkeypatch.setattr(tasks, "send_appointment_message", SimpleNamespace(enqueue=refuse))
    notifications.queue(world.appointment, Kind.CONFIRMATION)  # logged, not raised
    assert mail.outbox == []


# ----- reminders -------------------------------------------------------------------------------


@pytest.fixture
def quiet_world(world):
    """The world without its own bookings, so that only this test's appointments are due."""
    for appointment in (world.appointment, world.partner_appointment):
        services.cancel(world.advisor, appointment, reason_text="Place libérée pour le test")
    return world


def test_a_reminder_goes_within_48_hours_once(quiet_world):
    world = quiet_world
    appointment = book(world)
    assert notifications.send_due_reminders(now=appointment.starts_at - timedelta(hours=49)) == 0
    now = appointment.starts_at - timedelta(hours=47)
    assert notifications.send_due_reminders(now=now) == 2
    assert "Rappel" in mail.outbox[-1].subject
    assert "Nous vous rappelons votre rendez-vous" in mail.outbox[-1].body
    assert "/mon-rendez-vous/" in mail.outbox[-1].body
    assert "rappel" in sms.outbox[-1].text
    assert notifications.send_due_reminders(now=now + timedelta(hours=1)) == 0
    assert log(appointment, kind=Kind.REMINDER, version=1).count() == 2


def test_no_reminder_when_the_confirmation_went_inside_the_delay(quiet_world):
    world = quiet_world
    appointment = book(world)
    told = Notification.objects.create(
        appointment=appointment,
        kind=Kind.CONFIRMATION,
        via=Notification.Via.EMAIL,
        to="camille@example.org",
        state=Notification.State.SENT,
    )
    now = appointment.starts_at - timedelta(hours=5)
    # booked 10 hours before: the confirmation said it all, no reminder minutes later
    Notification.objects.filter(pk=told.pk).update(
        created_at=appointment.starts_at - timedelta(hours=10)
    )
    assert notifications.send_due_reminders(now=now) == 0
    # booked 5 days before: the reminder goes
    Notification.objects.filter(pk=told.pk).update(
        created_at=appointment.starts_at - timedelta(days=5)
    )
    assert notifications.send_due_reminders(now=now) == 2


def test_the_reminder_delay_is_the_organisation_setting(quiet_world):
    world = quiet_world
    booking_settings = services.ensure_settings(world.caf)
    booking_settings.reminder_hours = 24
    booking_settings.save()
    appointment = book(world)
    assert notifications.send_due_reminders(now=appointment.starts_at - timedelta(hours=30)) == 0
    assert notifications.send_due_reminders(now=appointment.starts_at - timedelta(hours=23)) == 2


def test_no_reminder_after_the_appointment_started_or_once_cancelled(quiet_world):
    world = quiet_world
    started = book(world)
    cancelled = book(world, index=1)
    services.cancel(world.advisor, cancelled, reason_text="Empêchement")
    now = started.starts_at + timedelta(minutes=1)
    assert notifications.send_due_reminders(now=now) == 0
    assert Notification.objects.filter(kind=Kind.REMINDER).count() == 0


def test_a_moved_appointment_gets_a_new_reminder_for_its_new_time(quiet_world):
    world = quiet_world
    appointment = book(world)
    old_start = appointment.starts_at
    assert notifications.send_due_reminders(now=old_start - timedelta(hours=47)) == 2
    new = slot_in(world, days=6)
    moved = services.move(world.advisor, appointment, starts_at=new.starts_at)
    assert notifications.send_due_reminders(now=old_start - timedelta(hours=1)) == 0
    assert notifications.send_due_reminders(now=moved.starts_at - timedelta(hours=47)) == 2
    versions = sorted(log(appointment, kind=Kind.REMINDER).values_list("version", flat=True))
    assert versions == [1, 1, 2, 2]
    assert notifications.when(moved.starts_at) in mail.outbox[-1].subject


class SlowEmail:
    """An e-mail backend that takes 45 minutes per message (a clock shift)."""

    traveller = None
    sent = []

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        SlowEmail.sent.extend(messages)
        SlowEmail.traveller.shift(timedelta(minutes=45))
        return len(messages)


def test_a_reminder_is_checked_again_just_before_it_goes(quiet_world, settings):
    """Two appointments less than 45 minutes apart, 10 minutes ahead; sending the first
    one's e-mail takes 45 minutes: by then both have started, so neither the first one's
    SMS nor the second one's reminder goes."""
    world = quiet_world
    first = book(world)
    second_slot = next(
        s
        for s in services.available_slots(
            world.rdv_reason, world.site, start=timezone.localtime(first.starts_at).date()
        )
        if s.starts_at > first.starts_at
    )
    second = services.book(
        None,
        world.rdv_reason,
        site=world.site,
        mode=Mode.ON_SITE,
        starts_at=second_slot.starts_at,
        channel=Channel.PUBLIC,
        full_name="Sam Suivant",
        email="sam@example.org",
        consent=True,
    )
    assert timedelta(0) < second.starts_at - first.starts_at < timedelta(minutes=45)
    settings.EMAIL_BACKEND = f"{__name__}.SlowEmail"
    SlowEmail.sent = []
    with time_machine.travel(first.starts_at - timedelta(minutes=10), tick=False) as traveller:
        SlowEmail.traveller = traveller
        sent = notifications.send_due_reminders()
    assert [m.to for m in SlowEmail.sent] == [["camille@example.org"]]
    assert sent == 1
    # the first one's SMS was claimed after its e-mail, then checked again: too late
    late = Notification.objects.get(appointment=first, kind=Kind.REMINDER, via="sms")
    assert late.state == "echec" and "a commencé" in late.error and late.sent_at is None
    assert sms.outbox == []
    assert not Notification.objects.filter(appointment=second, kind=Kind.REMINDER).exists()
    # held back on purpose: the sweep's retries leave it alone
    assert notifications.retry_failed() == 0
    late.refresh_from_db()
    assert late.attempts == 1 and sms.outbox == []


def test_send_reminders_command_and_task(quiet_world):
    world = quiet_world
    appointment = book(world)
    out = StringIO()
    with time_machine.travel(appointment.starts_at - timedelta(hours=47), tick=False):
        call_command("send_reminders", stdout=out)
    assert "2 rappel(s) envoyé(s)" in out.getvalue()
    from voix.appointments.tasks import send_reminders

    with time_machine.travel(appointment.starts_at - timedelta(hours=46), tick=False):
        result = send_reminders.enqueue()
    assert "0 rappel(s) envoyé(s)" in result.return_value


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers: concurrent sweepers need PostgreSQL.",
)
def test_four_concurrent_sweeps_send_each_reminder_exactly_once(transactional_db):
    """Real connections and transactions (the fixture ``transactional_db``, as
    ``django_db(transaction=True)``, and lifts the audit guards for the flush)."""
    from conftest import build_world

    world = build_world()
    for appointment in (world.appointment, world.partner_appointment):
        services.cancel(world.advisor, appointment, reason_text="Place libérée pour le test")
    appointments = []
    for day in (3, 4):
        for index in range(10):
            appointments.append(book(world, days=day, index=index))
    latest = max(a.starts_at for a in appointments)
    earliest = min(a.starts_at for a in appointments)
    # a sweep before the first appointment, with the last ones beyond the 48 hours when the
    # two days booked are far enough apart (they may be adjacent, around a weekend)
    now = min(latest - timedelta(hours=47), earliest - timedelta(minutes=1))
    assert now < earliest
    mail.outbox.clear()
    sms.outbox.clear()
    results, errors = run_together(*[lambda: notifications.send_due_reminders(now=now)] * 4)
    assert errors == []
    due = [a for a in appointments if a.starts_at <= now + timedelta(hours=48)]
    assert due  # some are due
    assert sum(results) == 2 * len(due)
    reminders = Notification.objects.filter(kind=Kind.REMINDER)
    assert reminders.count() == 2 * len(due)
    assert set(reminders.values_list("state", flat=True)) == {"envoye"}
    assert sorted(m.to[0] for m in mail.outbox) == ["camille@example.org"] * len(due)
    assert len(sms.outbox) == len(due)
    assert {n.appointment_id for n in reminders} == {a.pk for a in due}
    assert Appointment.objects.filter(status=Status.PLANNED).count() >= len(appointments)
