"""Read models of the pages: today's live figures of a site, the display's last calls,
a ticket's place in its queue. Today's tickets of one site are few; history comes from
the VisitDay roll-up."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Sum
from django.utils import timezone

from .models import AT_COUNTER_STATUSES, WAIT_LIMIT, WAITING_STATUSES, Status, Ticket, VisitDay


def minutes(delta: timedelta | None) -> str:
    """« 7 min », « 1 h 05 » — or « — » when there is nothing to show."""
    if delta is None:
        return "—"
    total = max(int(delta.total_seconds() // 60), 0)
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d}"


@dataclass
class Figures:
    label: str
    waiting: int = 0
    longest: timedelta | None = None
    at_counter: int = 0
    visits: int = 0
    within_20: int = 0
    wait_total: timedelta = field(default_factory=timedelta)
    abandoned: int = 0

    @property
    def average(self) -> timedelta | None:
        return self.wait_total / self.visits if self.visits else None

    @property
    def within_share(self) -> str:
        if not self.visits:
            return "—"
        return f"{100 * self.within_20 / self.visits:.0f} %".replace(".", ",")

    @property
    def longest_text(self) -> str:
        return minutes(self.longest)

    @property
    def average_text(self) -> str:
        return minutes(self.average)


def site_figures(site, now: datetime) -> tuple[Figures, list[Figures]]:
    """Today's figures of *site*: (all reasons, [per reason])."""
    total = Figures("Tous motifs")
    per_queue = {q.pk: Figures(q.label) for q in site.queues.all()}
    rows = Ticket.objects.filter(site=site, day=timezone.localdate(now)).values_list(
        "queue_id", "status", "entered_at", "called_at", "started_at"
    )
    for queue_id, status, entered_at, called_at, started_at in rows:
        for figures in (total, per_queue.setdefault(queue_id, Figures("?"))):
            if status in WAITING_STATUSES:
                figures.waiting += 1
                # A transferred ticket already had its wait measured: this is its wait now.
                waited = now - entered_at
                if figures.longest is None or waited > figures.longest:
                    figures.longest = waited
            elif status in AT_COUNTER_STATUSES:
                figures.at_counter += 1
            elif status == Status.ABANDONED:
                figures.abandoned += 1
            if started_at is not None:
                wait = max((called_at or started_at) - entered_at, timedelta(0))
                figures.visits += 1
                figures.wait_total += wait
                figures.within_20 += int(wait <= WAIT_LIMIT)
    return total, [f for f in per_queue.values() if f.label != "?" or f.waiting or f.visits]


def month_share(site, now: datetime) -> dict:
    """This month's visits and share within 20 minutes, from the roll-up."""
    today = timezone.localdate(now)
    sums = VisitDay.objects.filter(
        site=site, day__gte=today.replace(day=1), day__lte=today
    ).aggregate(visits=Sum("visits"), within=Sum("within_20"), waited=Sum("wait_seconds_total"))
    visits = sums["visits"] or 0
    return {
        "visits": visits,
        "share": f"{100 * (sums['within'] or 0) / visits:.1f} %".replace(".", ",")
        if visits
        else "—",
        "average": minutes(timedelta(seconds=sums["waited"] / visits)) if visits else "—",
    }


def last_calls(site, now: datetime, limit: int = 6) -> list[Ticket]:
    """The last tickets called today at the site, newest first (for the display)."""
    return list(
        Ticket.objects.filter(
            site=site,
            day=timezone.localdate(now),
            status__in=[*AT_COUNTER_STATUSES],
            last_called_at__isnull=False,
        )
        .select_related("queue", "counter")
        .order_by("-last_called_at", "-pk")[:limit]
    )


def place_in_line(ticket: Ticket) -> int:
    """How many tickets of the same queue wait before this one."""
    return Ticket.objects.filter(
        site_id=ticket.site_id,
        day=ticket.day,
        queue_id=ticket.queue_id,
        status__in=WAITING_STATUSES,
        entered_at__lt=ticket.entered_at,
    ).count()
