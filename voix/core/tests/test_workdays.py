"""Tests of the working-day calendar (voix.core.workdays).

Hand-checked facts first, then property-based tests against a slow reference
implementation written here independently of the `holidays` package and of
numpy.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from voix.core.workdays import (
    DEFAULT_HOURS,
    REGIONS,
    WorkCalendar,
    add_working_days,
    add_working_days_bulk,
    effective_start,
    is_working_day,
    next_opening,
    public_holidays,
    region_for_departement,
    region_for_insee,
    working_days_between,
    working_days_between_bulk,
)

PARIS = ZoneInfo("Europe/Paris")
METROPOLE = WorkCalendar()


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


# --- Hand-checked facts -------------------------------------------------------


def test_metropole_holidays_2026():
    assert sorted(public_holidays("metropole", 2026)) == [
        date(2026, 1, 1),
        date(2026, 4, 6),
        date(2026, 5, 1),
        date(2026, 5, 8),
        date(2026, 5, 14),
        date(2026, 5, 25),
        date(2026, 7, 14),
        date(2026, 8, 15),
        date(2026, 11, 1),
        date(2026, 11, 11),
        date(2026, 12, 25),
    ]
    assert public_holidays("metropole", 2026)[date(2026, 5, 14)] == "Ascension"


def test_alsace_moselle_adds_good_friday_and_saint_stephen():
    extra = public_holidays("alsace-moselle", 2026).keys() - public_holidays("metropole", 2026)
    assert extra == {date(2026, 4, 3), date(2026, 12, 26)}


@pytest.mark.parametrize(
    "region, day",
    [
        ("974", date(2026, 12, 20)),
        ("971", date(2026, 5, 27)),
        ("972", date(2026, 5, 22)),
        ("973", date(2026, 6, 10)),
        ("976", date(2026, 4, 27)),
    ],
)
def test_overseas_abolition_of_slavery(region, day):
    holidays_ = public_holidays(region, 2026)
    assert holidays_[day] == "Abolition de l'esclavage"
    assert day not in public_holidays("metropole", 2026)
    assert public_holidays("metropole", 2026).keys() <= holidays_.keys()


def test_public_holidays_returns_a_copy():
    public_holidays("metropole", 2026).clear()
    assert len(public_holidays("metropole", 2026)) == 11


def test_region_lookup():
    assert region_for_departement("57") == "alsace-moselle"
    assert region_for_departement("67") == "alsace-moselle"
    assert region_for_departement("68") == "alsace-moselle"
    assert region_for_departement("974") == "974"
    assert region_for_departement("2A") == "metropole"
    assert region_for_departement("2B") == "metropole"
    assert region_for_departement("53") == "metropole"
    assert region_for_departement("975") == "metropole"
    assert region_for_insee("97411") == "974"
    assert region_for_insee("97611") == "976"
    assert region_for_insee("57463") == "alsace-moselle"
    assert region_for_insee("2A004") == "metropole"
    assert region_for_insee("53130") == "metropole"
    with pytest.raises(ValueError, match="5 characters"):
        region_for_insee("974")


def test_time_zones():
    assert str(WorkCalendar("alsace-moselle").tz) == "Europe/Paris"
    assert str(WorkCalendar("971").tz) == "America/Guadeloupe"
    assert str(WorkCalendar("972").tz) == "America/Martinique"
    assert str(WorkCalendar("973").tz) == "America/Cayenne"
    assert str(WorkCalendar("974").tz) == "Indian/Reunion"
    assert str(WorkCalendar("976").tz) == "Indian/Mayotte"


def test_receipt_friday_evening_counts_from_monday():
    assert effective_start(paris(2026, 3, 13, 18, 0), METROPOLE) == date(2026, 3, 16)
    assert effective_start(paris(2026, 3, 13, 16, 29), METROPOLE) == date(2026, 3, 13)
    # Exactly at closing time is after closing.
    assert effective_start(paris(2026, 3, 13, 16, 30), METROPOLE) == date(2026, 3, 16)
    # Before opening and during lunch still count from that day.
    assert effective_start(paris(2026, 3, 13, 6, 0), METROPOLE) == date(2026, 3, 13)
    assert effective_start(paris(2026, 3, 13, 12, 30), METROPOLE) == date(2026, 3, 13)


def test_receipt_on_ascension_counts_from_friday():
    assert effective_start(paris(2026, 5, 14, 10, 0), METROPOLE) == date(2026, 5, 15)
    assert add_working_days(paris(2026, 5, 14, 10, 0), 0, METROPOLE) == date(2026, 5, 15)


def test_receipt_uses_the_calendar_time_zone():
    # 14:00 UTC is 15:00 in Paris (open) and 18:00 in La Réunion (closed).
    received = datetime(2026, 3, 13, 14, 0, tzinfo=UTC)
    assert effective_start(received, METROPOLE) == date(2026, 3, 13)
    assert effective_start(received, WorkCalendar("974")) == date(2026, 3, 16)


def test_add_working_days_across_christmas():
    # 2025: Thursday 25 and Friday 26 December.
    assert add_working_days(date(2025, 12, 23), 3, METROPOLE) == date(2025, 12, 29)
    assert add_working_days(date(2025, 12, 23), 3, WorkCalendar("alsace-moselle")) == date(
        2025, 12, 30
    )
    assert working_days_between(date(2025, 12, 23), date(2025, 12, 29), METROPOLE) == 3
    assert working_days_between(date(2025, 12, 29), date(2025, 12, 23), METROPOLE) == -3


def test_date_start_is_rolled_forward():
    assert add_working_days(date(2026, 3, 14), 0, METROPOLE) == date(2026, 3, 16)
    assert add_working_days(date(2026, 3, 14), 1, METROPOLE) == date(2026, 3, 17)


def test_closures_are_honoured():
    cal = WorkCalendar(closures=frozenset({date(2026, 3, 16), date(2026, 3, 18)}))
    assert not is_working_day(date(2026, 3, 16), cal)
    assert effective_start(paris(2026, 3, 13, 18, 0), cal) == date(2026, 3, 17)
    assert add_working_days(date(2026, 3, 13), 2, cal) == date(2026, 3, 19)
    assert working_days_between(date(2026, 3, 13), date(2026, 3, 19), cal) == 2


def test_day_without_hours_is_open_all_day_for_receipt_but_closed_for_visits():
    no_hours = WorkCalendar(hours=((),) * 7)
    assert effective_start(paris(2026, 3, 13, 23, 59), no_hours) == date(2026, 3, 13)
    with pytest.raises(ValueError, match="does not open within 400 days"):
        next_opening(no_hours, paris(2026, 3, 13, 10, 0))


def test_next_opening_examples():
    assert next_opening(METROPOLE, paris(2026, 3, 10, 10, 0)) == paris(2026, 3, 10, 10, 0)
    assert next_opening(METROPOLE, paris(2026, 3, 10, 12, 0)) == paris(2026, 3, 10, 13, 30)
    assert next_opening(METROPOLE, paris(2026, 3, 13, 17, 0)) == paris(2026, 3, 16, 8, 30)
    assert next_opening(METROPOLE, paris(2026, 5, 13, 17, 0)) == paris(2026, 5, 15, 8, 30)
    result = next_opening(METROPOLE, datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    assert result == paris(2026, 3, 10, 10, 0) and result.tzinfo == PARIS
    # Saturday hours are ignored: Saturday is not a working day.
    saturday = WorkCalendar(hours=((),) * 5 + (((time(9), time(12)),), ()))
    with pytest.raises(ValueError):
        next_opening(saturday, paris(2026, 3, 13, 10, 0))


def test_validation_errors():
    with pytest.raises(ValueError, match="non-negative"):
        add_working_days(date(2026, 3, 13), -1, METROPOLE)
    with pytest.raises(ValueError, match="aware"):
        effective_start(datetime(2026, 3, 13, 10), METROPOLE)
    with pytest.raises(ValueError, match="unknown region"):
        WorkCalendar("975")
    with pytest.raises(ValueError, match="7 entries"):
        WorkCalendar(hours=((),) * 6)
    with pytest.raises(ValueError, match="overlap"):
        WorkCalendar(hours=(((time(9), time(12)), (time(11), time(14))),) + ((),) * 6)
    with pytest.raises(ValueError, match="empty"):
        WorkCalendar(hours=(((time(12), time(9)),),) + ((),) * 6)
    with pytest.raises(ValueError, match="non-negative"):
        add_working_days_bulk(np.array(["2026-03-13"], dtype="M8[D]"), [-1], METROPOLE)
    with pytest.raises(ValueError, match="NaT"):
        add_working_days_bulk(np.array(["NaT"], dtype="M8[D]"), [1], METROPOLE)


def test_calendar_is_hashable_and_normalised():
    cal = WorkCalendar(closures=[date(2026, 1, 2)], hours=[list(day) for day in DEFAULT_HOURS])
    assert cal == WorkCalendar(closures=frozenset({date(2026, 1, 2)}))
    assert hash(cal) == hash(WorkCalendar(closures=frozenset({date(2026, 1, 2)})))


def test_bulk_examples():
    starts = np.array(["2025-12-23", "2026-05-14"], dtype="M8[D]")
    result = add_working_days_bulk(starts, [3, 0], METROPOLE)
    assert result.dtype == np.dtype("M8[D]")
    assert result.tolist() == [date(2025, 12, 29), date(2026, 5, 15)]
    local = np.array(["2026-03-13T18:00", "2026-03-13T16:29"], dtype="M8[m]")
    assert add_working_days_bulk(local, 0, METROPOLE).tolist() == [
        date(2026, 3, 16),
        date(2026, 3, 13),
    ]
    counts = working_days_between_bulk(starts, starts + np.timedelta64(10, "D"), METROPOLE)
    assert counts.dtype == np.int64
    # Large n reaches years beyond the first guess of holiday coverage.
    far = add_working_days_bulk(np.array(["2026-01-01"], dtype="M8[D]"), [2500], METROPOLE)
    assert far[0].item() == add_working_days(date(2026, 1, 1), 2500, METROPOLE)


def test_bulk_extends_holiday_coverage_past_long_closures():
    # Four closed years push results far beyond the first coverage estimate.
    first = date(2027, 1, 1)
    closed = WorkCalendar(closures=frozenset(first + timedelta(days=k) for k in range(4 * 365)))
    start = np.array(["2026-12-01T17:00"], dtype="M8[m]")
    scalar_start = paris(2026, 12, 1, 17, 0)
    result = add_working_days_bulk(start, [300], closed)
    assert result[0].item() == add_working_days(scalar_start, 300, closed)
    assert result[0].item() == date(2032, 2, 10)
    inside = np.array(["2028-06-01T10:00"], dtype="M8[m]")
    later = np.array(["2031-12-31"], dtype="M8[D]")
    assert working_days_between_bulk(inside, later, closed).tolist() == [
        working_days_between(paris(2028, 6, 1, 10, 0), date(2031, 12, 31), closed)
    ]


# --- Reference implementation ---------------------------------------------------


def easter(year: int) -> date:
    """Easter Sunday, anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return date(year, month, day + 1)


def ref_holidays(region: str, year: int) -> set[date]:
    # Valid from 2008 (Whit Monday was not a holiday in 2005-2007).
    assert year >= 2008
    sunday = easter(year)
    days = {date(year, month, day) for month, day in [(1, 1), (5, 1), (5, 8), (7, 14)]}
    days |= {date(year, month, day) for month, day in [(8, 15), (11, 1), (11, 11), (12, 25)]}
    days |= {sunday + timedelta(days=k) for k in (1, 39, 50)}
    if region == "alsace-moselle":
        days |= {sunday - timedelta(days=2), date(year, 12, 26)}
    if region == "971":
        days |= {sunday - timedelta(days=2), sunday - timedelta(days=24)}
        days |= {date(year, 5, 27), date(year, 7, 21)}
    if region == "972":
        days |= {date(year, 5, 22), date(year, 7, 21)}
    if region == "973":
        days.add(date(year, 6, 10))
    if region == "974":
        days.add(date(year, 12, 20))
    if region == "976":
        days.add(date(year, 4, 27))
    return days


REF_TZ = {
    "metropole": "Europe/Paris",
    "alsace-moselle": "Europe/Paris",
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}


def ref_working(d: date, cal: WorkCalendar) -> bool:
    return d.weekday() < 5 and d not in ref_holidays(cal.region, d.year) and d not in cal.closures


def ref_next_working(d: date, cal: WorkCalendar) -> date:
    d += timedelta(days=1)
    while not ref_working(d, cal):
        d += timedelta(days=1)
    return d


def ref_effective(x, cal: WorkCalendar) -> date:
    if not isinstance(x, datetime):
        return x if ref_working(x, cal) else ref_next_working(x, cal)
    local = x.astimezone(ZoneInfo(REF_TZ[cal.region]))
    d = local.date()
    intervals = cal.hours[d.weekday()]
    closing = intervals[-1][1] if intervals else None
    if ref_working(d, cal) and (closing is None or local.time() < closing):
        return d
    return ref_next_working(d, cal)


def ref_add(start, n: int, cal: WorkCalendar) -> date:
    d = ref_effective(start, cal)
    while n:
        d = ref_next_working(d, cal)
        n -= 1
    return d


def ref_between(a, b, cal: WorkCalendar) -> int:
    a = ref_effective(a, cal) if isinstance(a, datetime) else a
    b = ref_effective(b, cal) if isinstance(b, datetime) else b
    count = 0
    d = a
    while d < b:
        d += timedelta(days=1)
        count += ref_working(d, cal)
    while d > b:
        count -= ref_working(d, cal)
        d -= timedelta(days=1)
    return count


def ref_is_open(local: datetime, cal: WorkCalendar) -> bool:
    t = local.time()
    return ref_working(local.date(), cal) and any(o <= t < c for o, c in cal.hours[local.weekday()])


QUARTER = timedelta(minutes=15)


def ref_next_opening(cal: WorkCalendar, at: datetime) -> datetime:
    """Step quarter-hour by quarter-hour (hours are on a quarter-hour grid and
    all offsets are whole hours), skipping to the next midnight on closed days."""
    tz = ZoneInfo(REF_TZ[cal.region])
    x = at.astimezone(UTC)
    if ref_is_open(x.astimezone(tz), cal):
        return x
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    x = epoch + -((epoch - x) // QUARTER) * QUARTER  # ceiling to the quarter-hour
    limit = at + timedelta(days=401)
    while x < limit:
        local = x.astimezone(tz)
        last = cal.hours[local.weekday()][-1:]
        if not ref_working(local.date(), cal) or not last or local.time() >= last[0][1]:
            x = datetime.combine(local.date() + timedelta(days=1), time(), tzinfo=tz)
            x = x.astimezone(UTC)
            continue
        if ref_is_open(local, cal):
            return x
        x += QUARTER
    raise ValueError("reference: no opening within 400 days")


# --- Strategies -----------------------------------------------------------------

FIRST, LAST = date(2009, 1, 1), date(2040, 12, 31)
days_ = st.dates(min_value=FIRST, max_value=LAST)
regions = st.sampled_from(REGIONS)


def quarter(q: int) -> time:
    return time(q // 4, q % 4 * 15)


@st.composite
def weekly_hours(draw):
    if draw(st.booleans()):
        return DEFAULT_HOURS
    week = []
    for _ in range(7):
        bounds = sorted(draw(st.sets(st.integers(0, 95), max_size=6)))
        bounds = bounds[: len(bounds) // 2 * 2]
        pairs = zip(bounds[::2], bounds[1::2], strict=True)
        week.append(tuple((quarter(o), quarter(c)) for o, c in pairs))
    return tuple(week)


@st.composite
def calendars(draw, near: date, hours=None):
    offsets = draw(st.lists(st.integers(-5, 40), max_size=12))
    return WorkCalendar(
        region=draw(regions),
        closures=frozenset(near + timedelta(days=k) for k in offsets),
        hours=draw(weekly_hours()) if hours is None else hours,
    )


@st.composite
def calendar_and_day(draw):
    day = draw(days_)
    return draw(calendars(day)), day


@st.composite
def local_moment(draw, day: date):
    """A naive local time on ``day``: on the quarter-hour grid or arbitrary."""
    if draw(st.booleans()):
        moment = datetime.combine(day, quarter(draw(st.integers(0, 95))))
    else:
        moment = datetime.combine(day, time()) + timedelta(
            microseconds=draw(st.integers(0, 86_400 * 10**6 - 1))
        )
    return moment


@st.composite
def calendar_and_moment(draw):
    """A calendar and an aware datetime, sometimes expressed in another zone."""
    cal, day = draw(calendar_and_day())
    moment = draw(local_moment(day)).replace(tzinfo=cal.tz)
    other = draw(st.sampled_from([None, UTC, PARIS, ZoneInfo("Indian/Reunion")]))
    return cal, moment if other is None else moment.astimezone(other)


@st.composite
def calendar_and_start(draw):
    """A calendar and a start that is either a date or an aware datetime."""
    if draw(st.booleans()):
        return draw(calendar_and_day())
    return draw(calendar_and_moment())


fast = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- Properties -------------------------------------------------------------------


@fast
@given(regions, st.integers(2009, 2040))
def test_public_holidays_match_reference(region, year):
    assert set(public_holidays(region, year)) == ref_holidays(region, year)


@fast
@given(calendar_and_day())
def test_is_working_day_matches_reference(cal_day):
    cal, day = cal_day
    for k in range(-3, 40):
        d = day + timedelta(days=k)
        assert is_working_day(d, cal) == ref_working(d, cal)


@fast
@given(calendar_and_start())
def test_effective_start_matches_reference(cal_start):
    cal, start = cal_start
    assert effective_start(start, cal) == ref_effective(start, cal)


@fast
@given(calendar_and_start(), st.integers(0, 60))
def test_add_working_days_matches_reference(cal_start, n):
    cal, start = cal_start
    assert add_working_days(start, n, cal) == ref_add(start, n, cal)


@fast
@given(calendar_and_start(), st.integers(-90, 90), st.booleans())
def test_working_days_between_matches_reference(cal_start, span, end_is_datetime):
    cal, a = cal_start
    b = (a + timedelta(days=span)) if end_is_datetime and isinstance(a, datetime) else None
    if b is None:
        b = (a.date() if isinstance(a, datetime) else a) + timedelta(days=span)
    assert working_days_between(a, b, cal) == ref_between(a, b, cal)


@fast
@given(calendar_and_start(), st.data())
def test_working_days_between_is_antisymmetric(first, data):
    cal, a = first
    day = a.date() if isinstance(a, datetime) else a
    other = day + timedelta(days=data.draw(st.integers(-800, 800)))
    as_date = data.draw(st.booleans())
    b = other if as_date else data.draw(local_moment(other)).replace(tzinfo=cal.tz)
    assert working_days_between(a, b, cal) == -working_days_between(b, a, cal)
    assert working_days_between(a, a, cal) == 0


@fast
@given(calendar_and_start(), st.integers(0, 60))
def test_round_trip(cal_start, n):
    cal, start = cal_start
    if not isinstance(start, datetime):
        assume(is_working_day(start, cal))
    assert working_days_between(start, add_working_days(start, n, cal), cal) == n


@fast
@given(calendar_and_moment())
def test_next_opening_matches_reference(cal_moment):
    cal, at = cal_moment
    try:
        expected = ref_next_opening(cal, at)
    except ValueError:
        with pytest.raises(ValueError):
            next_opening(cal, at)
        return
    result = next_opening(cal, at)
    assert result == expected
    assert result >= at
    assert result.tzinfo == cal.tz
    assert ref_is_open(result, cal)


# --- Bulk == scalar -----------------------------------------------------------------

DATETIME_UNITS = ["m", "s", "us"]


@st.composite
def bulk_values(draw, base: date, size: int):
    """Dates or naive local times near ``base``, as Python values and as an array."""
    spread = draw(st.sampled_from([45, 800]))
    offsets = draw(st.lists(st.integers(-10, spread), min_size=size, max_size=size))
    days = [base + timedelta(days=k) for k in offsets]
    unit = draw(st.sampled_from(["D", *DATETIME_UNITS]))
    if unit == "D":
        return days, np.array(days, dtype="M8[D]")
    moments = [draw(local_moment(d)) for d in days]
    array = np.array(moments, dtype=f"M8[{unit}]")
    return [np.datetime64(v, unit).item() for v in moments], array


@st.composite
def bulk_case(draw):
    """A calendar and ``size`` starts (dates or naive local times)."""
    base = draw(days_)
    size = draw(st.integers(1, 25))
    return draw(calendars(base)), base, size, *draw(bulk_values(base, size))


def as_scalar(value, cal: WorkCalendar):
    """The scalar equivalent of one bulk element (naive local time -> aware)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=cal.tz)
    return value


@fast
@given(bulk_case(), st.data())
def test_add_working_days_bulk_matches_scalar(case, data):
    cal, _, size, values, array = case
    ns = data.draw(st.lists(st.integers(0, 300), min_size=size, max_size=size))
    result = add_working_days_bulk(array, np.array(ns), cal)
    assert result.dtype == np.dtype("M8[D]")
    pairs = zip(values, ns, strict=True)
    expected = [add_working_days(as_scalar(v, cal), n, cal) for v, n in pairs]
    assert result.tolist() == expected


@fast
@given(bulk_case(), st.data())
def test_working_days_between_bulk_matches_scalar(case, data):
    cal, base, size, a_values, a = case
    b_values, b = data.draw(bulk_values(base, size))
    result = working_days_between_bulk(a, b, cal)
    assert result.dtype == np.int64
    expected = [
        working_days_between(as_scalar(x, cal), as_scalar(y, cal), cal)
        for x, y in zip(a_values, b_values, strict=True)
    ]
    assert result.tolist() == expected
    assert working_days_between_bulk(b, a, cal).tolist() == [-x for x in expected]
