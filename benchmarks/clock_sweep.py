"""Clock sweep over a million open contacts on PostgreSQL (target: under 5 s).

Creates the database `bench_clock`, migrates it, loads 1 000 000 open contacts with COPY
(deadlines computed by the numpy calendar, `clocks.deadlines_for_arrays`), then runs
`clocks.sweep()` — the same function `manage.py run_clock` runs — three times:

- `…postgresql.first`: the first sweep ever, the day before, over the whole unswept
  backlog (every overdue contact flagged at once: the worst case, printed for reference);
- `…postgresql`: the routine sweep just after midnight, the heaviest of a day (every
  deadline of the day before is missed at 23:59:59, those of the day ahead enter their
  warning window) — the case the 5 s target is about;
- `…postgresql.again`: the same sweep again at the same instant, which sends nothing
  (`resent=0`).

The database is dropped at the end.

    uv run python benchmarks/clock_sweep.py
    CONTACTS=100000 uv run python benchmarks/clock_sweep.py

BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server.
The backlog: contacts received over the 30 days before, on all channels, 60 % of the
written ones already acknowledged, spread over 5 sites and 50 agents.
"""

import io
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTACTS = int(os.environ.get("CONTACTS", "1000000"))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "bench_clock"
# Wednesday 18 November 2026, 00:05: just after the deadlines of Tuesday.
NOW = datetime(2026, 11, 18, 0, 5, tzinfo=ZoneInfo("Europe/Paris"))


def admin_connection():
    import psycopg

    return psycopg.connect(POSTGRES_URL, autocommit=True)


def create_database():
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database():
    from django.db import connections

    connections.close_all()
    with admin_connection() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def setup_django():
    base = POSTGRES_URL.rsplit("/", 1)[0]
    os.environ["DATABASE_URL"] = f"{base}/{BENCH_DB}"
    os.environ.setdefault("DEBUG", "true")
    os.environ["TASK_BACKEND"] = "database"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voix.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_world():
    from datetime import time as clock

    from voix.core import services
    from voix.core.models import Role

    caf = services.create_organisation(
        None, name="Caf de banc", slug="caf-banc", kind="organisme", departement="53"
    )
    sites = []
    for i in range(5):
        site = services.create_site(
            None,
            caf,
            name=f"Agence {i}",
            slug=f"agence-{i}",
            kind="agence",
            address="1 rue A",
            postcode="53000",
            commune="Laval",
            insee_code="53130",
        )
        services.set_opening_hours(
            None,
            site,
            [(d, clock(8, 30), clock(12)) for d in range(5)]
            + [(d, clock(13, 30), clock(16, 30)) for d in range(5)],
        )
        sites.append(site)
    agents = []
    for i in range(50):
        user = services.create_person(None, email=f"agent{i}@banc.localhost", full_name=f"A {i}")
        services.add_membership(None, user, caf, Role.AGENT, site=sites[i % 5])
        agents.append(user)
    return caf, sites, agents


def load_contacts(caf, sites, agents):
    """COPY the backlog; returns the seconds spent computing deadlines and loading."""
    from django.db import connection

    from voix.contacts import clocks
    from voix.contacts.models import Channel, Contact

    rng = np.random.default_rng(53)
    n = CONTACTS
    channels = np.array(Channel.values)
    weights = np.array([20, 10, 30, 15, 10, 10, 3, 2], dtype=float)
    channel = channels[rng.choice(len(channels), size=n, p=weights / weights.sum())]
    now_utc = np.datetime64(NOW.astimezone(UTC).replace(tzinfo=None), "us")
    received = now_utc - rng.integers(60, 30 * 24 * 3600, size=n).astype("timedelta64[s]")
    received = received.astype("datetime64[us]")
    written = np.isin(channel, [Channel.EMAIL, Channel.MESSAGING, Channel.LETTER])
    acknowledged = written & (rng.random(n) < 0.6)
    site_index = rng.integers(0, len(sites), size=n)
    agent_index = rng.integers(0, len(agents), size=n)

    t0 = time.perf_counter()
    deadlines = {}
    # One calendar per site: deadlines site by site, as imports do.
    for s, site in enumerate(sites):
        mask = site_index == s
        part = clocks.deadlines_for_arrays(
            caf,
            site,
            channel=channel[mask],
            reason_id=[None] * int(mask.sum()),
            received=received[mask],
            ack_done=acknowledged[mask],
            answer_done=np.zeros(int(mask.sum()), dtype=bool),
            running=np.ones(int(mask.sum()), dtype=bool),
        )
        for key, values in part.items():
            deadlines.setdefault(key, np.full(n, np.datetime64("NaT", "us")))[mask] = values
    deadline_s = time.perf_counter() - t0

    def text(values):
        out = np.datetime_as_string(values, unit="s").astype(object) + "+00"
        return np.where(np.isnat(values), "\\N", out)

    ack_at = np.where(acknowledged, received + np.timedelta64(3600, "s"), np.datetime64("NaT"))
    columns = [
        np.full(n, str(caf.pk)),
        np.array([str(sites[i].pk) for i in range(len(sites))])[site_index],
        np.array([str(a.pk) for a in agents])[agent_index],
        channel,
        text(received),
        text(ack_at.astype("datetime64[us]")),
        np.where(acknowledged, "accuse", "nouveau"),
        text(deadlines["ack_due_at"]),
        text(deadlines["answer_due_at"]),
        text(deadlines["due_at"]),
        text(deadlines["warn_at"]),
    ]
    names = [
        "organisation_id",
        "site_id",
        "assignee_id",
        "channel",
        "received_at",
        "acknowledged_at",
        "status",
        "ack_due_at",
        "answer_due_at",
        "due_at",
        "warn_at",
    ]
    constant = {
        "requester_ref": "",
        "subject": "",
        "source": "",
        "external_id": "",
        "outcome": "",
        "returns": "0",
        "paused_days": "0",
        "paused_seconds": "0",
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    suffix = "\t" + "\t".join(constant.values()) + "\n"
    t0 = time.perf_counter()
    payload = io.StringIO()
    payload.writelines(
        "\t".join(row) + suffix for row in zip(*(c.tolist() for c in columns), strict=True)
    )
    payload.seek(0)
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        if os.environ.get("FILLFACTOR"):
            cursor.execute(
                f"ALTER TABLE {table} SET (fillfactor = {int(os.environ['FILLFACTOR'])})"
            )
        with cursor.connection.cursor().copy(
            f"COPY {table} ({', '.join(names + list(constant))}) FROM STDIN"
        ) as copy:
            while chunk := payload.read(1 << 20):
                copy.write(chunk)
    # What a database looks like after a bulk load settles: vacuumed and analysed.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {table}")
    return deadline_s, time.perf_counter() - t0


def phases(report) -> str:
    return " ".join(f"{k}_s={v:.2f}" for k, v in report.timings.items())


def main():
    try:
        create_database()
    except Exception as error:  # noqa: BLE001 - the server may simply be absent
        print(f"PostgreSQL injoignable ({error}) : banc ignoré.", file=sys.stderr)
        return
    try:
        setup_django()
        from voix.contacts import clocks
        from voix.contacts.models import ClockNotice, Contact

        caf, sites, agents = build_world()
        deadline_s, load_s = load_contacts(caf, sites, agents)
        opened = Contact.objects.open().count()
        # First sweep ever, the day before: flags the whole backlog (the worst case).
        t0 = time.perf_counter()
        first = clocks.sweep(now=NOW - timedelta(days=1))
        first_s = time.perf_counter() - t0
        print(
            f"BENCH contacts.clock_sweep.postgresql.first contacts={opened} "
            f"seconds={first_s:.2f} warned={first.warned} breached={first.breached} "
            f"deadlines_s={deadline_s:.2f} load_s={load_s:.2f} " + phases(first)
        )
        # The routine sweep just after midnight, the heaviest of a day: every deadline of
        # the day before is missed at 23:59:59, and those of the day ahead enter warning.
        t0 = time.perf_counter()
        report = clocks.sweep(now=NOW)
        sweep_s = time.perf_counter() - t0
        print(
            f"BENCH contacts.clock_sweep.postgresql contacts={opened} seconds={sweep_s:.2f} "
            f"warned={report.warned} breached={report.breached} " + phases(report)
        )
        t0 = time.perf_counter()
        again = clocks.sweep(now=NOW)
        resweep_s = time.perf_counter() - t0
        total = first.warned + first.breached + report.warned + report.breached
        assert ClockNotice.objects.count() == total
        print(
            f"BENCH contacts.clock_sweep.postgresql.again contacts={opened} "
            f"seconds={resweep_s:.2f} resent={again.warned + again.breached}"
        )
    finally:
        drop_database()


if __name__ == "__main__":
    main()
