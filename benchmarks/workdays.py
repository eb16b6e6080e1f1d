"""Deadlines on the working-day calendar: scalar functions vs. the vectorised (numpy) forms.

Prints one BENCH line per case. Both forms are checked to agree on the measured sample.
"""

import os
import resource
import sys
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from voix.core import workdays  # noqa: E402

N = int(os.environ.get("BENCH_WORKDAYS_N", "200000"))
SCALAR_N = min(N, 20000)


def main():
    rng = np.random.default_rng(53)
    calendar = workdays.WorkCalendar(
        region="alsace-moselle", closures=frozenset({date(2026, 5, 15), date(2026, 12, 24)})
    )
    base = np.datetime64("2025-01-01T00:00", "m")
    starts = base + rng.integers(0, 3 * 365 * 24 * 60, size=N).astype("timedelta64[m]")
    ns = rng.integers(0, 30, size=N)

    # Warm up: the holidays package loads its French rules on first use.
    workdays.add_working_days_bulk(starts[:10], ns[:10], calendar)

    t0 = time.perf_counter()
    bulk = workdays.add_working_days_bulk(starts, ns, calendar)
    bulk_s = time.perf_counter() - t0

    tz = calendar.tz
    sample = [
        (datetime.fromisoformat(str(s)).replace(tzinfo=tz), int(n))
        for s, n in zip(starts[:SCALAR_N], ns[:SCALAR_N], strict=True)
    ]
    t0 = time.perf_counter()
    scalar = [workdays.add_working_days(s, n, calendar) for s, n in sample]
    scalar_s = time.perf_counter() - t0
    assert [np.datetime64(d, "D") for d in scalar] == list(bulk[:SCALAR_N]), "bulk != scalar"

    t0 = time.perf_counter()
    ends = starts.astype("datetime64[D]") + rng.integers(0, 60, size=N).astype("timedelta64[D]")
    workdays.working_days_between_bulk(starts.astype("datetime64[D]"), ends, calendar)
    between_s = time.perf_counter() - t0

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"BENCH workdays.add_working_days.scalar deadlines={SCALAR_N} "
        f"per_s={SCALAR_N / scalar_s:.0f} peak_rss_mb={rss}"
    )
    print(
        f"BENCH workdays.add_working_days.bulk deadlines={N} per_s={N / bulk_s:.0f} "
        f"speedup_vs_scalar={(N / bulk_s) / (SCALAR_N / scalar_s):.1f}"
    )
    print(f"BENCH workdays.working_days_between.bulk pairs={N} per_s={N / between_s:.0f}")


if __name__ == "__main__":
    main()
