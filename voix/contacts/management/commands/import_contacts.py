"""manage.py import_contacts FILE --profile NAME [--organisation SLUG]

Imports a CSV or XLSX file of contacts or of a telephony call log with a saved profile,
showing progress on stderr. The file lands whole or not at all: when a line is rejected,
nothing is written, the command exits with status 1 and writes the report (CSV) next to
the file.
"""

import os

from django.core.management.base import BaseCommand, CommandError

from voix.contacts import imports
from voix.contacts.models import ImportProfile, ImportRun
from voix.core.models import Organisation


def _number(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


class Command(BaseCommand):
    help = "Importe un fichier CSV ou XLSX de contacts ou de journal d'appels avec un profil."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV (; ou ,) ou XLSX")
        parser.add_argument("--profile", "--profil", required=True, help="nom du profil d'import")
        parser.add_argument(
            "--organisation",
            "--organisme",
            help="identifiant (slug) de l'organisme, si plusieurs ont un profil de ce nom",
        )
        parser.add_argument(
            "--report", "--rapport", help="où écrire le rapport des lignes rejetées (CSV)"
        )

    def handle(self, *args, file, profile, organisation=None, report=None, **options):
        if not os.path.isfile(file):
            raise CommandError(f"Fichier introuvable : {file}")
        profiles = ImportProfile.objects.filter(name=profile).select_related("organisation")
        if organisation:
            if not Organisation.objects.filter(slug=organisation).exists():
                raise CommandError(f"Aucun organisme « {organisation} ».")
            profiles = profiles.filter(organisation__slug=organisation)
        found = list(profiles[:2])
        if not found:
            where = f" pour l'organisme « {organisation} »" if organisation else ""
            raise CommandError(f"Aucun profil d'import « {profile} »{where}.")
        if len(found) > 1:
            raise CommandError(
                f"Plusieurs organismes ont un profil « {profile} » : précisez --organisation."
            )
        chosen = found[0]
        filename = os.path.basename(file)
        run = imports.start_run(None, chosen, os.path.abspath(file), filename)
        total = run.rows_total

        def err(text):
            self.stderr.write(text, ending="")
            self.stderr.flush()

        shown = {"phase": ""}

        def progress(phase, rows):
            if phase == "enregistrement":
                if shown["phase"] != phase:
                    err(f"\r  100 % ({_number(rows)} lignes vérifiées) — enregistrement…")
                shown["phase"] = phase
                return
            shown["phase"] = phase
            whole = max(total, rows, 1)
            err(f"\r  {rows * 100 // whole:3d} % ({_number(rows)} / {_number(whole)} lignes)")

        result = imports.execute_run(run, progress=progress, delete_file=False)
        err("\n")
        run.refresh_from_db()
        if run.state == ImportRun.State.REJECTED:
            target = report or os.path.splitext(os.path.abspath(file))[0] + "-rapport.csv"
            with open(target, "wb") as handle:
                handle.write(imports.report_csv(run))
            for entry in run.report[:10]:
                err(f"  ligne {entry['ligne']}, {entry['colonne']} : {entry['motif']}\n")
            if run.rejected > 10:
                err(f"  … ({run.rejected} lignes rejetées au total)\n")
            raise CommandError(
                f"Fichier « {filename} » refusé : {run.rejected} ligne(s) rejetée(s), rien n'a "
                f"été importé. Rapport : {target}",
                returncode=1,
            )
        self.stdout.write(
            f"Import de « {filename} » terminé : {_number(result.rows)} lignes, "
            f"{_number(result.created)} créée(s), {_number(result.updated)} mise(s) à jour."
        )
