"""The « attente ≤ 20 minutes » source (reception.wait), on a hand-worked example."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from voix.commitments import measures
from voix.commitments.models import Measurement
from voix.reception import services

PARIS = ZoneInfo("Europe/Paris")


def _visit(site, queue, counter, day, waited, visio=False):
    entered = datetime(day.year, day.month, day.day, 9, tzinfo=PARIS)
    ticket = services.take_ticket(site, queue, now=entered)
    called = services.call_next(None, counter, now=entered + timedelta(minutes=waited))
    assert called == ticket
    services.finish(None, ticket, now=entered + timedelta(minutes=waited + 10))


def _hand_worked_month(w):
    """Siège, March 2026: waits 5, 20, 21 min at the counter and 30 min in visio (4 visits,
    2 within 20 min); one ticket left without contact, one no-show (not visits). Relay:
    one visit, 10 min. Organisation: 3 visits within 20 minutes out of 5 = 60 %."""
    monday, tuesday = date(2026, 3, 9), date(2026, 3, 10)
    for waited in (5, 20):
        _visit(w.site, w.queue, w.counter, monday, waited)
    _visit(w.site, w.queue, w.counter, tuesday, 21)
    _visit(w.site, w.queue, w.visio_counter, tuesday, 30)
    services.take_ticket(w.site, w.queue, now=datetime(2026, 3, 10, 11, tzinfo=PARIS))
    services.close_day(w.site, now=datetime(2026, 3, 11, 8, tzinfo=PARIS))
    no_show = services.take_ticket(w.site, w.queue, now=datetime(2026, 3, 11, 9, tzinfo=PARIS))
    services.call_next(None, w.counter, now=datetime(2026, 3, 11, 9, 5, tzinfo=PARIS))
    services.mark_no_show(None, no_show, now=datetime(2026, 3, 11, 9, 8, tzinfo=PARIS))
    _visit(w.relay, w.relay_queue, w.relay_counter, monday, 10)
    # Another month must not count.
    _visit(w.site, w.queue, w.counter, date(2026, 4, 1), 45)


def test_the_source_is_registered_under_its_catalogue_key(db):
    assert "reception.wait" in measures.SOURCES


def test_the_source_gives_per_site_and_organisation_shares(world, on_commit):
    _hand_worked_month(world)
    rows = measures.SOURCES["reception.wait"](
        world.caf, None, "month", date(2026, 3, 1), date(2026, 4, 1)
    )
    assert sorted(rows, key=lambda r: (r[0] is None, r[0] and r[0].pk)) == [
        (world.site, "", 2, 4, None),
        (world.relay, "", 1, 1, None),
        (None, "", 3, 5, None),
    ]
    one = measures.SOURCES["reception.wait"](
        world.caf, world.relay, "month", date(2026, 3, 1), date(2026, 4, 1)
    )
    assert one == [(world.relay, "", 1, 1, None)]


def test_recomputing_the_indicator_reads_the_roll_up(world, on_commit):
    _hand_worked_month(world)
    world.indicator.source = "reception.wait"
    world.indicator.save()
    measures.recompute(world.indicator, world.caf, "month", [date(2026, 3, 1)])
    values = dict(
        Measurement.objects.filter(
            indicator=world.indicator, period_start=date(2026, 3, 1)
        ).values_list("site", "value")
    )
    assert values == {
        world.site.pk: Decimal("50.0"),
        world.relay.pk: Decimal("100.0"),
        None: Decimal("60.0"),
    }
    again = measures.recompute(world.indicator, world.caf, "month", [date(2026, 3, 1)])
    assert (again.created, again.updated) == (0, 0)


def test_the_catalogue_indicator_points_at_this_source():
    from pathlib import Path

    import yaml

    path = Path(measures.__file__).parent / "data" / "indicators.yaml"
    catalogue = yaml.safe_load(path.read_text())
    entries = catalogue["indicators"] if isinstance(catalogue, dict) else catalogue
    wait = next(i for i in entries if i["code"] == "attente-20-min")
    assert wait["source"] == "reception.wait"
