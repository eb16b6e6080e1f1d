"""Availability of one appointment reason over 30 days across 40 advisors at one site:
Voix's engine and django-appointment, configured equivalently, on PostgreSQL.

Scenario (both sides): 40 advisors at one site, open Monday to Friday 09:00–12:00 and
13:30–16:30, one 20-minute reason, about half of every advisor's 20-minute starts already
booked over the 30 days ahead (and over the 60 days before, as history).

- Voix: ``voix.appointments.services.available_slots(reason, site, days=30)`` — one call
  returns every free start of the window with the advisors free then. Target: p95 < 50 ms.
- django-appointment (PyPI, latest, in its own virtualenv under
  benchmarks/peers/django_appointment/.venv, created by this script when missing):
  ``appointment.services.get_available_slots_for_staff(date, staff_member, weekday, service)``
  — what its slot view calls — for each of the 40 staff members on each of the 30 days
  (1 200 calls per repetition: the same information). It has one working-hours row per
  staff member and weekday, so the lunch break is an Unavailability on each working day.
  It runs in a subprocess with the virtualenv's python, on its own PostgreSQL database.

    uv run python benchmarks/appointments_availability.py
    REPEAT=50 PEER=0 uv run python benchmarks/appointments_availability.py   # Voix only
    PROFILE=1 PEER=0 uv run python benchmarks/appointments_availability.py   # + cProfile

REPEAT (200) timed repetitions after WARMUP (5). The peer takes seconds per repetition: it
stops after PEER_BUDGET_S (90) seconds of timing, with at least 3 repetitions, and says how
many it ran. BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names
the server; the databases ``bench_appointments`` (BENCH_DB) and ``bench_peer`` (PEER_DB) are
created and dropped by the script. When the server cannot be reached the bench says so and
exits without a figure.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB", "bench_appointments")
PEER_DB = os.environ.get("PEER_DB", "bench_peer")
PEER_DIR = ROOT / "benchmarks" / "peers" / "django_appointment"
PEER_VENV = PEER_DIR / ".venv"

SCENARIO = {
    "advisors": int(os.environ.get("ADVISORS", "40")),
    "days": int(os.environ.get("DAYS", "30")),
    "history_days": 60,
    "duration": 20,
    "booked_share": 0.5,
    "seed": 53,
    "warmup": int(os.environ.get("WARMUP", "5")),
    "repeat": int(os.environ.get("REPEAT", "200")),
    "peer_budget_s": float(os.environ.get("PEER_BUDGET_S", "90")),
}
PERIODS = ((clock(9), clock(12)), (clock(13, 30), clock(16, 30)))


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    rank = max(1, round(share * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# ----- PostgreSQL databases -----------------------------------------------------------------


def admin_connection():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL injoignable ({error}) : mesure sautée.", file=sys.stderr)
        return None


def fresh_database(admin, name: str) -> str:
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    return f"{POSTGRES_URL.rsplit('/', 1)[0]}/{name}"


# ----- Voix ----------------------------------------------------------------------------------


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "voix.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build_voix(scenario: dict, now: datetime):
    """The scenario through Voix's services (organisation, site, people, reason, opening
    slots); the prior bookings are bulk-loaded with their occupancy cells, as
    ``services.book`` leaves them (one Occupancy row per 5-minute cell)."""
    from django.db import connection, transaction

    from voix.appointments import services
    from voix.appointments.models import CELL, Appointment, Channel, Mode, Occupancy
    from voix.core import services as core
    from voix.core.models import Role, User

    with transaction.atomic():
        caf = core.create_organisation(
            None, name="Caf de la Mayenne", slug="caf-53", kind="organisme", departement="53"
        )
        site = core.create_site(
            None,
            caf,
            name="Laval",
            slug="laval",
            kind="siege",
            address="1 place de la Poste",
            postcode="53000",
            commune="Laval",
            insee_code="53130",
        )
        reason = services.save_reason(
            None,
            caf,
            label="Question sur mon dossier",
            duration_minutes=scenario["duration"],
            on_site=True,
            phone=True,
            video=True,
            sites=[site],
        )
        advisors = []
        for i in range(scenario["advisors"]):
            person = core.create_person(
                None, email=f"conseiller{i}@caf53.localhost", full_name=f"Conseiller {i:02d}"
            )
            core.add_membership(None, person, caf, Role.AGENT, site=site)
            advisors.append(person)
            for weekday in range(5):
                for starts, ends in PERIODS:
                    services.save_opening_slot(
                        None,
                        person,
                        site,
                        weekday=weekday,
                        starts=starts,
                        ends=ends,
                        valid_from=date(2020, 1, 1),
                    )
    tz = site.calendar().tz
    today = now.astimezone(tz).date()
    duration = timedelta(minutes=scenario["duration"])
    bookings = []
    for i, advisor in enumerate(advisors):
        rng = random.Random(scenario["seed"] * 1000 + i)
        for offset in range(-scenario["history_days"], scenario["days"] + 1):
            day = today + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for starts, ends in PERIODS:
                at = datetime.combine(day, starts, tz)
                while at + duration <= datetime.combine(day, ends, tz):
                    if rng.random() < scenario["booked_share"]:
                        bookings.append(
                            Appointment(
                                organisation=caf,
                                site=site,
                                reason=reason,
                                advisor=advisor,
                                mode=Mode.ON_SITE,
                                starts_at=at,
                                ends_at=at + duration,
                                channel=Channel.PUBLIC,
                                full_name="Camille Usager",
                                email="camille@example.org",
                                consent_at=now,
                                status="honore" if day < today else "prevu",
                                # unique by construction: 20 000 random references of
                                # 6 characters would collide now and then
                                reference=f"RDV-B{len(bookings):07d}",
                            )
                        )
                    at += duration
    with transaction.atomic():
        Appointment.objects.bulk_create(bookings, batch_size=2000)
        cells = []
        for appointment in bookings:
            at = appointment.starts_at
            while at < appointment.ends_at:
                cells.append(
                    Occupancy(
                        advisor_id=appointment.advisor_id, cell_start=at, appointment=appointment
                    )
                )
                at += CELL
        Occupancy.objects.bulk_create(cells, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    ahead = sum(1 for b in bookings if b.starts_at.date() >= today)
    assert User.objects.count() >= scenario["advisors"]
    return reason, site, ahead


def measure_voix(scenario: dict) -> dict:
    from django.utils import timezone

    from voix.appointments import services

    now = timezone.now()
    reason, site, booked = build_voix(scenario, now)
    days = scenario["days"]
    for _ in range(scenario["warmup"]):
        slots = services.available_slots(reason, site, days=days, now=now)
    timings, cpu = [], []
    for _ in range(scenario["repeat"]):
        t0, c0 = time.perf_counter(), time.process_time()
        services.available_slots(reason, site, days=days, now=now)
        timings.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    timings.sort()
    cpu.sort()
    if os.environ.get("PROFILE"):  # where the time goes, for whoever optimises the engine
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            services.available_slots(reason, site, days=days, now=now)
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    free_pairs = sum(len(s.advisor_ids) for s in slots)
    return {
        "booked": booked,
        "starts": len(slots),
        "free_pairs": free_pairs,
        "runs": len(timings),
        "p50_ms": statistics.median(timings),
        "p95_ms": percentile(timings, 0.95),
        "max_ms": timings[-1],
        # this process's CPU only (not the database server's): a busy machine inflates the
        # wall-clock figures, not this one
        "cpu_p50_ms": statistics.median(cpu),
    }


# ----- django-appointment (peer) ------------------------------------------------------------


def ensure_peer_venv() -> Path:
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        print("# création du virtualenv de django-appointment…", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        # uv's interpreters may lack ensurepip; the system python3 always has it.
        if not (PEER_VENV / "bin" / "pip").exists():
            subprocess.run(["python3", "-m", "venv", "--clear", str(PEER_VENV)], check=True)
        subprocess.run(
            [
                str(PEER_VENV / "bin" / "pip"),
                "install",
                "--quiet",
                "-r",
                str(PEER_DIR / "requirements.txt"),
            ],
            check=True,
        )
    return python


def measure_peer(scenario: dict, database_url: str) -> dict:
    python = ensure_peer_venv()
    process = subprocess.run(
        [str(python), str(PEER_DIR / "bench_peer.py"), json.dumps(scenario)],
        capture_output=True,
        text=True,
        cwd=PEER_DIR,
        env={
            **os.environ,
            "PEER_DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "peer_settings",
        },
    )
    if process.returncode != 0:
        print(process.stdout, process.stderr, file=sys.stderr)
        raise SystemExit("la mesure de django-appointment a échoué")
    return json.loads(process.stdout.strip().splitlines()[-1])


def main():
    admin = admin_connection()
    if admin is None:
        return
    try:
        base = f"advisors={SCENARIO['advisors']} days={SCENARIO['days']}"
        url = fresh_database(admin, BENCH_DB)
        setup_django(url)
        voix = measure_voix(SCENARIO)
        from django.db import connections

        connections.close_all()
        print(
            f"BENCH appointments.availability.voix {base} database=postgresql "
            f"booked_ahead={voix['booked']} starts={voix['starts']} "
            f"free_advisor_starts={voix['free_pairs']} runs={voix['runs']} "
            f"p50_ms={voix['p50_ms']:.1f} p95_ms={voix['p95_ms']:.1f} max_ms={voix['max_ms']:.1f} "
            f"client_cpu_p50_ms={voix['cpu_p50_ms']:.1f} "
            f"target_p95_ms=50 {'ok' if voix['p95_ms'] < 50 else 'MISSED'} "
            f"load1={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if os.environ.get("PEER", "1") != "0":
            # the site's public holidays become days off, as Voix's calendar closes them
            from django.utils import timezone

            from voix.core import workdays

            today = timezone.localdate()
            window = {today + timedelta(days=n) for n in range(SCENARIO["days"] + 1)}
            holidays = {
                day
                for year in {d.year for d in window}
                for day in workdays.public_holidays(workdays.region_for_insee("53130"), year)
            }
            scenario = {**SCENARIO, "holidays": sorted(d.isoformat() for d in holidays & window)}
            peer = measure_peer(scenario, fresh_database(admin, PEER_DB))
            print(
                f"BENCH appointments.availability.django_appointment {base} "
                f"version={peer['version']} database={peer['database']} "
                f"booked_ahead={peer['booked']} free_advisor_starts={peer['slots']} "
                f"calls_per_run={peer['calls_per_run']} runs={peer['runs']} "
                f"p50_ms={peer['p50_ms']:.1f} p95_ms={peer['p95_ms']:.1f} "
                f"voix_speedup_p50={peer['p50_ms'] / voix['p50_ms']:.0f} "
                f"load1={os.getloadavg()[0]:.1f}",
                flush=True,
            )
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"DROP DATABASE IF EXISTS {PEER_DB} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    main()
