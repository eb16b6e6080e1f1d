"""A year of contact indicators for 50 sites over 10 M contacts, on PostgreSQL.

Creates the database `bench_indicators`, migrates it, loads the national catalogue, 50
sites and a year of activity generated with numpy — 10 000 000 contacts on every channel
(deadlines from the numpy calendar, some answers late, some returns, rent receipts as
seasonal mass items, a stock still open) and a call log of half as many calls — with COPY.
Then it times:

- the full recomputation: `rollups.rebuild` for the year, then `measures.recompute` of
  every contact indicator (sources of voix.contacts.indicators) for the 12 months
  (target: under 10 s);
- the pilotage dashboard (`/pilotage/`, served from the measurements): 200 requests with
  the Django test client as a quality lead (target: p95 under 150 ms).

The database is dropped at the end.

    uv run python benchmarks/contacts_indicators.py
    CONTACTS=1000000 uv run python benchmarks/contacts_indicators.py

BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) names the server.
"""

import io
import os
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CONTACTS = int(os.environ.get("CONTACTS", "10000000"))
CALLS = int(os.environ.get("CALLS", str(CONTACTS // 2)))
SITES = int(os.environ.get("SITES", "50"))
REQUESTS = int(os.environ.get("REQUESTS", "200"))
CHUNK = 500_000
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
BENCH_DB = "bench_indicators"
PARIS = ZoneInfo("Europe/Paris")
FIRST, LAST = date(2025, 11, 1), date(2026, 10, 31)  # twelve whole months
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=PARIS)

CHANNELS = [
    # code, weight, written (clock running), answered at once
    ("accueil_sans_rdv", 18, False),
    ("accueil_rdv", 8, False),
    ("telephone", 30, False),
    ("courriel", 16, True),
    ("messagerie", 12, True),
    ("courrier", 10, True),
    ("visio", 2, False),
    ("relais", 4, True),
]
MONTH_VOLUME = [1.05, 0.95, 1.0, 0.95, 0.85, 0.95, 0.75, 0.6, 1.4, 1.2, 1.0, 0.85]
WEEKDAY_VOLUME = [1.4, 1.05, 0.95, 0.85, 0.8, 0, 0]
PRESSURE = [0.2, 0, 0, 0, 0, 0.2, 0.6, 0.8, 1, 0.8, 0.3, 0.2]


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
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("load_frameworks", stdout=io.StringIO())
    settings.DEBUG = False  # no query log: it would grow with every query measured


def build_world():
    from datetime import time as clock

    from voix.contacts.models import Reason
    from voix.core import services
    from voix.core.models import Role

    caf = services.create_organisation(
        None, name="Caf de banc", slug="caf-banc", kind="organisme", departement="53"
    )
    hours = [(d, clock(8, 30), clock(12)) for d in range(5)]
    hours += [(d, clock(13, 30), clock(16, 30)) for d in range(5)]
    sites = []
    for i in range(SITES):
        site = services.create_site(
            None,
            caf,
            name=f"Agence {i:02d}",
            slug=f"agence-{i:02d}",
            kind="agence" if i else "siege",
            address="1 rue A",
            postcode="53000",
            commune="Laval",
            insee_code="53130",
        )
        services.set_opening_hours(None, site, hours)
        sites.append(site)
    quality = services.create_person(None, email="qualite@banc.localhost", full_name="Q")
    services.add_membership(None, quality, caf, Role.QUALITE)
    general = Reason.objects.create(organisation=caf, code="general", label="Général")
    seasonal = Reason.objects.create(
        organisation=caf, code="quittance", label="Quittance de loyer", seasonal_mass=True
    )
    return caf, sites, quality, general, seasonal


def _days_and_weights(cal):
    from voix.core import workdays

    days = np.arange(np.datetime64(FIRST), np.datetime64(LAST) + 1)
    weights = np.array(
        [
            MONTH_VOLUME[d.month - 1] * WEEKDAY_VOLUME[d.weekday()]
            if workdays.is_working_day(d, cal)
            else 0.0
            for d in days.astype(date).tolist()
        ]
    )
    return days, weights / weights.sum()


def _text(values):
    """datetime64[us] UTC → COPY text (\\N for NaT)."""
    out = np.datetime_as_string(values, unit="s").astype(object) + "+00"
    return np.where(np.isnat(values), "\\N", out)


def _local_to_utc(local_days, minutes):
    """Local wall-clock (day + minutes) → UTC datetime64[us] (Paris: +1 h or +2 h)."""
    naive = local_days.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
    # Summer time from the last Sunday of March to the last Sunday of October.
    summer = (naive >= np.datetime64("2026-03-29T01:00")) & (
        naive < np.datetime64("2026-10-25T01:00")
    )
    offset = np.where(summer, 120, 60).astype("timedelta64[m]")
    return (naive - offset).astype("datetime64[us]")


def _copy(table, names, columns, suffix_values):
    from django.db import connection

    suffix = ("\t" + "\t".join(suffix_values) if suffix_values else "") + "\n"
    payload = io.StringIO()
    payload.writelines("\t".join(row) + suffix for row in zip(*columns, strict=True))
    payload.seek(0)
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy,
    ):
        while chunk := payload.read(1 << 20):
            copy.write(chunk)


def load_contacts(caf, sites, general, seasonal):
    from voix.contacts import clocks
    from voix.contacts.models import Contact
    from voix.core import workdays

    cal = workdays.calendar_of(sites[0])
    days, weights = _days_and_weights(cal)
    site_weights = 1 / np.arange(1, len(sites) + 1) ** 0.6  # a big seat, smaller agencies
    site_weights /= site_weights.sum()
    site_ids = np.array([s.pk for s in sites])
    codes = np.array([c for c, _w, _x in CHANNELS])
    channel_weights = np.array([w for _c, w, _x in CHANNELS], dtype=float)
    written_codes = [c for c, _w, written in CHANNELS if written]
    now_utc = np.datetime64(NOW.astimezone(UTC).replace(tzinfo=None), "us")
    nat = np.datetime64("NaT", "us")
    rng = np.random.default_rng(53)
    names = [
        "organisation_id",
        "site_id",
        "channel",
        "reason_id",
        "received_at",
        "acknowledged_at",
        "first_answer_at",
        "closed_at",
        "status",
        "outcome",
        "returns",
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
        "paused_days": "0",
        "paused_seconds": "0",
        "created_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
    }
    done = 0
    while done < CONTACTS:
        n = min(CHUNK, CONTACTS - done)
        day = days[rng.choice(len(days), size=n, p=weights)]
        month = day.astype("datetime64[M]").astype(int) % 12  # 0 = January
        minutes = rng.integers(8 * 60, 18 * 60, size=n)
        received = _local_to_utc(day, minutes)
        channel = codes[rng.choice(len(codes), size=n, p=channel_weights / channel_weights.sum())]
        written = np.isin(channel, written_codes)
        mass = written & (channel == "courrier") & (month >= 8) & (rng.random(n) < 0.35)
        reason = np.where(mass, seasonal.pk, general.pk)
        site = site_ids[rng.choice(len(site_ids), size=n, p=site_weights)]
        returns = np.where(written & (rng.random(n) < 0.12), 1, 0)
        pressure = np.array(PRESSURE)[month]
        delay = rng.gamma(2.0, np.where(mass, 10, 2.6 + 4.5 * pressure)).astype(np.int64)
        delay += returns * rng.integers(3, 10, size=n)
        answer_day = workdays.add_working_days_bulk(day, delay, cal)
        ack_day = workdays.add_working_days_bulk(day, rng.integers(0, 9, size=n), cal)
        work_minutes = rng.integers(9 * 60, 16 * 60 + 30, size=n)
        answer_at = np.maximum(_local_to_utc(answer_day, work_minutes), received)
        ack_at = np.maximum(_local_to_utc(ack_day, work_minutes - 30), received)
        at_once = received + (rng.integers(3, 25, size=n) * 60_000_000).astype("timedelta64[us]")
        first_answer = np.where(written, answer_at, at_once)
        first_answer = np.where(first_answer > now_utc, nat, first_answer)
        acknowledged = np.where(written & (ack_at < answer_at) & (ack_at <= now_utc), ack_at, nat)
        closed = first_answer.copy()
        answered = ~np.isnat(first_answer)
        status = np.where(answered, "clos", np.where(np.isnat(acknowledged), "nouveau", "accuse"))
        outcome = np.where(
            answered, np.where(written, "reponse_apportee", "resolu_premier_contact"), ""
        )
        deadlines = clocks.deadlines_for_arrays(
            caf,
            sites[0],
            channel=channel.tolist(),
            reason_id=[None] * n,
            received=received,
            ack_done=~np.isnat(acknowledged) | answered,
            answer_done=answered,
            running=~answered,
        )
        columns = [
            np.full(n, str(caf.pk), dtype=object),
            site.astype(str).astype(object),
            channel.astype(object),
            reason.astype(str).astype(object),
            _text(received),
            _text(acknowledged),
            _text(first_answer),
            _text(closed),
            status.astype(object),
            outcome.astype(object),
            returns.astype(str).astype(object),
            _text(deadlines["ack_due_at"]),
            _text(deadlines["answer_due_at"]),
            _text(deadlines["due_at"]),
            _text(deadlines["warn_at"]),
        ]
        _copy(
            Contact._meta.db_table,
            names + list(constant),
            [c.tolist() for c in columns],
            list(constant.values()),
        )
        done += n
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Contact._meta.db_table}")


def load_calls(caf, sites):
    from voix.contacts.models import Call
    from voix.core import workdays

    days, weights = _days_and_weights(workdays.calendar_of(sites[0]))
    rng = np.random.default_rng(54)
    site_weights = 1 / np.arange(1, len(sites) + 1) ** 0.6
    site_weights /= site_weights.sum()
    site_ids = np.array([s.pk for s in sites])
    names = [
        "organisation_id",
        "site_id",
        "source",
        "external_id",
        "started_at",
        "outcome",
        "wait_seconds",
        "needs_agent",
        "line",
    ]
    done = 0
    while done < CALLS:
        n = min(CHUNK, CALLS - done)
        day = days[rng.choice(len(days), size=n, p=weights)]
        month = day.astype("datetime64[M]").astype(int) % 12
        agent_share = 0.86 - 0.14 * np.array(PRESSURE)[month]
        draw = rng.random(n)
        outcome = np.where(
            draw < agent_share, "agent", np.where(draw < agent_share + 0.07, "svi", "abandonne")
        )
        after_hours = rng.random(n) < 0.04
        outcome = np.where(after_hours, "abandonne", outcome)
        minutes = np.where(
            after_hours, rng.integers(17 * 60, 19 * 60, n), rng.integers(510, 990, n)
        )
        needs_agent = ~after_hours & (outcome != "svi")
        columns = [
            np.full(n, str(caf.pk), dtype=object),
            site_ids[rng.choice(len(site_ids), size=n, p=site_weights)].astype(str).astype(object),
            np.full(n, "banc", dtype=object),
            np.char.add("a", np.arange(done, done + n).astype(str)).astype(object),
            _text(_local_to_utc(day, minutes)),
            outcome.astype(object),
            rng.exponential(120, n).astype(int).astype(str).astype(object),
            np.where(needs_agent, "t", "f").astype(object),
            np.full(n, "", dtype=object),
        ]
        _copy(Call._meta.db_table, names, [c.tolist() for c in columns], [])
        done += n
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Call._meta.db_table}")


def recompute(caf):
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator
    from voix.contacts import indicators, rollups

    starts = []
    month = FIRST
    while month <= LAST:
        starts.append(month)
        month = periods.period_end("month", month)
    chosen = list(
        Indicator.objects.filter(organisation__isnull=True, source__in=list(indicators.SOURCES))
    )
    t0 = time.perf_counter()
    contact_rows, call_rows = rollups.rebuild(caf, FIRST, LAST)
    rollup_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    written = 0
    for indicator in chosen:
        report = measures.recompute(indicator, caf, "month", starts)
        written += report.created + report.updated + report.unchanged
    recompute_s = time.perf_counter() - t1
    return {
        "seconds": rollup_s + recompute_s,
        "rollups_s": rollup_s,
        "measures_s": recompute_s,
        "rollup_rows": contact_rows + call_rows,
        "indicators": len(chosen),
        "measurements": written,
    }


def dashboard(quality):
    import time_machine
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    client = Client()
    client.force_login(quality)
    timings = []
    with time_machine.travel(NOW, tick=True):
        for _ in range(5):  # warm-up
            assert client.get("/pilotage/").status_code == 200
        for _ in range(REQUESTS):
            t0 = time.perf_counter()
            response = client.get("/pilotage/")
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
    body = response.content.decode()
    assert "aucune donnée" not in body or "%" in body
    return np.percentile(timings, 50), np.percentile(timings, 95)


def main():
    try:
        create_database()
    except Exception as error:  # noqa: BLE001 - the server may simply be absent
        print(f"PostgreSQL injoignable ({error}) : banc ignoré.", file=sys.stderr)
        return
    try:
        setup_django()
        caf, sites, quality, general, seasonal = build_world()
        t0 = time.perf_counter()
        load_contacts(caf, sites, general, seasonal)
        load_calls(caf, sites)
        load_s = time.perf_counter() - t0
        import time_machine

        with time_machine.travel(NOW, tick=True):
            figures = recompute(caf)
            again = recompute(caf)
        print(
            f"BENCH contacts.indicators.recompute contacts={CONTACTS} sites={SITES} "
            f"seconds={figures['seconds']:.2f} rollups_s={figures['rollups_s']:.2f} "
            f"measures_s={figures['measures_s']:.2f} rollup_rows={figures['rollup_rows']} "
            f"indicators={figures['indicators']} measurements={figures['measurements']} "
            f"calls={CALLS} load_s={load_s:.1f}"
        )
        print(
            f"BENCH contacts.indicators.recompute_again contacts={CONTACTS} sites={SITES} "
            f"seconds={again['seconds']:.2f} rollups_s={again['rollups_s']:.2f} "
            f"measures_s={again['measures_s']:.2f}"
        )
        p50, p95 = dashboard(quality)
        print(
            f"BENCH contacts.indicators.dashboard requests={REQUESTS} p50_ms={p50:.1f} "
            f"p95_ms={p95:.1f}"
        )
    finally:
        drop_database()


if __name__ == "__main__":
    main()
