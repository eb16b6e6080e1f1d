"""A year of reception queue activity for the demo Caf (used by `seed_demo`).

Reasons, counters and kiosk/display links for the Caf's own sites and one France Services
relay; then, for each open day of the last 365 days (public holidays, closures and closed
weekdays skipped with the core calendar), a modest number of tickets with a weekday
pattern (Monday peak), a seasonal pattern (September rush, quiet August) and a few people
leaving without contact or not answering the call — written in bulk through
`services.record_history`, which fills the daily roll-ups. Today, at the siège, a live
queue built through the ordinary services (taken, called, served) so that the counter,
the display and the live figures show something. Seeded random generator: the same data
every run; idempotent: a second run changes nothing.
"""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from voix.core import workdays
from voix.core.models import Organisation

from . import services
from .models import Status, Ticket

SOURCE = "démo"

# site slug -> (reasons (label, letter), counters (label, kind), tickets on an ordinary day)
SITES = {
    "laval-siege": (
        [
            ("Prestations et paiements", "A"),
            ("Rendez-vous", "R"),
            ("Dépôt de documents", "D"),
            ("Première demande", "P"),
        ],
        [
            ("Guichet 1", "guichet"),
            ("Guichet 2", "guichet"),
            ("Guichet 3", "guichet"),
            ("Visio-guichet", "visio"),
        ],
        36,
    ),
    "chateau-gontier": (
        [("Prestations et paiements", "A"), ("Rendez-vous", "R"), ("Dépôt de documents", "D")],
        [("Guichet 1", "guichet"), ("Guichet 2", "guichet")],
        14,
    ),
    "mayenne": (
        [("Prestations et paiements", "A"), ("Rendez-vous", "R"), ("Dépôt de documents", "D")],
        [("Guichet 1", "guichet"), ("Visio-guichet", "visio")],
        12,
    ),
    "evron-permanence": (
        [("Prestations et paiements", "A"), ("Rendez-vous", "R")],
        [("Bureau de permanence", "guichet")],
        8,
    ),
    "france-services-evron": (
        [("Démarches en ligne Caf", "N"), ("Rendez-vous visio Caf", "V")],
        [("Bureau 1", "guichet"), ("Visio-guichet", "visio")],
        5,
    ),
}

SEASON = {
    1: 1.1,
    2: 1.0,
    3: 1.0,
    4: 0.95,
    5: 0.9,
    6: 0.95,
    7: 0.8,
    8: 0.6,
    9: 1.45,
    10: 1.25,
    11: 1.0,
    12: 0.85,
}
WEEKDAY = {0: 1.45, 1: 1.05, 2: 0.95, 3: 0.9, 4: 0.85}


def setup_site(site, reasons, counters):
    """Reasons, counters and link tokens of a site, when it has none yet."""
    services.ensure_reception(site)
    if not site.queues.exists():
        for position, (label, letter) in enumerate(reasons, start=1):
            services.save_queue(None, site, label=label, letter=letter, position=position)
    if not site.counters.exists():
        for position, (label, kind) in enumerate(counters, start=1):
            services.save_counter(None, site, label=label, kind=kind, position=position)


def _moments(hours, count, rng):
    """*count* entry times spread over a day's opening intervals (busier at opening)."""
    spans = [
        (datetime.combine(date.min, opens), datetime.combine(date.min, closes))
        for opens, closes in hours
    ]
    total = sum((end - start).total_seconds() for start, end in spans)
    times = []
    for _ in range(count):
        offset = min(rng.betavariate(1.3, 2.2), 0.97) * total
        for start, end in spans:
            length = (end - start).total_seconds()
            if offset < length:
                times.append((start + timedelta(seconds=offset)).time())
                break
            offset -= length
    return sorted(times)


def history_rows(site, queues, counters, *, first: date, last: date, base: int, rng):
    """The tickets of every open day between first and last (inclusive)."""
    calendar = site.calendar()
    tz = calendar.tz
    rows = []
    day = first
    desks = [c for c in counters if not c.is_visio]
    visios = [c for c in counters if c.is_visio]
    while day <= last:
        hours = calendar.hours[day.weekday()]
        if hours and workdays.is_working_day(day, calendar):
            load = SEASON[day.month] * WEEKDAY.get(day.weekday(), 1)
            count = max(1, round(base * load * rng.uniform(0.8, 1.2)))
            for moment in _moments(hours, count, rng):
                entered = datetime.combine(day, moment, tzinfo=tz)
                # Longer waits when the day is busy; a few long ones (the 20-min line).
                wait = timedelta(minutes=rng.expovariate(1 / (6 + 7 * (load - 0.6))))
                queue = rng.choice(queues)
                luck = rng.random()
                visio = bool(visios) and rng.random() < 0.08
                counter = rng.choice(visios if visio else desks or counters)
                row = dict(
                    day=day,
                    queue=queue,
                    entered_at=entered,
                    counter=counter,
                    visio=False,
                    called_at=None,
                    started_at=None,
                    finished_at=None,
                )
                if luck < 0.04:  # left before being called: not a visit
                    row.update(status=Status.ABANDONED, counter=None, finished_at=entered + wait)
                elif luck < 0.065:  # called, nobody came: not a visit
                    row.update(
                        status=Status.NO_SHOW,
                        called_at=entered + wait,
                        finished_at=entered + wait + timedelta(minutes=3),
                    )
                else:
                    called = entered + wait
                    started = called + timedelta(minutes=rng.uniform(0.5, 2))
                    row.update(
                        status=Status.DONE,
                        called_at=called,
                        started_at=started,
                        visio=visio,
                        finished_at=started + timedelta(minutes=rng.uniform(5, 25)),
                    )
                rows.append(row)
        day += timedelta(days=1)
    return rows


def live_queue(site, queues, counters, now, rng):
    """Today's queue at the site, built through the ordinary services."""
    start = now - timedelta(minutes=100)
    entries = sorted(start + timedelta(minutes=rng.uniform(0, 98)) for _ in range(16))
    for moment in entries:
        services.take_ticket(site, rng.choice(queues), now=moment)
    desks = [c for c in counters if c.is_active]
    clock = start + timedelta(minutes=10)
    for _round in range(4):
        for counter in desks:
            clock += timedelta(minutes=rng.uniform(2, 6))
            if clock >= now:
                return
            ticket = services.call_next(None, counter, now=clock)
            if ticket is None:
                continue
            if _round < 3:
                services.start_serving(None, ticket, now=clock + timedelta(minutes=1))
                services.finish(None, ticket, now=clock + timedelta(minutes=rng.uniform(3, 9)))


def seed(stdout) -> None:
    """Demo hook called by `seed_demo` (idempotent)."""
    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None:
        return
    now = timezone.now()
    today = timezone.localdate(now)
    first, last = today - timedelta(days=365), today - timedelta(days=1)
    created = 0
    for slug, (reasons, counters, base) in SITES.items():
        site = caf.sites.filter(slug=slug).first()
        if site is None:
            continue
        setup_site(site, reasons, counters)
        if Ticket.objects.filter(site=site, source=SOURCE).exists():
            continue
        rng = random.Random(f"voix-demo-accueil-{slug}")
        queues = list(site.queues.filter(is_active=True))
        desks = list(site.counters.filter(is_active=True))
        rows = history_rows(site, queues, desks, first=first, last=last, base=base, rng=rng)
        created += services.record_history(site, rows, source=SOURCE)
        calendar = site.calendar()
        hours = calendar.hours[today.weekday()] if workdays.is_working_day(today, calendar) else ()
        local = timezone.localtime(now).time()
        open_now = any(opens <= local < closes for opens, closes in hours)
        if (
            slug == "laval-siege"
            and hours
            and not Ticket.objects.filter(site=site, day=today).exists()
        ):
            # Outside opening hours, the demo still shows a morning's queue.
            moment = (
                now
                if open_now
                else datetime.combine(today, time(11, 0), tzinfo=timezone.get_current_timezone())
            )
            if moment <= now:
                live_queue(site, queues, desks, moment, rng)
    if created:
        stdout.write(f"Accueil de démonstration : {created} tickets sur un an.\n")
        _recompute_wait_indicator(caf, today)


def _recompute_wait_indicator(caf, today):
    """The « attente ≤ 20 minutes » results of the last 12 months, from the roll-ups."""
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator

    indicator = Indicator.objects.filter(
        code="attente-20-min", organisation__isnull=True, source="reception.wait"
    ).first()
    if indicator is None:
        return
    last = periods.period_start("month", today.replace(day=1) - timedelta(days=1))
    measures.recompute(indicator, caf, "month", periods.previous_periods("month", last, 12))
