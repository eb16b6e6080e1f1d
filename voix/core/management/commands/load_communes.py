"""Load or update the communes gazetteer (core.Commune) from a CSV file.

    manage.py load_communes voix/core/data/communes-demo.csv

Columns (header line required, any order): insee_code, name, postcode, latitude, longitude;
separated by « ; » or « , »; UTF-8 (a BOM is accepted). A row whose INSEE code exists
updates that commune. Any bad value stops the load with a message naming the line and the
column, and nothing is written.
"""

import csv
import math
import unicodedata
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from voix.core.models import Commune

COLUMNS = ("insee_code", "name", "postcode", "latitude", "longitude")


def commune_search_name(text: str) -> str:
    """« Château-Gontier-sur-Mayenne » → « chateau gontier sur mayenne »: lower case, no
    accents, hyphens and apostrophes as spaces, so « st berthevin » finds Saint-Berthevin."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).lower()
    for sep in ("-", "'", "’", "_", ".", ","):
        text = text.replace(sep, " ")
    words = text.split()
    words = ["saint" if w == "st" else "sainte" if w == "ste" else w for w in words]
    return " ".join(words)


def _number(raw: str, low: float, high: float, example: str) -> float:
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise ValueError(f"« {raw} » n'est pas un nombre (ex. {example})") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"« {raw} » doit être compris entre {low:g} et {high:g}")
    return value


def _check(column: str, raw: str):
    raw = raw.strip()
    if column == "insee_code":
        if not (len(raw) == 5 and raw.isalnum()):
            raise ValueError(f"« {raw} » : le code INSEE compte 5 caractères (ex. 53130)")
        return raw.upper()
    if column == "name":
        if not raw:
            raise ValueError("le nom de la commune est vide")
        if len(raw) > 120:
            raise ValueError("le nom dépasse 120 caractères")
        return raw
    if column == "postcode":
        if not (len(raw) == 5 and raw.isdigit()):
            raise ValueError(f"« {raw} » : le code postal compte 5 chiffres (ex. 53000)")
        return raw
    if column == "latitude":
        return _number(raw, -90, 90, "48.0707")
    return _number(raw, -180, 180, "-0.7734")


def read_communes(path: Path) -> list[dict]:
    """The rows of *path*, checked; CommandError (in French, with line and column) if any
    value is wrong. Reads everything before anything is written."""
    name = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path} : fichier introuvable.") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise CommandError(
            f"{name}, ligne {line} : le fichier n'est pas en UTF-8 ; enregistrez-le en UTF-8 "
            "puis recommencez."
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise CommandError(f"{name} : le fichier est vide (ligne d'en-tête attendue).")
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader)]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise CommandError(
            f"{name}, ligne 1 : colonne{'s' if len(missing) > 1 else ''} manquante"
            f"{'s' if len(missing) > 1 else ''} : {', '.join(missing)} (attendu : "
            f"{';'.join(COLUMNS)})."
        )
    index = {column: header.index(column) for column in COLUMNS}
    rows, seen = [], {}
    for line_number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        row = {}
        for column in COLUMNS:
            position = index[column]
            if position >= len(cells):
                raise CommandError(
                    f"{name}, ligne {line_number}, colonne {position + 1} ({column}) : valeur "
                    f"manquante (la ligne n'a que {len(cells)} colonnes)."
                )
            try:
                row[column] = _check(column, cells[position])
            except ValueError as exc:
                raise CommandError(
                    f"{name}, ligne {line_number}, colonne {position + 1} ({column}) : {exc}."
                ) from None
        if row["insee_code"] in seen:
            raise CommandError(
                f"{name}, ligne {line_number}, colonne {index['insee_code'] + 1} (insee_code) : "
                f"le code {row['insee_code']} figure déjà ligne {seen[row['insee_code']]}."
            )
        seen[row["insee_code"]] = line_number
        rows.append(row)
    return rows


@transaction.atomic
def load_communes(rows: list[dict]) -> tuple[int, int]:
    """Upsert *rows* (checked by read_communes); (created, updated)."""
    existing = {
        c.insee_code: c
        for c in Commune.objects.filter(insee_code__in=[r["insee_code"] for r in rows])
    }
    new, changed = [], []
    for row in rows:
        fields = {**row, "search_name": commune_search_name(row["name"])}
        commune = existing.get(row["insee_code"])
        if commune is None:
            new.append(Commune(**fields))
            continue
        for key, value in fields.items():
            setattr(commune, key, value)
        changed.append(commune)
    Commune.objects.bulk_create(new, batch_size=1000)
    Commune.objects.bulk_update(
        changed, ["name", "search_name", "postcode", "latitude", "longitude"], batch_size=1000
    )
    return len(new), len(changed)


class Command(BaseCommand):
    help = (
        "Charge les communes (code INSEE, nom, code postal, latitude, longitude) d'un fichier "
        "CSV, pour proposer les lieux de rendez-vous les plus proches."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Fichier CSV (colonnes " + ";".join(COLUMNS) + ").")

    def handle(self, *args, file, **options):
        rows = read_communes(Path(file))
        created, updated = load_communes(rows)
        self.stdout.write(
            f"{created} commune{'s' if created > 1 else ''} ajoutée{'s' if created > 1 else ''}, "
            f"{updated} mise{'s' if updated > 1 else ''} à jour."
        )
