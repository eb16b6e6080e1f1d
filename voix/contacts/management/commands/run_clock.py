"""Sweep the deadline clocks: warn assignees before deadlines, flag the missed ones.

Run it every few minutes (cron or a systemd timer, see docs/contacts.md). Several copies
may run at the same time: each notice is sent once.
"""

from django.core.management.base import BaseCommand

from voix.contacts.clocks import sweep


class Command(BaseCommand):
    help = "Balaye les échéances des contacts : alerte avant l'échéance, signale les dépassements."

    def add_arguments(self, parser):
        parser.add_argument(
            "--lot", type=int, default=50000, help="Contacts traités par transaction (50 000)."
        )

    def handle(self, *args, **options):
        report = sweep(batch=options["lot"])
        self.stdout.write(
            f"Balayage terminé : {report.warned} avertissement(s), "
            f"{report.breached} dépassement(s) signalé(s)."
        )
