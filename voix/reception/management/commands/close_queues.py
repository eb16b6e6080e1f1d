"""Close the queues of past days (run each night, e.g. by cron at 22:00 or 05:00)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from voix.core.models import Site
from voix.reception import services
from voix.reception.models import OPEN_STATUSES, Ticket


class Command(BaseCommand):
    help = (
        "Clôt les tickets des jours passés restés ouverts (partis sans être reçus, absents, "
        "terminés) et efface les numéros de téléphone laissés pour les SMS."
    )

    def handle(self, *args, **options):
        now = timezone.now()
        today = timezone.localdate(now)
        old = Ticket.objects.filter(day__lt=today)
        sites = set(old.filter(status__in=OPEN_STATUSES).values_list("site", flat=True))
        sites |= set(old.exclude(phone="").values_list("site", flat=True))
        closed = 0
        for site in sorted(sites):
            closed += services.close_day(Site.objects.get(pk=site), now=now)
        self.stdout.write(f"Tickets clos : {closed} sur {len(sites)} site(s).")
