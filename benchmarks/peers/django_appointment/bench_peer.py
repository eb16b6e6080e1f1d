"""django-appointment's side of benchmarks/appointments_availability.py.

Run by the peer's own virtualenv (``.venv/bin/python bench_peer.py '<json scenario>'``), never
by Voix's. It migrates its database (PEER_DATABASE_URL), builds the scenario with
django-appointment's own models, then times the function its booking page calls for the
slots of one staff member on one day — ``appointment.services.get_available_slots_for_staff``
(what the ``get_available_slots_ajax`` view returns) — for every staff member on every day of
the window: that is the information Voix's single ``available_slots(reason, site)`` call
returns. It prints one JSON line with the timings.

Equivalent configuration (django-appointment has one WorkingHours row per staff member and
weekday, so the lunch break is one Unavailability per staff member and working day):

- 40 StaffMember, WorkingHours Monday–Friday 09:00–16:30, Unavailability 12:00–13:30 on each
  working day of the window, slot_duration 20;
- one Service of 20 minutes offered by all of them;
- the public holidays of the window as DayOff rows (it has no holiday calendar);
- about half of the 20-minute starts of every staff member already booked (AppointmentRequest
  + Appointment), in the window and over the history before it.
"""

import json
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
# Migrations made for the installed version live in the virtualenv, not in the repository.
MIGRATIONS = HERE / ".venv" / "peer_migrations"
(MIGRATIONS / "appointment").mkdir(parents=True, exist_ok=True)
for package in (MIGRATIONS, MIGRATIONS / "appointment"):
    (package / "__init__.py").touch()
sys.path.insert(0, str(MIGRATIONS.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django  # noqa: E402

django.setup()

from appointment import models as am  # noqa: E402
from appointment.services import get_available_slots_for_staff  # noqa: E402
from appointment.utils.db_helpers import get_weekday_num_from_date  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

MORNING = (9 * 60, 12 * 60)
AFTERNOON = (13 * 60 + 30, 16 * 60 + 30)
DAY = (9 * 60, 16 * 60 + 30)


def hm(minutes: int):
    return (datetime(2000, 1, 1) + timedelta(minutes=minutes)).time()


def grid_starts(duration: int) -> list[int]:
    """The starts django-appointment offers: every *duration* from 09:00, outside the lunch
    unavailability, ending by 16:30."""
    starts, t = [], DAY[0]
    while t + duration <= DAY[1]:
        if t + duration <= MORNING[1] or t >= AFTERNOON[0]:
            starts.append(t)
        t += duration
    return starts


def build(scenario: dict) -> tuple[list, object]:
    advisors, days, history = scenario["advisors"], scenario["days"], scenario["history_days"]
    duration, share, seed = scenario["duration"], scenario["booked_share"], scenario["seed"]
    today = timezone.localdate()
    User = get_user_model()
    service = am.Service.objects.create(
        name="Question sur mon dossier",
        duration=timedelta(minutes=duration),
        price=0,
        currency="EUR",
    )
    am.Config.objects.create(slot_duration=duration, lead_time=hm(DAY[0]), finish_time=hm(DAY[1]))
    users = User.objects.bulk_create(
        [
            User(username=f"conseiller{i}", first_name="Conseiller", last_name=str(i))
            for i in range(advisors)
        ]
    )
    staff = am.StaffMember.objects.bulk_create(
        [am.StaffMember(user=u, slot_duration=duration, appointment_buffer_time=0) for u in users]
    )
    through = am.StaffMember.services_offered.through
    through.objects.bulk_create(
        [through(staffmember_id=s.pk, service_id=service.pk) for s in staff]
    )
    # day_of_week: 0 = Sunday … 6 = Saturday in django-appointment.
    am.WorkingHours.objects.bulk_create(
        [
            am.WorkingHours(
                staff_member=s, day_of_week=d, start_time=hm(DAY[0]), end_time=hm(DAY[1])
            )
            for s in staff
            for d in range(1, 6)
        ]
    )
    client = User.objects.create(username="usager", email="usager@example.org")
    window = [today + timedelta(days=n) for n in range(-history, days + 1)]
    workdays = [d for d in window if d.weekday() < 5]
    am.Unavailability.objects.bulk_create(
        [
            am.Unavailability(
                staff_member=s, date=d, start_time=hm(MORNING[1]), end_time=hm(AFTERNOON[0])
            )
            for s in staff
            for d in workdays
            if d >= today
        ]
    )
    # public holidays: a DayOff per staff member (django-appointment has no holiday calendar)
    am.DayOff.objects.bulk_create(
        [
            am.DayOff(staff_member=s, start_date=day, end_date=day, description="Jour férié")
            for s in staff
            for day in map(date.fromisoformat, scenario.get("holidays", []))
        ]
    )
    starts = grid_starts(duration)
    requests = []
    for i, s in enumerate(staff):
        rng = random.Random(seed * 1000 + i)
        for d in workdays:
            for t in starts:
                if rng.random() < share:
                    requests.append(
                        am.AppointmentRequest(
                            date=d,
                            start_time=hm(t),
                            end_time=hm(t + duration),
                            service=service,
                            staff_member=s,
                            id_request=f"r{len(requests)}",
                        )
                    )
    # bulk_create skips the models' save() (which refuses past dates): the history is
    # loaded as it would be after months of use.
    requests = am.AppointmentRequest.objects.bulk_create(requests, batch_size=2000)
    am.Appointment.objects.bulk_create(
        [
            am.Appointment(
                client=client,
                appointment_request=r,
                phone="+33612345678",
                amount_to_pay=0,
                id_request=f"a{n}",
            )
            for n, r in enumerate(requests)
        ],
        batch_size=2000,
    )
    return staff, service, len([r for r in requests if r.date >= today])


def main():
    scenario = json.loads(sys.argv[1])
    call_command("makemigrations", "appointment", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    with transaction.atomic():
        staff, service, booked = build(scenario)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    today = timezone.localdate()
    days = [today + timedelta(days=n) for n in range(scenario["days"])]
    staff = list(am.StaffMember.objects.all())

    def once() -> int:
        found = 0
        for d in days:
            weekday = get_weekday_num_from_date(d)
            for s in staff:
                found += len(get_available_slots_for_staff(d, s, weekday, service=service))
        return found

    slots = once()  # warm-up (one: each takes seconds)
    # Seconds per repetition: stop after the time budget (at least three repetitions).
    timings, budget = [], scenario["peer_budget_s"]
    started = time.perf_counter()
    for _ in range(scenario["repeat"]):
        t0 = time.perf_counter()
        once()
        timings.append((time.perf_counter() - t0) * 1000)
        if len(timings) >= 3 and time.perf_counter() - started > budget:
            break
    timings.sort()
    import appointment  # noqa: PLC0415

    version = getattr(appointment, "__version__", None)
    if not version:
        from importlib.metadata import version as dist_version  # noqa: PLC0415

        version = dist_version("django-appointment")
    print(
        json.dumps(
            {
                "version": version,
                "database": connection.vendor,
                "booked": booked,
                "slots": slots,
                "runs": len(timings),
                "p50_ms": statistics.median(timings),
                "p95_ms": timings[min(len(timings), max(1, round(0.95 * len(timings)))) - 1],
                "calls_per_run": len(days) * len(staff),
            }
        )
    )


if __name__ == "__main__":
    main()
