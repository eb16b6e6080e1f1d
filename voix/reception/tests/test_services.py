"""Rules of the reception queue services: waiting time, visits, transfers, calling order."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from voix.reception import services
from voix.reception.models import Status, Ticket, VisitDay

PARIS = ZoneInfo("Europe/Paris")
DAY = datetime(2026, 3, 9, tzinfo=PARIS)  # a Monday


def at(hour, minute=0, day=DAY):
    return day.replace(hour=hour, minute=minute)


def visit_day(site, day=DAY):
    return VisitDay.objects.get(site=site, day=day.date())


def test_waiting_time_runs_from_entry_to_the_first_call(world, on_commit):
    ticket = services.take_ticket(world.site, world.queue, now=at(9))
    services.call_next(None, world.counter, now=at(9, 12))
    services.recall(None, ticket, now=at(9, 15))
    services.start_serving(None, ticket, now=at(9, 16))
    services.finish(None, ticket, now=at(9, 30))
    ticket.refresh_from_db()
    assert ticket.wait == timedelta(minutes=12)
    assert ticket.recalls == 1
    row = visit_day(world.site)
    assert (row.visits, row.within_20, row.wait_seconds_total) == (1, 1, 12 * 60)


def test_a_wait_of_exactly_20_minutes_is_within_and_21_is_not(world, on_commit):
    for entered, called in ((at(9), at(9, 20)), (at(9, 1), at(9, 22))):
        ticket = services.take_ticket(world.site, world.queue, now=entered)
        services.call_next(None, world.counter, now=called)
        services.finish(None, ticket, now=called + timedelta(minutes=5))
    row = visit_day(world.site)
    assert (row.visits, row.within_20) == (2, 1)


def test_a_ticket_abandoned_without_any_contact_is_not_a_visit(world, on_commit):
    services.take_ticket(world.site, world.queue, now=at(9))
    closed = services.close_day(world.site, now=at(8, day=DAY + timedelta(days=1)))
    assert closed == 1
    assert Ticket.objects.get(day=DAY.date()).status == Status.ABANDONED
    row = visit_day(world.site)
    assert (row.tickets, row.visits, row.abandoned) == (1, 0, 1)


def test_a_person_who_does_not_come_to_the_call_is_not_a_visit(world, on_commit):
    ticket = services.take_ticket(world.site, world.queue, now=at(9))
    services.call_next(None, world.counter, now=at(9, 5))
    services.mark_no_show(None, ticket, now=at(9, 8))
    row = visit_day(world.site)
    assert (row.tickets, row.visits, row.no_show) == (1, 0, 1)


def test_a_contact_through_a_visio_guichet_is_a_visit(world, on_commit):
    ticket = services.take_ticket(world.site, world.queue, now=at(9))
    services.call_next(None, world.visio_counter, now=at(9, 4))
    services.start_serving(None, ticket, now=at(9, 5))
    services.finish(None, ticket, now=at(9, 20))
    ticket.refresh_from_db()
    assert ticket.visio
    row = visit_day(world.site)
    assert (row.visits, row.visio_visits, row.within_20) == (1, 1, 1)


def test_transfer_keeps_the_entry_time_and_the_first_wait(world, on_commit):
    first = services.take_ticket(world.site, world.queue, now=at(9))
    later = services.take_ticket(world.site, world.queue_rdv, now=at(9, 2))
    services.call_next(None, world.counter, now=at(9, 5))
    services.start_serving(None, first, now=at(9, 6))
    services.transfer(None, first, queue=world.queue_rdv, now=at(9, 10))
    first.refresh_from_db()
    assert (first.status, first.entered_at, first.queue) == (
        Status.TRANSFERRED,
        at(9),
        world.queue_rdv,
    )
    # Back in line with its entry time: called before the ticket that entered after it.
    called = services.call_next(None, world.visio_counter, now=at(9, 40))
    assert called == first
    called.refresh_from_db()
    assert called.called_at == at(9, 5)  # the wait measured at the first call stays
    services.finish(None, called, now=at(9, 50))
    assert Ticket.objects.get(pk=later.pk).status == Status.WAITING
    row = visit_day(world.site)
    assert (row.visits, row.within_20) == (1, 1)  # one visit, not two


def test_a_ticket_transferred_to_a_counter_is_called_only_by_that_counter(world):
    ticket = services.take_ticket(world.site, world.queue, now=at(9))
    services.call_next(None, world.counter, now=at(9, 1))
    services.transfer(None, ticket, counter=world.visio_counter, now=at(9, 2))
    other = services.save_counter(None, world.site, label="Guichet 2")
    assert services.call_next(None, other, now=at(9, 3)) is None
    assert services.call_next(None, world.visio_counter, now=at(9, 3)) == ticket


def test_call_next_takes_the_oldest_ticket_among_the_counters_reasons(world):
    services.take_ticket(world.site, world.queue, now=at(9))
    rdv = services.take_ticket(world.site, world.queue_rdv, now=at(9, 1))
    services.take_ticket(world.site, world.queue_rdv, now=at(9, 2))
    desk = services.save_counter(None, world.site, label="Guichet RDV", queues=[world.queue_rdv])
    assert services.call_next(None, desk, now=at(9, 5)) == rdv


def test_an_appointment_whose_time_has_come_goes_before_walk_ins(world):
    services.take_ticket(world.site, world.queue, now=at(9))
    booked = services.check_in_appointment(
        world.site,
        reference="RDV-42",
        reason="Prestations",
        scheduled_at=at(9, 15),
        now=at(9, 10),
    )
    # Before its time, the appointment waits like everyone.
    early = services.call_next(None, world.counter, now=at(9, 12))
    assert early != booked
    services.finish(None, early, now=at(9, 14))
    services.take_ticket(world.site, world.queue, now=at(9, 11))
    assert services.call_next(None, world.counter, now=at(9, 16)) == booked


def test_checking_in_an_appointment_twice_gives_the_same_ticket(world):
    first = services.check_in_appointment(
        world.site, reference="RDV-1", reason=world.queue_rdv, scheduled_at=at(10), now=at(9, 50)
    )
    again = services.check_in_appointment(
        world.site, reference="RDV-1", reason=world.queue_rdv, scheduled_at=at(10), now=at(9, 51)
    )
    assert first == again
    assert Ticket.objects.filter(appointment_ref="RDV-1").count() == 1


def test_an_unknown_reason_is_reported_with_the_known_ones(world):
    with pytest.raises(ValidationError) as error:
        services.check_in_appointment(
            world.site, reference="RDV-2", reason="Inconnu", scheduled_at=at(10), now=at(9)
        )
    assert "Motif « Inconnu » inconnu" in error.value.messages[0]
    assert "« Prestations »" in error.value.messages[0]


def test_the_same_ticket_is_never_called_twice(world):
    only = services.take_ticket(world.site, world.queue, now=at(9))
    assert services.call_next(None, world.counter, now=at(9, 1)) == only
    assert services.call_next(None, world.visio_counter, now=at(9, 1)) is None


def test_a_counter_with_a_ticket_in_progress_cannot_call_another(world):
    services.take_ticket(world.site, world.queue, now=at(9))
    services.take_ticket(world.site, world.queue, now=at(9, 1))
    services.call_next(None, world.counter, now=at(9, 2))
    with pytest.raises(ValidationError, match="encore au Guichet 1"):
        services.call_next(None, world.counter, now=at(9, 3))


def test_an_action_out_of_order_is_refused_in_french(world):
    ticket = services.take_ticket(world.site, world.queue, now=at(9))
    with pytest.raises(ValidationError, match="Impossible de terminer le ticket A001"):
        services.finish(None, ticket, now=at(9, 1))


def test_ticket_numbers_run_per_site_and_restart_each_day(world):
    a = services.take_ticket(world.site, world.queue, now=at(9))
    b = services.take_ticket(world.site, world.queue_rdv, now=at(9, 1))
    c = services.take_ticket(world.relay, world.relay_queue, now=at(9, 2))
    d = services.take_ticket(world.site, world.queue, now=at(9, day=DAY + timedelta(days=1)))
    assert (a.code, b.code, c.code, d.code) == ("A001", "R002", "D001", "A001")


def test_a_sms_leaves_once_when_few_tickets_remain_before(world, on_commit, sms_outbox):
    services.update_reception_settings(None, world.site, sms_ahead=1)
    services.take_ticket(world.site, world.queue, now=at(9))
    services.take_ticket(world.site, world.queue, now=at(9, 1))
    watched = services.take_ticket(world.site, world.queue, phone="06 12 34 56 78", now=at(9, 2))
    assert sms_outbox == []  # two tickets before it
    services.call_next(None, world.counter, now=at(9, 5))
    assert [m.to for m in sms_outbox] == ["+33612345678"]
    assert watched.code in sms_outbox[0].text
    services.call_next(None, world.visio_counter, now=at(9, 6))
    assert len(sms_outbox) == 1  # never twice


def test_an_invalid_phone_number_is_refused_and_no_ticket_is_taken(world):
    before = Ticket.objects.count()
    with pytest.raises(ValidationError, match="portable invalide"):
        services.take_ticket(world.site, world.queue, phone="12345", now=at(9))
    assert Ticket.objects.count() == before


def test_phone_numbers_are_erased_after_the_day(world):
    ticket = services.take_ticket(world.site, world.queue, phone="0712345678", now=at(9))
    services.close_day(world.site, now=at(7, day=DAY + timedelta(days=1)))
    ticket.refresh_from_db()
    assert ticket.phone == ""


def test_history_in_bulk_fills_the_roll_up(world):
    rows = [
        dict(
            day=DAY.date(),
            queue=world.queue,
            status=Status.DONE,
            entered_at=at(9),
            called_at=at(9, minutes),
            started_at=at(9, minutes),
            finished_at=at(9, 50),
            counter=world.counter,
            visio=False,
        )
        for minutes in (5, 25)
    ]
    assert services.record_history(world.site, rows) == 2
    row = visit_day(world.site)
    assert (row.visits, row.within_20, row.wait_seconds_total) == (2, 1, 30 * 60)


def test_the_nightly_command_closes_past_days_and_erases_phones(world, on_commit):
    from io import StringIO

    from django.core.management import call_command

    ticket = services.take_ticket(world.site, world.queue, phone="0612345678", now=at(9))
    out = StringIO()
    call_command("close_queues", stdout=out)
    ticket.refresh_from_db()
    assert (ticket.status, ticket.phone) == (Status.ABANDONED, "")
    assert "Tickets clos : 1" in out.getvalue()
