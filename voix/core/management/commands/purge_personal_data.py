"""Erase the personal data whose retention period is over (to schedule once a day).

    manage.py purge_personal_data            # erase, print what was erased
    manage.py purge_personal_data --dry-run  # print what would be erased, erase nothing

Every type of data registered in ``voix.core.retention`` is purged for every organisation
with that organisation's period (``core:retention``), each in its own transaction; the
command can run again at any time (a second run erases nothing more). Prints one line per
type and organisation with something to erase, then the total per type. A purge that
fails is reported on the error output and the command ends with an error status, after
having applied all the others.
"""

from django.core.management.base import BaseCommand, CommandError

from voix.core import retention


class Command(BaseCommand):
    help = "Purge les données personnelles dont la durée de conservation est échue."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Compte ce qui serait supprimé sans rien supprimer.",
        )

    def handle(self, *args, dry_run=False, **options):
        lines = retention.purge_lines(dry_run=dry_run)
        verb = "à supprimer" if dry_run else "supprimé(s)"
        if dry_run:
            self.stdout.write("Simulation : rien n'est supprimé.")
        totals = {t.key: 0 for t in retention.data_types()}
        failures = [line for line in lines if line.error]
        for line in failures:
            self.stderr.write(
                f"ÉCHEC {line.organisation.name} — {line.data_type.label} : {line.error} "
                "(rien n'a été effacé pour ce type et cet organisme)"
            )
        for line in lines:
            totals[line.data_type.key] += line.count
            if line.count:
                self.stdout.write(
                    f"{line.organisation.name} — {line.data_type.label} "
                    f"(plus de {line.days} jours) : {line.count} {verb}"
                )
        for data_type in retention.data_types():
            self.stdout.write(f"Total {data_type.label} : {totals[data_type.key]} {verb}")
        if not totals:
            self.stdout.write("Aucun type de données n'est déclaré.")
        if failures:
            raise CommandError(
                f"{len(failures)} purge(s) en échec ; les autres ont été appliquées. "
                "Relancez la commande après correction : elle ne refait que ce qui reste."
            )
