"""Recompute the computed indicators (those whose source is in the registry)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from voix.commitments import measures, periods
from voix.core.models import Organisation


class Command(BaseCommand):
    help = (
        "Recalcule les indicateurs calculés (sources du registre) : mois par mois, depuis "
        "--since (par défaut le mois précédent) jusqu'au mois en cours."
    )

    def add_arguments(self, parser):
        parser.add_argument("--organisation", help="identifiant (slug) d'un seul organisme")
        parser.add_argument("--since", help="premier mois à recalculer, ex. 2026-01")

    def handle(self, *args, organisation=None, since=None, **options):
        today = timezone.localdate()
        this_month = periods.period_start("month", today)
        if since:
            try:
                _kind, first = periods.parse(since)
            except ValueError as error:
                raise CommandError(f"--since : {error}") from error
            first = periods.period_start("month", first)
        else:
            first = periods.period_start("month", this_month.replace(day=1) - timezone.timedelta(1))
        if first > this_month:
            raise CommandError("--since : ce mois est dans le futur.")
        starts = []
        month = first
        while month <= this_month:
            starts.append(month)
            month = periods.period_end("month", month)
        organisations = Organisation.objects.all()
        if organisation:
            organisations = Organisation.objects.filter(slug=organisation)
            if not organisations.exists():
                raise CommandError(f"--organisation : aucun organisme « {organisation} ».")
        for each in organisations.order_by("slug"):
            report = measures.recompute(None, each, "month", starts)
            self.stdout.write(
                f"{each.slug} : {report.created} créée(s), {report.updated} modifiée(s), "
                f"{report.unchanged} inchangée(s), {report.skipped} sans donnée"
            )
