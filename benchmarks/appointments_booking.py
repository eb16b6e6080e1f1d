"""Bookings from 20 concurrent clients on PostgreSQL: throughput, collisions, and zero double
bookings checked after the run.

One site, 10 advisors open Monday to Friday 09:00–12:00 and 13:30–16:30, one 20-minute
reason: a week of slots (900 advisor-starts, fewer when the week has a holiday). CLIENTS (20)
processes — each its own PostgreSQL connection, as behind several app servers — start
together and loop like people on the booking page: read the week's free slots
(``services.available_slots``), pick one of the first ten (people want the soonest, so they
collide), book it through ``services.book`` (validation, advisor choice, occupancy cells,
audit line, confirmation task queued on commit). A ``SlotTaken`` is a collision: the client
tries again with a fresh list. They stop when the week is full or after DURATION_S (30)
seconds.

Afterwards a SQL query counts pairs of active appointments of one advisor that overlap
(``double_bookings``, must be 0) and checks every appointment holds exactly its 5-minute cells.

    uv run python benchmarks/appointments_booking.py
    CLIENTS=8 DURATION_S=10 uv run python benchmarks/appointments_booking.py

BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server;
the database ``bench_booking`` (BENCH_DB) is created and dropped by the script.
"""

import multiprocessing
import os
import random
import sys
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = os.environ.get("BENCH_DB", "bench_booking")
CLIENTS = int(os.environ.get("CLIENTS", "20"))
ADVISORS = int(os.environ.get("ADVISORS", "10"))
DURATION_S = float(os.environ.get("DURATION_S", "30"))
PERIODS = ((clock(9), clock(12)), (clock(13, 30), clock(16, 30)))


def admin_connection():
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        print(f"PostgreSQL injoignable ({error}) : mesure sautée.", file=sys.stderr)
        return None


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DEBUG", "true")
    os.environ["DJANGO_SETTINGS_MODULE"] = "voix.settings"
    # the confirmation is queued (a task row), as in production
    os.environ.setdefault("TASK_BACKEND", "database")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def build():
    from voix.appointments import services
    from voix.core import services as core
    from voix.core.models import Role

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
        None, caf, label="Question sur mon dossier", duration_minutes=20, sites=[site]
    )
    for i in range(ADVISORS):
        person = core.create_person(
            None, email=f"conseiller{i}@caf53.localhost", full_name=f"Conseiller {i:02d}"
        )
        core.add_membership(None, person, caf, Role.AGENT, site=site)
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
    return reason, site


def client(n, reason_id, site_id, monday, go, deadline_s, results):
    """One person after another on the booking page, until the week is full or time is up."""
    from django.db import connections

    from voix.appointments import services
    from voix.appointments.models import Channel, Mode, Reason
    from voix.core.models import Site

    connections.close_all()  # never share the parent's connection
    reason, site = Reason.objects.get(pk=reason_id), Site.objects.get(pk=site_id)
    rng = random.Random(n)
    booked = collisions = errors = 0
    go.wait()
    deadline = time.perf_counter() + deadline_s
    while time.perf_counter() < deadline:
        slots = services.available_slots(reason, site, start=monday, days=5)
        if not slots:
            break
        choice = rng.choice(slots[:10])
        try:
            services.book(
                None,
                reason,
                site=site,
                mode=Mode.ON_SITE,
                starts_at=choice.starts_at,
                channel=Channel.PUBLIC,
                full_name=f"Personne {n}-{booked}",
                email=f"personne{n}.{booked}@example.org",
                consent=True,
            )
            booked += 1
        except services.SlotTaken:
            collisions += 1
        except Exception as exc:  # noqa: BLE001 — counted and shown
            errors += 1
            print(f"client {n}: {type(exc).__name__}: {exc}", file=sys.stderr)
    connections.close_all()
    results.put((booked, collisions, errors))


def check() -> tuple[int, int, int]:
    """(active appointments, overlapping pairs per advisor, appointments whose cells are wrong)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM appointments_appointment "
            "WHERE status IN ('prevu', 'honore', 'absent')"
        )
        active = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM appointments_appointment a
            JOIN appointments_appointment b
              ON a.advisor_id = b.advisor_id AND a.id < b.id
             AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at
            WHERE a.status IN ('prevu', 'honore', 'absent')
              AND b.status IN ('prevu', 'honore', 'absent')
            """
        )
        overlapping = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM appointments_appointment a
            WHERE (SELECT count(*) FROM appointments_occupancy o WHERE o.appointment_id = a.id)
                  <> EXTRACT(EPOCH FROM a.ends_at - a.starts_at) / 300
            """
        )
        wrong_cells = cursor.fetchone()[0]
    return active, overlapping, wrong_cells


def main():
    admin = admin_connection()
    if admin is None:
        return
    admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {BENCH_DB}")
    try:
        setup_django(f"{POSTGRES_URL.rsplit('/', 1)[0]}/{BENCH_DB}")
        from django.db import connections
        from django.utils import timezone

        from voix.appointments import services

        reason, site = build()
        today = timezone.localdate()
        monday = today + timedelta(days=7 - today.weekday())  # next week, inside the horizon
        capacity = sum(
            len(s.advisor_ids) for s in services.available_slots(reason, site, start=monday, days=5)
        )
        connections.close_all()

        context = multiprocessing.get_context("fork")
        go, results = context.Barrier(CLIENTS + 1), context.Queue()
        workers = [
            context.Process(
                target=client, args=(n, reason.pk, site.pk, monday, go, DURATION_S, results)
            )
            for n in range(CLIENTS)
        ]
        for worker in workers:
            worker.start()
        go.wait()
        t0 = time.perf_counter()
        totals = [results.get() for _ in workers]
        wall = time.perf_counter() - t0
        for worker in workers:
            worker.join()
        booked = sum(t[0] for t in totals)
        collisions = sum(t[1] for t in totals)
        errors = sum(t[2] for t in totals)
        active, overlapping, wrong_cells = check()
        assert active == booked, (active, booked)
        print(
            f"BENCH appointments.booking.postgresql clients={CLIENTS} advisors={ADVISORS} "
            f"week_capacity={capacity} bookings={booked} wall_s={wall:.1f} "
            f"per_s={booked / wall:.1f} collisions={collisions} errors={errors} "
            f"double_bookings={overlapping} wrong_cells={wrong_cells} "
            f"load1={os.getloadavg()[0]:.1f}",
            flush=True,
        )
        connections.close_all()
        if overlapping or wrong_cells or errors:
            raise SystemExit("ERREUR : double réservation ou erreur pendant la mesure.")
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.close()


if __name__ == "__main__":
    main()
