"""Import of a million contact rows from a French CSV, end to end, on SQLite and PostgreSQL.

The file is what a Caf's tools export: Windows-1252, « ; » separators, dates as
dd/mm/yyyy hh:mm, channel labels of the source system, reason labels with accents, site
names. Each import runs in a child process through the same service the page and the
command use (`voix.contacts.imports.import_file`: validation + write + deadlines +
roll-ups); the child reports its wall time and its peak RSS. For scale, the same rows are
also loaded raw: PostgreSQL COPY into a bare table and SQLite executemany inserts. And the
floor of each database (`floor_postgresql`, `floor_sqlite`): the rows the import wrote,
loaded into an empty copy of contacts_contact with no Python in between, then its indexes
built (and, on PostgreSQL, its foreign keys checked): what any import into that table
costs at least.

Each BENCH line also gives the rate without the roll-ups' rebuild
(`rows_per_s_without_rollups`) and the import's own timings: `validation_s` (reading and
checking the file; on PostgreSQL the rows stream to the server meanwhile, so it includes
waiting for it), `copy_wait_s` (PostgreSQL: the server finishing the rows after the last
one is read), `insert_s` / `indexes_s` (SQLite: first import, rows then indexes rebuilt),
`upsert_s` (a source already in Voix), `write_s`, `deadlines_s`, `commit_s`, `rollups_s`;
`rss_validation_mb` / `rss_write_mb` are the peak RSS before the roll-ups.

    uv run python benchmarks/contacts_import.py          # 1 000 000 rows
    ROWS=100000 uv run python benchmarks/contacts_import.py
    REIMPORT=1 ROWS=100000 uv run python benchmarks/contacts_import.py   # + the same file again

PostgreSQL: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names
the server; the database `bench_import` (or BENCH_DB) is created and dropped by the script.
When the server cannot be reached the PostgreSQL cases are skipped with a message.
"""

import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROWS = int(os.environ.get("ROWS", "1000000"))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB", "bench_import")  # another name for parallel runs

HEADER = [
    "N° demande",
    "Date de réception",
    "Canal",
    "Motif",
    "Agence",
    "Réf. allocataire",
    "Objet",
    "Date AR",
    "Date réponse",
    "Date clôture",
]
CHANNELS = [  # (label in the source system, weight)
    ("Téléphone", 40),
    ("Accueil sans RDV", 20),
    ("Accueil sur RDV", 10),
    ("Courriel", 12),
    ("Courrier", 8),
    ("Messagerie caf.fr", 7),
    ("Visio", 2),
    ("Relais France Services", 1),
]
CHANNEL_MAP = {
    "Téléphone": "telephone",
    "Accueil sans RDV": "accueil_sans_rdv",
    "Accueil sur RDV": "accueil_rdv",
    "Courriel": "courriel",
    "Courrier": "courrier",
    "Messagerie caf.fr": "messagerie",
    "Visio": "visio",
    "Relais France Services": "relais",
}
REASONS = [
    ("prime-activite", "Prime d'activité"),
    ("rsa", "Revenu de solidarité active"),
    ("aide-logement", "Aides au logement"),
    ("allocations-familiales", "Allocations familiales"),
    ("naissance", "Prestation d'accueil du jeune enfant"),
    ("changement-situation", "Changement de situation"),
    ("paiement", "Paiement et indus"),
    ("attestation", "Attestation de paiement"),
    ("aah", "Allocation aux adultes handicapés"),
    ("garde-enfant", "Complément de libre choix du mode de garde"),
]
SITES = ["Laval", "Mayenne", "Château-Gontier", "Évron", "Ernée"]


def generate(path: Path, rows: int, seed: int = 53) -> None:
    """The million-row file, as a French Excel export (Windows-1252, « ; »)."""
    rng = random.Random(seed)
    channels = [c for c, w in CHANNELS for _ in range(w)]
    end = datetime(2026, 10, 31, 18, 0)
    start = end - timedelta(days=365)
    span = int((end - start).total_seconds() // 60)
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        batch = []
        for i in range(rows):
            received = start + timedelta(minutes=rng.randrange(span))
            if received.weekday() >= 5:
                received -= timedelta(days=2)
            channel = rng.choice(channels)
            code, label = REASONS[rng.randrange(len(REASONS))]
            ack = answer = closed = ""
            fate = rng.random()
            if fate < 0.85:
                answered = received + timedelta(minutes=rng.randrange(5, 20 * 24 * 60))
                if answered < end:
                    answer = answered.strftime("%d/%m/%Y %H:%M")
                    if channel in ("Courriel", "Courrier", "Messagerie caf.fr"):
                        ack = (received + timedelta(minutes=rng.randrange(1, 60))).strftime(
                            "%d/%m/%Y %H:%M"
                        )
                    if fate < 0.7:
                        closed = answer
            batch.append(
                (
                    f"DEM-{i:08d}",
                    received.strftime("%d/%m/%Y %H:%M"),
                    channel,
                    label if i % 3 else code,
                    SITES[rng.randrange(len(SITES))],
                    f"ALLOC{rng.randrange(10**7):07d}",
                    "Demande de l'allocataire — pièce reçue" if i % 5 == 0 else "",
                    ack,
                    answer,
                    closed,
                )
            )
            if len(batch) >= 50000:
                writer.writerows(batch)
                batch.clear()
        writer.writerows(batch)


# ----- child: one import through the service -------------------------------------------


def child(database_url: str, csv_path: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "true")
    os.environ["TASK_BACKEND"] = "immediate"
    os.environ["DJANGO_SETTINGS_MODULE"] = "voix.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from voix.contacts import imports
    from voix.contacts.models import ImportKind, Reason
    from voix.core import services

    organisation = services.create_organisation(
        None, name="Caf de la Mayenne", slug="caf-53", kind="organisme", departement="53"
    )
    for name in SITES:
        services.create_site(
            None,
            organisation,
            name=name,
            slug=imports.plain(name).replace(" ", "-"),
            kind="agence",
            address="1 place de la Poste",
            postcode="53000",
            commune=name,
            insee_code="53130",
        )
    for code, label in REASONS:
        Reason.objects.create(organisation=organisation, code=code, label=label)
    profile = imports.save_profile(
        None,
        organisation,
        name="crm-caf",
        label="CRM de la Caf",
        kind=ImportKind.CONTACTS,
        source="crm",
        mapping={
            "external_id": "N° demande",
            "received_at": "Date de réception",
            "channel": "Canal",
            "reason": "Motif",
            "site": "Agence",
            "requester_ref": "Réf. allocataire",
            "subject": "Objet",
            "acknowledged_at": "Date AR",
            "first_answer_at": "Date réponse",
            "closed_at": "Date clôture",
        },
        value_maps={"channel": CHANNEL_MAP},
        date_format="%d/%m/%Y %H:%M",
    )
    from django.utils import timezone

    now = timezone.now()
    t0 = time.perf_counter()
    result = imports.import_file(None, profile, csv_path, "contacts.csv", now=now)
    wall = time.perf_counter() - t0
    if not result.ok:
        print(json.dumps({"error": [e.reason for e in result.errors[:5]]}))
        sys.exit(1)
    figures = {
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "wall_s": wall,
        "timings": result.timings,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }
    if os.environ.get("REIMPORT"):
        # A second import of the same file updates every row and creates none.
        t0 = time.perf_counter()
        again = imports.import_file(None, profile, csv_path, "contacts.csv", now=now)
        assert again.ok and (again.created, again.updated) == (0, result.rows), again
        figures["reimport"] = {
            "rows": again.rows,
            "wall_s": time.perf_counter() - t0,
            "timings": again.timings,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
    print(json.dumps(figures))


def run_child(case: str, database_url: str, csv_path: Path) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    process = subprocess.run(
        [sys.executable, __file__, "--child", database_url, str(csv_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if process.returncode != 0:
        print(process.stdout, process.stderr, file=sys.stderr)
        raise SystemExit(f"l'import {case} a échoué")
    figures = json.loads(process.stdout.strip().splitlines()[-1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if children > before:  # this child set the high-water mark: the kernel's own figure
        figures["peak_rss_mb"] = children // 1024
    return figures


def bench_line(case: str, figures: dict) -> str:
    timings = " ".join(f"{k}={v:.2f}" for k, v in figures["timings"].items())
    # The import without the roll-ups' rebuild (rollups.refresh, measured apart).
    own_s = figures["wall_s"] - figures["timings"].get("rollups_s", 0.0)
    return (
        f"BENCH contacts.import.{case} rows={figures['rows']} "
        f"rows_per_s={figures['rows'] / figures['wall_s']:.0f} "
        f"rows_per_s_without_rollups={figures['rows'] / own_s:.0f} "
        f"peak_rss_mb={figures['peak_rss_mb']} wall_s={figures['wall_s']:.2f} {timings}"
    )


# ----- peers: raw loads -----------------------------------------------------------------


def raw_sqlite(csv_path: Path, work: Path) -> float:
    import sqlite3

    with open(csv_path, encoding="cp1252", newline="") as handle:
        reader = csv.reader(handle, delimiter=";")
        next(reader)
        rows = list(reader)
    db = sqlite3.connect(work / "raw.sqlite3")
    db.execute(f"CREATE TABLE contacts ({', '.join(f'c{i} TEXT' for i in range(len(HEADER)))})")
    marks = ", ".join("?" * len(HEADER))
    t0 = time.perf_counter()
    with db:
        db.executemany(f"INSERT INTO contacts VALUES ({marks})", rows)
    elapsed = time.perf_counter() - t0
    db.close()
    return len(rows) / elapsed


def raw_copy(url: str, csv_path: Path) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as db:
        db.execute(
            f"CREATE TABLE raw_contacts ({', '.join(f'c{i} text' for i in range(len(HEADER)))})"
        )
        t0 = time.perf_counter()
        with (
            db.cursor() as cursor,
            cursor.copy(
                "COPY raw_contacts FROM STDIN "
                "(FORMAT csv, DELIMITER ';', HEADER true, ENCODING 'WIN1252')"
            ) as copy,
            open(csv_path, "rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        elapsed = time.perf_counter() - t0
        rows = db.execute("SELECT count(*) FROM raw_contacts").fetchone()[0]
        db.execute("DROP TABLE raw_contacts")
    return rows / elapsed


# ----- peers: the database alone, writing the imported rows into the same table ---------
# (the floor of the module's docstring; one transaction, as a first import does in
# imports._set_aside_postgresql)


def floor_postgresql(url: str, work: Path) -> dict:
    """Binary COPY of the imported rows, then the indexes, then the keys."""
    import psycopg

    rows_file = work / "contacts.bin"
    with psycopg.connect(url, autocommit=True) as db:
        with (
            open(rows_file, "wb") as out,
            db.cursor().copy("COPY contacts_contact TO STDOUT (FORMAT binary)") as copy,
        ):
            for data in copy:
                out.write(data)
        indexes = db.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'contacts_contact' "
            "AND indexname <> 'contacts_contact_pkey'"
        ).fetchall()
        keys = db.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'contacts_contact'::regclass AND contype = 'f'"
        ).fetchall()
        db.execute("CREATE TABLE floor_contact (LIKE contacts_contact INCLUDING DEFAULTS)")
        db.execute("ALTER TABLE floor_contact ADD PRIMARY KEY (id)")
        figures = {}
        t0 = time.perf_counter()
        with db.transaction():
            db.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as the import does
            with (
                open(rows_file, "rb") as handle,
                db.cursor().copy("COPY floor_contact FROM STDIN (FORMAT binary)") as copy,
            ):
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
            figures["copy_s"] = time.perf_counter() - t0
            for name, definition in indexes:
                db.execute(
                    definition.replace(
                        f" {name} ON public.contacts_contact ",
                        f" f_{name} ON public.floor_contact ",
                    )
                )
            figures["indexes_s"] = time.perf_counter() - t0 - figures["copy_s"]
            for name, definition in keys:
                db.execute(f"ALTER TABLE floor_contact ADD CONSTRAINT f_{name} {definition}")
        figures["wall_s"] = time.perf_counter() - t0
        figures["keys_s"] = figures["wall_s"] - figures["copy_s"] - figures["indexes_s"]
        db.execute("DROP TABLE floor_contact")
    rows_file.unlink()
    return figures


def floor_sqlite(path: Path) -> dict:
    """The rows copied inside the database (INSERT … SELECT, nothing parsed), then the
    indexes. A lower bound still: an import's rows come from outside."""
    import sqlite3

    db = sqlite3.connect(path, isolation_level=None)
    table = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'contacts_contact'"
    ).fetchone()[0]
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name = 'contacts_contact' AND sql IS NOT NULL"
    ).fetchall()
    db.execute(table.replace('"contacts_contact"', '"floor_contact"', 1))
    db.execute("PRAGMA threads = 2")  # as the import does
    figures = {}
    t0 = time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO floor_contact SELECT * FROM contacts_contact")
    figures["insert_s"] = time.perf_counter() - t0
    for name, definition in indexes:
        db.execute(
            definition.replace(f'"{name}"', f'"f_{name}"', 1).replace(
                'ON "contacts_contact"', 'ON "floor_contact"'
            )
        )
    db.execute("COMMIT")
    figures["wall_s"] = time.perf_counter() - t0
    figures["indexes_s"] = figures["wall_s"] - figures["insert_s"]
    db.execute("DROP TABLE floor_contact")
    db.close()
    return figures


def floor_line(case: str, rows: int, figures: dict) -> str:
    parts = " ".join(f"{k}={v:.2f}" for k, v in figures.items())
    return (
        f"BENCH contacts.import.floor_{case} rows={rows} "
        f"rows_per_s={rows / figures['wall_s']:.0f} {parts}"
    )


def _postgres_admin():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL injoignable ({error}) : cas PostgreSQL sautés.", file=sys.stderr)
        return None


def main():
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    try:
        csv_path = work / "contacts.csv"
        t0 = time.perf_counter()
        generate(csv_path, ROWS)
        size_mb = csv_path.stat().st_size / 1e6
        print(
            f"# fichier de {ROWS} lignes ({size_mb:.0f} Mo) généré en "
            f"{time.perf_counter() - t0:.1f} s",
            file=sys.stderr,
        )
        figures = run_child("sqlite", f"sqlite:///{work / 'bench.sqlite3'}", csv_path)
        print(bench_line("sqlite", figures), flush=True)
        if "reimport" in figures:
            print(bench_line("sqlite_reimport", figures["reimport"]), flush=True)
        floor = floor_sqlite(work / "bench.sqlite3")
        print(floor_line("sqlite", figures["rows"], floor), flush=True)
        admin = _postgres_admin()
        if admin is not None:
            base = POSTGRES_URL.rsplit("/", 1)[0]
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
            try:
                figures = run_child("postgresql", f"{base}/{BENCH_DB}", csv_path)
                print(bench_line("postgresql", figures), flush=True)
                if "reimport" in figures:
                    print(bench_line("postgresql_reimport", figures["reimport"]), flush=True)
                floor = floor_postgresql(f"{base}/{BENCH_DB}", work)
                print(floor_line("postgresql", figures["rows"], floor), flush=True)
                print(
                    f"BENCH contacts.import.raw_copy_postgresql rows={ROWS} "
                    f"rows_per_s={raw_copy(f'{base}/{BENCH_DB}', csv_path):.0f}",
                    flush=True,
                )
            finally:
                admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
                admin.close()
        print(
            f"BENCH contacts.import.raw_insert_sqlite rows={ROWS} "
            f"rows_per_s={raw_sqlite(csv_path, work):.0f}",
            flush=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
