"""The waitlist: subscribing, unsubscribing, and one message per freed slot — only when an
earlier slot really is free, at most N messages per entry."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.concurrency import run_together
from voix.appointments import links, services, waitlist
from voix.appointments.models import Channel, Mode, Notification, WaitlistEntry
from voix.core import sms


@pytest.fixture(autouse=True)
def _locmem_sms(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def later(days=10):
    return timezone.now() + timedelta(days=days)


def book_at(world, starts_at, email="occupe@example.org"):
    return services.book(
        None,
        world.rdv_reason,
        site=world.site,
        mode=Mode.ON_SITE,
        starts_at=starts_at,
        channel=Channel.PUBLIC,
        full_name="Claude Occupé",
        email=email,
        consent=True,
    )


@pytest.fixture
def full_first_slot(world):
    """The first free start, booked with every advisor free then: nothing is free before
    the next one. Returns (its start, the appointments holding it)."""
    first = services.first_available(world.rdv_reason, world.site)
    held = []
    while (slot := services.first_available(world.rdv_reason, world.site)).starts_at == (
        first.starts_at
    ):
        held.append(book_at(world, slot.starts_at))
    return first.starts_at, held


def freed(world, appointment, **kwargs):
    return waitlist.run_round(
        appointment.reason_id, appointment.site_id, appointment.starts_at, appointment.pk, **kwargs
    )


# ----- subscribe / unsubscribe ------------------------------------------------------------------


def test_subscribe_records_the_entry_with_the_organisation_limit(world):
    booking_settings = services.ensure_settings(world.caf)
    booking_settings.waitlist_max_notifications = 2
    booking_settings.save()
    entry = waitlist.subscribe(
        reason=world.rdv_reason,
        site=world.site,
        mode=Mode.PHONE,
        before=later(),
        email=" dominique@example.org ",
        phone="07 12 34 56 78",
    )
    assert entry.organisation == world.caf
    assert entry.email == "dominique@example.org" and entry.phone == "+33712345678"
    assert entry.max_notifications == 2 and entry.notifications_sent == 0 and entry.is_active


@pytest.mark.parametrize(
    "fields,field,message",
    [
        ({}, "email", "Indiquez une adresse électronique ou un numéro de portable"),
        ({"email": "pas-une-adresse"}, "email", "Adresse électronique invalide"),
        ({"phone": "02 43 00 00 00"}, "phone", "Un numéro fixe ne peut pas recevoir de SMS"),
        ({"phone": "12"}, "phone", "Numéro de téléphone portable invalide"),
        ({"email": "a@example.org", "mode": Mode.VIDEO}, None, None),
        ({"email": "a@example.org", "mode": "pigeon"}, "mode", "n'est pas proposé"),
    ],
)
def test_subscribe_refuses_bad_input_with_a_french_message(world, fields, field, message):
    if field is None:
        assert waitlist.subscribe(reason=world.rdv_reason, before=later(), **fields).pk
        return
    with pytest.raises(ValidationError) as caught:
        waitlist.subscribe(reason=world.rdv_reason, before=later(), **fields)
    assert message in caught.value.message_dict[field][0]
    assert WaitlistEntry.objects.count() == 0


def test_subscribe_refuses_a_past_date_and_a_site_without_the_reason(world):
    with pytest.raises(ValidationError) as caught:
        waitlist.subscribe(
            reason=world.rdv_reason,
            site=world.relay,
            before=timezone.now() - timedelta(hours=1),
            email="a@example.org",
        )
    assert caught.value.message_dict["before"] == ["La date doit être dans le futur."]
    assert caught.value.message_dict["site"] == ["Ce motif n'est pas proposé sur ce site."]


def test_one_active_entry_per_appointment(world):
    appointment = world.appointment
    entry = waitlist.subscribe(reason=world.rdv_reason, before=later(60), appointment=appointment)
    assert entry.before == appointment.starts_at  # « earlier » than the one they have
    assert entry.email == "camille@example.org" and entry.phone == "+33612345678"
    again = waitlist.subscribe(reason=world.rdv_reason, before=later(5), appointment=appointment)
    assert again.pk == entry.pk
    assert WaitlistEntry.objects.filter(appointment=appointment).count() == 1


def test_an_appointment_with_a_landline_subscribes_by_email_only(world):
    appointment = world.appointment
    appointment.phone = "02 43 00 00 00"
    entry = waitlist.subscribe(reason=world.rdv_reason, before=later(), appointment=appointment)
    assert entry.phone == "" and entry.email == "camille@example.org"


def test_unsubscribe(world):
    entry = waitlist.subscribe(reason=world.rdv_reason, before=later(), email="a@example.org")
    assert waitlist.unsubscribe(entry.token) is True
    entry.refresh_from_db()
    assert entry.is_active is False
    assert waitlist.unsubscribe(entry.token) is True  # the link still answers
    assert waitlist.unsubscribe("inconnu") is False
    assert waitlist.unsubscribe("") is False


# ----- a slot is freed ----------------------------------------------------------------------------


def test_an_entry_is_told_only_when_an_earlier_slot_is_really_free(world, full_first_slot):
    start, held = full_first_slot
    wants_it = waitlist.subscribe(
        reason=world.rdv_reason, before=start + timedelta(minutes=1), email="tot@example.org"
    )
    too_early = waitlist.subscribe(
        reason=world.rdv_reason, before=start, email="trop-tot@example.org"
    )
    # nothing is free before *start* yet: a round sends nothing
    assert freed(world, world.appointment) == 0
    assert mail.outbox == []
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    assert freed(world, held[0]) == 1
    [message] = mail.outbox
    assert message.to == ["tot@example.org"]
    assert "Un créneau plus tôt s'est libéré" in message.subject
    from voix.appointments.notifications import when

    assert when(start) in message.body
    public = reverse("appointments:public_start", args=[world.caf.slug])
    assert public in message.body
    assert reverse("appointments:waitlist_unsubscribe", args=[wants_it.token]) in message.body
    wants_it.refresh_from_db()
    too_early.refresh_from_db()
    assert wants_it.notifications_sent == 1 and wants_it.last_notified_at is not None
    assert too_early.notifications_sent == 0
    note = Notification.objects.get(waitlist_entry=wants_it)
    assert (note.kind, note.via, note.version, note.state) == (
        "liste_attente",
        "courriel",
        1,
        "envoye",
    )


def test_the_engine_tells_the_waitlist_on_commit_after_a_cancel(
    world, full_first_slot, django_capture_on_commit_callbacks
):
    start, held = full_first_slot
    entry = waitlist.subscribe(
        reason=world.rdv_reason,
        before=start + timedelta(minutes=1),
        email="tot@example.org",
        phone="07 00 00 00 01",
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel(world.advisor, held[0], reason_text="Empêchement")
    waiting = [m for m in mail.outbox if m.to == ["tot@example.org"]]
    assert len(waiting) == 1
    [text] = [m.text for m in sms.outbox if m.to == "+33700000001"]
    assert "créneau plus tôt" in text and "Ne plus être prévenu" in text
    assert Notification.objects.filter(waitlist_entry=entry, version=1).count() == 2


def test_an_entry_tied_to_an_appointment_gets_its_manage_link(world, full_first_slot):
    start, held = full_first_slot
    mine = book_at(
        world,
        services.available_slots(
            world.rdv_reason, world.site, start=timezone.localdate() + timedelta(days=6)
        )[0].starts_at,
        email="moi@example.org",
    )
    entry = waitlist.subscribe(reason=world.rdv_reason, before=later(60), appointment=mine)
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    assert freed(world, held[0]) == 1
    [message] = mail.outbox
    assert message.to == ["moi@example.org"]
    assert mine.reference in message.body
    assert links.manage_url(mine).rsplit(":", 1)[0] in message.body  # the signed link
    assert "/mon-rendez-vous/" in message.body
    entry.refresh_from_db()
    assert entry.notifications_sent == 1


def test_the_freed_appointment_s_own_entry_is_not_told(world, full_first_slot):
    start, held = full_first_slot
    mine = book_at(
        world,
        services.available_slots(
            world.rdv_reason, world.site, start=timezone.localdate() + timedelta(days=6)
        )[0].starts_at,
        email="moi@example.org",
    )
    waitlist.subscribe(reason=world.rdv_reason, before=later(60), appointment=mine)
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    assert waitlist.run_round(world.rdv_reason.pk, world.site.pk, start, mine.pk) == 0
    assert mail.outbox == []


def test_an_entry_for_another_site_or_unsubscribed_is_not_told(world, full_first_slot):
    start, held = full_first_slot
    WaitlistEntry.objects.create(
        organisation=world.caf,
        reason=world.rdv_reason,
        site=world.relay,
        before=start + timedelta(days=1),
        email="ailleurs@example.org",
    )
    gone = waitlist.subscribe(
        reason=world.rdv_reason, before=start + timedelta(days=1), email="parti@example.org"
    )
    waitlist.unsubscribe(gone.token)
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    assert freed(world, held[0]) == 0
    assert mail.outbox == []


def test_at_most_max_notifications_then_the_entry_ends(world, full_first_slot):
    booking_settings = services.ensure_settings(world.caf)
    booking_settings.waitlist_max_notifications = 2
    booking_settings.save()
    start, held = full_first_slot
    entry = waitlist.subscribe(
        reason=world.rdv_reason, before=start + timedelta(days=2), email="tot@example.org"
    )
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    assert freed(world, held[0]) == 1
    assert "au plus 1 autre message" in mail.outbox[-1].body
    assert freed(world, held[0]) == 1
    assert "C'est le dernier message" in mail.outbox[-1].body
    entry.refresh_from_db()
    assert entry.notifications_sent == 2 and entry.is_active is False
    assert freed(world, held[0]) == 0
    assert len(mail.outbox) == 2
    versions = sorted(entry.notifications.values_list("version", flat=True))
    assert versions == [1, 2]


def test_the_same_freed_slot_tells_an_entry_once_even_if_its_task_runs_twice(
    world, full_first_slot
):
    start, held = full_first_slot
    waitlist.subscribe(
        reason=world.rdv_reason, before=start + timedelta(days=2), email="tot@example.org"
    )
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    freed_at = timezone.now()
    from voix.appointments.tasks import notify_waitlist

    args = (held[0].reason_id, held[0].site_id, start.isoformat(), held[0].pk)
    assert notify_waitlist.enqueue(*args, freed_at.isoformat()).return_value == 1
    assert notify_waitlist.enqueue(*args, freed_at.isoformat()).return_value == 0
    assert len(mail.outbox) == 1


def test_entries_past_their_date_end(world):
    entry = waitlist.subscribe(reason=world.rdv_reason, before=later(1), email="tot@example.org")
    assert waitlist.expire(now=later(0)) == 0
    assert waitlist.expire(now=later(2)) == 1
    entry.refresh_from_db()
    assert entry.is_active is False


def test_an_entry_ends_when_its_appointment_is_cancelled(world):
    entry = waitlist.subscribe(
        reason=world.rdv_reason, before=later(60), appointment=world.appointment
    )
    services.cancel(world.advisor, world.appointment, reason_text="Empêchement")
    assert waitlist.expire() == 1
    entry.refresh_from_db()
    assert entry.is_active is False


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises writers: concurrent workers need PostgreSQL.",
)
def test_four_workers_on_the_same_freed_slot_send_one_message(transactional_db):
    from conftest import build_world

    world = build_world()
    first = services.first_available(world.rdv_reason, world.site)
    held = []
    while services.first_available(world.rdv_reason, world.site).starts_at == first.starts_at:
        held.append(book_at(world, first.starts_at))
    # cancelled before the entry exists (here on_commit runs at once: its own round is over)
    services.cancel(world.advisor, held[0], reason_text="Empêchement")
    entry = waitlist.subscribe(
        reason=world.rdv_reason,
        before=first.starts_at + timedelta(days=2),
        email="tot@example.org",
        phone="07 00 00 00 01",
    )
    mail.outbox.clear()
    sms.outbox.clear()
    freed_at = timezone.now()
    results, errors = run_together(*[lambda: freed(world, held[0], freed_at=freed_at)] * 4)
    assert errors == []
    assert sum(results) == 1
    assert [m.to for m in mail.outbox if m.to == ["tot@example.org"]] == [["tot@example.org"]]
    assert [m.to for m in sms.outbox if m.to == "+33700000001"] == ["+33700000001"]
    entry.refresh_from_db()
    assert entry.notifications_sent == 1
    assert Notification.objects.filter(waitlist_entry=entry).count() == 2
