"""The daily roll-up of the reception queue (VisitDay), rebuilt from the raw tickets.

A ticket's change schedules, on commit, the rebuild of its site's day: the counts are then
read from committed data, so two agents finishing tickets at once cannot lose one.
Rebuilding is idempotent (the same tickets give the same row).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from django.db import transaction

from voix.core.models import Site

from .models import WAIT_LIMIT, Status, Ticket, VisitDay

LIMIT_SECONDS = WAIT_LIMIT.total_seconds()


def _figures(rows) -> dict:
    """Counts of one site-day from (status, entered, called, started, visio) rows."""
    figures = dict(
        tickets=0,
        visits=0,
        visio_visits=0,
        within_20=0,
        wait_seconds_total=0,
        abandoned=0,
        no_show=0,
    )
    for status, entered_at, called_at, started_at, visio in rows:
        figures["tickets"] += 1
        if started_at is None:  # no contact: not a visit (Caf definition)
            if status == Status.ABANDONED:
                figures["abandoned"] += 1
            elif status == Status.NO_SHOW:
                figures["no_show"] += 1
            continue
        figures["visits"] += 1
        figures["visio_visits"] += int(bool(visio))
        wait = max(((called_at or started_at) - entered_at).total_seconds(), 0)
        figures["wait_seconds_total"] += int(round(wait))
        figures["within_20"] += int(wait <= LIMIT_SECONDS)
    return figures


COLUMNS = ("status", "entered_at", "called_at", "started_at", "visio")


def refresh(site: Site | int, days: Iterable[date]) -> None:
    """Rebuild the VisitDay rows of *site* for *days* from its tickets (idempotent)."""
    site = site if isinstance(site, Site) else Site.objects.get(pk=site)
    days = sorted(set(days))
    if not days:
        return
    by_day = defaultdict(list)
    for day, *row in Ticket.objects.filter(site=site, day__in=days).values_list("day", *COLUMNS):
        by_day[day].append(row)
    with transaction.atomic():
        for day in days:
            rows = by_day.get(day, [])
            if not rows:
                VisitDay.objects.filter(site=site, day=day).delete()
                continue
            VisitDay.objects.update_or_create(
                site=site,
                day=day,
                defaults={"organisation_id": site.organisation_id, **_figures(rows)},
            )


def refresh_on_commit(site_id: int, day: date) -> None:
    """Schedule the rebuild of one site-day after the current transaction commits."""
    transaction.on_commit(lambda: refresh(site_id, [day]))


def rebuild(sites, start: date | None = None, end: date | None = None) -> int:
    """Rebuild every site-day of *sites* (optionally between start and end inclusive) in
    bulk: one pass over the tickets, bulk writes. Returns the number of rows written."""
    written = 0
    for site in sites:
        tickets = Ticket.objects.filter(site=site)
        existing = VisitDay.objects.filter(site=site)
        if start:
            tickets, existing = tickets.filter(day__gte=start), existing.filter(day__gte=start)
        if end:
            tickets, existing = tickets.filter(day__lte=end), existing.filter(day__lte=end)
        by_day = defaultdict(list)
        for day, *row in tickets.values_list("day", *COLUMNS).iterator(chunk_size=5000):
            by_day[day].append(row)
        with transaction.atomic():
            existing.delete()
            VisitDay.objects.bulk_create(
                [
                    VisitDay(
                        organisation_id=site.organisation_id, site=site, day=day, **_figures(rows)
                    )
                    for day, rows in sorted(by_day.items())
                ],
                batch_size=1000,
            )
        written += len(by_day)
    return written
