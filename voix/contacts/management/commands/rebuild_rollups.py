"""manage.py rebuild_rollups: rebuild the daily roll-ups of contacts and calls."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from voix.contacts import rollups
from voix.contacts.models import Call, Contact
from voix.core.models import Organisation


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{option} : « {value} » n'est pas une date AAAA-MM-JJ.") from error


class Command(BaseCommand):
    help = (
        "Reconstruit les cumuls quotidiens des contacts et des appels (ContactDay, CallDay) "
        "de --depuis (par défaut le premier contact ou appel) à --jusqu-au (par défaut "
        "aujourd'hui), pour un organisme ou pour tous."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="identifiant (slug) d'un seul organisme")
        parser.add_argument("--depuis", help="premier jour, ex. 2026-01-01")
        parser.add_argument("--jusqu-au", dest="until", help="dernier jour (inclus)")

    def handle(self, *args, organisation=None, depuis=None, until=None, **options):
        today = timezone.localdate()
        last = _day(until, "--jusqu-au") if until else today
        organisations = Organisation.objects.all()
        if organisation:
            organisations = organisations.filter(slug=organisation)
            if not organisations.exists():
                raise CommandError(f"--organisation : aucun organisme « {organisation} ».")
        for each in organisations.order_by("slug"):
            first = _day(depuis, "--depuis") if depuis else self._first_day(each)
            if first is None:
                continue
            if first > last:
                raise CommandError("--depuis : ce jour est après --jusqu-au.")
            contact_rows, call_rows = rollups.rebuild(each, first, last)
            self.stdout.write(
                f"{each.slug} : du {first:%d/%m/%Y} au {last:%d/%m/%Y}, "
                f"{contact_rows} ligne(s) de contacts, {call_rows} ligne(s) d'appels"
            )

    def _first_day(self, organisation):
        tz = organisation.calendar().tz
        firsts = [
            Contact.objects.filter(organisation=organisation).aggregate(m=Min("received_at"))["m"],
            Call.objects.filter(organisation=organisation).aggregate(m=Min("started_at"))["m"],
        ]
        firsts = [f.astimezone(tz).date() for f in firsts if f is not None]
        return min(firsts) if firsts else None
