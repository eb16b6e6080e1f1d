"""Working-day calendar ("jours ouvrés") used for every deadline in Voix.

Rules
=====

Working day
    A day is a *working day* ("jour ouvré") when it is a Monday to Friday, is
    not a public holiday of the calendar's region and is not one of the
    calendar's ``closures`` (organisation-wide closure days plus a site's
    exceptional closure days). Saturdays are never working days, even for a
    site that opens on Saturday mornings: ``hours`` configured on Saturday or
    Sunday are ignored.

Regions and public holidays
    A region is ``"metropole"``, ``"alsace-moselle"`` (départements 57, 67
    and 68) or an overseas département code: ``"971"`` Guadeloupe, ``"972"``
    Martinique, ``"973"`` Guyane, ``"974"`` La Réunion, ``"976"`` Mayotte.
    Public holidays come from the ``holidays`` package (France and its
    subdivisions), labels in French:

    * every region: the 11 national holidays (1 January, Easter Monday,
      1 May, 8 May, Ascension, Whit Monday, 14 July, 15 August, 1 November,
      11 November, 25 December);
    * Alsace-Moselle adds Good Friday and 26 December;
    * each overseas département adds its abolition-of-slavery day (décret
      n° 83-1003): 27 May in Guadeloupe, 22 May in Martinique, 10 June in
      Guyane, 20 December in La Réunion, 27 April in Mayotte;
    * the package also gives Guadeloupe Good Friday, Mi-Carême and 21 July
      (Victor Schoelcher day), and Martinique 21 July. These are holidays by
      local custom ("jours chômés d'usage") rather than by the Code du
      travail. We keep the package's list as is; there is no way yet for a
      site to declare that it opens on a public holiday. Other customary days
      (Mardi gras, Ash Wednesday, 2 November) are not included: declare them
      as closures where sites close.

    Whit Monday is counted as a holiday even where it is used as the
    "journée de solidarité"; a site that opens that day is an exception we do
    not model.

Receipt rule
    A request received at an aware datetime is converted to the region's time
    zone. If that local day is a working day and the local time is strictly
    before the closing time of the day's last opening interval, the request
    counts from that day; otherwise (received at or after closing time, or on
    a non-working day) it counts from the next working day. If a working day
    has no opening hours configured, the whole day counts as open for this
    rule: the closing time is the end of the day, so any receipt that day
    counts from that day.

Deadlines
    ``add_working_days(start, n)`` returns the n-th working day after the
    effective start (``n = 0`` gives the effective start itself). A ``date``
    start is taken as-is, rolled forward to the next working day if it is not
    one; a ``datetime`` start goes through the receipt rule.

Opening hours
    Opening hours are local wall-clock times in the region's time zone. They
    are only used by the receipt rule (closing time) and by
    :func:`next_opening`, for which a day with no interval is closed. Only
    Europe/Paris observes daylight saving time among the supported zones, and
    its changes happen on Sunday nights, when no site is open: wall-clock
    hours therefore always map to a single instant on working days.

Bulk forms
    :func:`add_working_days_bulk` and :func:`working_days_between_bulk` do the
    same computations on numpy arrays with ``numpy.busday_offset`` and
    ``numpy.busday_count``; they give the same results as the scalar
    functions.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays
import numpy as np

__all__ = [
    "DEFAULT_HOURS",
    "REGIONS",
    "WorkCalendar",
    "add_working_days",
    "add_working_days_bulk",
    "effective_start",
    "is_working_day",
    "next_opening",
    "public_holidays",
    "region_for_departement",
    "region_for_insee",
    "working_days_between",
    "working_days_between_bulk",
]

#: Supported regions, see the module docstring.
REGIONS: tuple[str, ...] = ("metropole", "alsace-moselle", "971", "972", "973", "974", "976")

_TIME_ZONES: dict[str, str] = {
    "metropole": "Europe/Paris",
    "alsace-moselle": "Europe/Paris",
    "971": "America/Guadeloupe",
    "972": "America/Martinique",
    "973": "America/Cayenne",
    "974": "Indian/Reunion",
    "976": "Indian/Mayotte",
}

# Subdivision of ``holidays.France`` for each region. "57" (Moselle) and
# "6AE" (Alsace) give the same extra days (Good Friday and 26 December).
_HOLIDAY_SUBDIVISIONS: dict[str, str | None] = {
    "metropole": None,
    "alsace-moselle": "57",
    "971": "971",
    "972": "972",
    "973": "973",
    "974": "974",
    "976": "976",
}

_ALSACE_MOSELLE_DEPARTEMENTS = frozenset({"57", "67", "68"})
_OVERSEAS_DEPARTEMENTS = frozenset({"971", "972", "973", "974", "976"})

Interval = tuple[time, time]
DayHours = tuple[Interval, ...]

_MORNING = (time(8, 30), time(12, 0))
_AFTERNOON = (time(13, 30), time(16, 30))

#: Monday–Friday 08:30–12:00 and 13:30–16:30, closed on the weekend.
DEFAULT_HOURS: tuple[DayHours, ...] = ((_MORNING, _AFTERNOON),) * 5 + ((), ())

# How far next_opening looks ahead before giving up.
_OPENING_SEARCH_DAYS = 400

# numpy weekmask: Monday to Friday.
_WEEKMASK = "1111100"


def _check_region(region: str) -> None:
    if region not in _TIME_ZONES:
        raise ValueError(f"unknown region {region!r}; expected one of {', '.join(REGIONS)}")


def _normalise_hours(hours: Iterable[Iterable[Iterable[time]]]) -> tuple[DayHours, ...]:
    days = tuple(hours)
    if len(days) != 7:
        raise ValueError(f"hours must have 7 entries (Monday to Sunday), got {len(days)}")
    result = []
    for weekday, intervals in enumerate(days):
        normalised: list[Interval] = []
        for interval in intervals:
            opens, closes = interval
            for value in (opens, closes):
                if not isinstance(value, time) or value.tzinfo is not None:
                    raise ValueError(
                        f"hours[{weekday}]: opening hours must be naive datetime.time "
                        f"values, got {value!r}"
                    )
            if not opens < closes:
                raise ValueError(f"hours[{weekday}]: interval {opens}-{closes} is empty")
            if normalised and opens < normalised[-1][1]:
                raise ValueError(
                    f"hours[{weekday}]: intervals must be sorted and must not overlap "
                    f"({normalised[-1][0]}-{normalised[-1][1]} then {opens}-{closes})"
                )
            normalised.append((opens, closes))
        result.append(tuple(normalised))
    return tuple(result)


@dataclass(frozen=True)
class WorkCalendar:
    """The working-day calendar of a site.

    ``region`` selects the public holidays and the time zone (see
    :data:`REGIONS`). ``closures`` are extra non-working days: organisation
    closure days plus the site's exceptional closure days. ``hours`` are the
    weekly opening hours, Monday (index 0) to Sunday (index 6), each day a
    tuple of ``(opens, closes)`` naive local times, sorted and not
    overlapping; an empty tuple means no opening that day.

    Any iterable is accepted for ``closures`` and ``hours``; they are stored
    as a frozenset and nested tuples so that calendars are hashable.
    """

    region: str = "metropole"
    closures: frozenset[date] = field(default_factory=frozenset)
    hours: tuple[DayHours, ...] = DEFAULT_HOURS

    def __post_init__(self) -> None:
        _check_region(self.region)
        closures = frozenset(self.closures)
        for day in closures:
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"closures must contain datetime.date values, got {day!r}")
        object.__setattr__(self, "closures", closures)
        object.__setattr__(self, "hours", _normalise_hours(self.hours))

    @property
    def tz(self) -> ZoneInfo:
        """IANA time zone of the region."""
        return ZoneInfo(_TIME_ZONES[self.region])


def region_for_departement(code: str) -> str:
    """Region of a département code.

    ``"57"``, ``"67"`` and ``"68"`` give ``"alsace-moselle"``; ``"971"`` to
    ``"976"`` (except ``"975"``) give that code; anything else, Corsica
    (``"2A"``, ``"2B"``) included, gives ``"metropole"``.
    """
    code = code.strip().upper()
    if code in _ALSACE_MOSELLE_DEPARTEMENTS:
        return "alsace-moselle"
    if code in _OVERSEAS_DEPARTEMENTS:
        return code
    return "metropole"


def region_for_insee(insee_code: str) -> str:
    """Region of a commune from its 5-character INSEE code.

    The département is the first 3 characters for codes starting with
    ``"97"`` and the first 2 otherwise (``"97411"`` → ``"974"``,
    ``"57463"`` → ``"alsace-moselle"``, ``"2A004"`` → ``"metropole"``).
    """
    insee_code = insee_code.strip().upper()
    if len(insee_code) != 5:
        raise ValueError(f"an INSEE commune code has 5 characters, got {insee_code!r}")
    departement = insee_code[:3] if insee_code.startswith("97") else insee_code[:2]
    return region_for_departement(departement)


@cache
def _holiday_items(region: str, year: int) -> tuple[tuple[date, str], ...]:
    _check_region(region)
    calendar = holidays.France(subdiv=_HOLIDAY_SUBDIVISIONS[region], years=year, language="fr")
    return tuple(sorted(calendar.items()))


@cache
def _holiday_set(region: str, year: int) -> frozenset[date]:
    return frozenset(day for day, _ in _holiday_items(region, year))


def public_holidays(region: str, year: int) -> dict[date, str]:
    """Public holidays of ``region`` in ``year``, as ``{date: French label}``.

    Results are cached per ``(region, year)``; the returned dict is a fresh
    copy that the caller may modify.
    """
    return dict(_holiday_items(region, year))


def calendar_of(source) -> WorkCalendar:
    """The calendar itself, or the ``calendar()`` of a Site or an Organisation.

    Every public function below accepts any of the three as its calendar argument.
    """
    return source if isinstance(source, WorkCalendar) else source.calendar()


def is_working_day(d: date, cal: WorkCalendar) -> bool:
    """Whether ``d`` is a working day: Monday–Friday, not a public holiday of
    the region and not a closure day."""
    cal = calendar_of(cal)
    if isinstance(d, datetime):
        raise TypeError("is_working_day expects a date; convert the datetime to a local date first")
    return d.weekday() < 5 and d not in cal.closures and d not in _holiday_set(cal.region, d.year)


def _next_working_day(d: date, cal: WorkCalendar) -> date:
    """First working day strictly after ``d``."""
    d += timedelta(days=1)
    while not is_working_day(d, cal):
        d += timedelta(days=1)
    return d


def _roll_forward(d: date, cal: WorkCalendar) -> date:
    """``d`` if it is a working day, else the next working day."""
    return d if is_working_day(d, cal) else _next_working_day(d, cal)


def _local(at: datetime, cal: WorkCalendar) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {at!r}")
    return at.astimezone(cal.tz)


def effective_start(received_at: datetime | date, cal: WorkCalendar) -> date:
    """Day from which a request counts (the receipt rule, see module docs).

    ``received_at`` is an aware datetime, converted to ``cal.tz``. A plain
    ``date`` is also accepted and is rolled forward to a working day.
    """
    cal = calendar_of(cal)
    if not isinstance(received_at, datetime):
        return _roll_forward(received_at, cal)
    local = _local(received_at, cal)
    day = local.date()
    if is_working_day(day, cal):
        intervals = cal.hours[day.weekday()]
        # No hours configured: the whole day is open, every receipt counts.
        if not intervals or local.time() < intervals[-1][1]:
            return day
    return _next_working_day(day, cal)


def _check_n(n: int) -> int:
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"n must be a non-negative number of working days, got {n}")
    return n


def add_working_days(start: datetime | date, n: int, cal: WorkCalendar) -> date:
    """Date of the ``n``-th working day after the effective start of ``start``.

    ``start`` is a date (rolled forward to the next working day if it is not
    one) or an aware datetime (receipt rule). ``n = 0`` returns the effective
    start. Raises ``ValueError`` if ``n`` is negative.
    """
    n = _check_n(n)
    cal = calendar_of(cal)
    day = effective_start(start, cal)
    for _ in range(n):
        day = _next_working_day(day, cal)
    return day


def _as_day(value: datetime | date, cal: WorkCalendar) -> date:
    return effective_start(value, cal) if isinstance(value, datetime) else value


def working_days_between(a: datetime | date, b: datetime | date, cal: WorkCalendar) -> int:
    """Number of working days ``d`` with ``a < d <= b`` (negative if ``b < a``).

    Dates are taken as-is. A datetime (``a`` or ``b``) is first replaced by
    its effective start under the receipt rule, so a moment after closing
    time counts as the next working day. The result is antisymmetric, and
    ``working_days_between(s, add_working_days(s, n, cal), cal) == n`` when
    ``s`` is a working day or a datetime.
    """
    cal = calendar_of(cal)
    first, last = _as_day(a, cal), _as_day(b, cal)
    sign = 1
    if last < first:
        first, last, sign = last, first, -1
    # Weekdays in (first, last], minus the holidays and closures among them.
    days_off = set(cal.closures)
    for year in range(first.year, last.year + 1):
        days_off |= _holiday_set(cal.region, year)
    excluded = sum(1 for d in days_off if first < d <= last and d.weekday() < 5)
    return sign * (_weekdays_up_to(last) - _weekdays_up_to(first) - excluded)


def _weekdays_up_to(d: date) -> int:
    """Number of Mondays to Fridays from 1 January of year 1 (a Monday) to ``d``."""
    weeks, extra = divmod(d.toordinal(), 7)
    return 5 * weeks + min(extra, 5)


def next_opening(cal: WorkCalendar, at: datetime) -> datetime:
    """First instant ``>= at`` at which the site is open, in ``cal.tz``.

    Returns ``at`` (converted to ``cal.tz``) if the site is open then. The
    site is open during its opening intervals on working days only; unlike
    the receipt rule, a day without hours is closed. Raises ``ValueError`` if
    nothing opens within 400 days (e.g. a calendar without any hours).
    """
    cal = calendar_of(cal)
    local = _local(at, cal)
    today, now = local.date(), local.time()
    for offset in range(_OPENING_SEARCH_DAYS + 1):
        day = today + timedelta(days=offset)
        if not is_working_day(day, cal):
            continue
        for opens, closes in cal.hours[day.weekday()]:
            if offset == 0:
                if now >= closes:
                    continue
                if now >= opens:
                    return local
            return datetime.combine(day, opens, tzinfo=cal.tz)
    raise ValueError(
        f"the site does not open within {_OPENING_SEARCH_DAYS} days after {local.isoformat()}; "
        "check the calendar's opening hours and closures"
    )


# --- Bulk (numpy) forms ------------------------------------------------------

_FINER_THAN_DAY = frozenset({"h", "m", "s", "ms", "us", "ns", "ps", "fs", "as"})


@lru_cache(maxsize=256)
def _region_holidays_array(region: str, first_year: int, last_year: int) -> np.ndarray:
    days = [d for year in range(first_year, last_year + 1) for d in _holiday_set(region, year)]
    return np.array(sorted(days), dtype="datetime64[D]")


def _busdaycalendar(cal: WorkCalendar, first_year: int, last_year: int) -> np.busdaycalendar:
    """numpy calendar that is exact for days in years ``first_year..last_year``."""
    holidays_array = _region_holidays_array(cal.region, first_year, last_year)
    closures = np.array(sorted(cal.closures), dtype="datetime64[D]")
    return np.busdaycalendar(
        weekmask=_WEEKMASK, holidays=np.concatenate([holidays_array, closures])
    )


def _year(day: np.datetime64) -> int:
    return int(day.astype("datetime64[Y]").astype(np.int64)) + 1970


def _datetime_array(values, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind != "M":
        raise TypeError(f"{name} must be an array of numpy datetime64, got dtype {array.dtype}")
    unit = np.datetime_data(array.dtype)[0]
    if unit != "D" and unit not in _FINER_THAN_DAY:
        raise ValueError(
            f"{name} must be datetime64[D] dates or finer local times, got unit {unit!r}"
        )
    if np.isnat(array).any():
        raise ValueError(f"{name} contains NaT values")
    return array


def _closing_times(cal: WorkCalendar) -> np.ndarray:
    """Receipt closing time per weekday as timedelta64 since midnight."""
    closing = []
    for intervals in cal.hours:
        if intervals:
            closes = intervals[-1][1]
            micros = ((closes.hour * 60 + closes.minute) * 60 + closes.second) * 10**6
            closing.append(np.timedelta64(micros + closes.microsecond, "us"))
        else:
            closing.append(np.timedelta64(1, "D").astype("timedelta64[us]"))
    return np.array(closing, dtype="timedelta64[us]")


def _effective_days(array: np.ndarray, cal: WorkCalendar, busdaycal: np.busdaycalendar):
    """Bulk effective start, exact for days covered by ``busdaycal``."""
    if np.datetime_data(array.dtype)[0] == "D":
        return np.busday_offset(array, 0, roll="forward", busdaycal=busdaycal)
    days = array.astype("datetime64[D]")
    time_of_day = array - days.astype(array.dtype)
    weekdays = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday.
    same_day = np.is_busday(days, busdaycal=busdaycal) & (
        time_of_day < _closing_times(cal)[weekdays]
    )
    candidates = np.where(same_day, days, days + np.timedelta64(1, "D"))
    return np.busday_offset(candidates, 0, roll="forward", busdaycal=busdaycal)


def _exact(compute, first_day: np.datetime64, last_day: np.datetime64, cal: WorkCalendar):
    """Run ``compute(busdaycal)`` with holidays covering every day it reaches.

    ``compute`` returns ``(result, furthest_day_used)``. A day beyond the
    covered years is treated as a non-holiday, so we extend the coverage
    until the furthest day used lies inside it.
    """
    first_year, last_year = _year(first_day), _year(last_day) + 1
    while True:
        result, furthest = compute(_busdaycalendar(cal, first_year, last_year))
        reached = _year(furthest)
        if reached <= last_year:
            return result
        last_year = reached + (last_year - first_year) + 1


def add_working_days_bulk(starts, ns, cal: WorkCalendar) -> np.ndarray:
    """Vectorised :func:`add_working_days`, returns ``datetime64[D]``.

    ``starts`` is an array of ``datetime64[D]`` dates (rolled forward to a
    working day) or of finer ``datetime64`` values (e.g. ``[s]`` or ``[m]``)
    which are **naive local wall-clock times in** ``cal.tz`` and go through
    the receipt rule. ``ns`` is an integer array (or scalar) broadcast
    against ``starts``; all values must be ``>= 0``. NaT is rejected.
    """
    cal = calendar_of(cal)
    starts = _datetime_array(starts, "starts")
    ns = np.asarray(ns)
    if ns.dtype.kind not in "iu":
        raise TypeError(f"ns must be integers, got dtype {ns.dtype}")
    if ns.size and ns.min() < 0:
        raise ValueError(f"ns must be non-negative numbers of working days, got {ns.min()}")
    starts, ns = np.broadcast_arrays(starts, ns.astype(np.int64))
    if starts.size == 0:
        return np.empty(starts.shape, dtype="datetime64[D]")

    def compute(busdaycal):
        result = np.busday_offset(
            _effective_days(starts, cal, busdaycal), ns, roll="forward", busdaycal=busdaycal
        )
        return result, result.max()

    days = starts.astype("datetime64[D]")
    # Roughly 250 working days a year; _exact extends the range if needed.
    last = days.max() + np.timedelta64(int(ns.max()) * 7 // 5 + 31, "D")
    return _exact(compute, days.min(), last, cal)


def working_days_between_bulk(a, b, cal: WorkCalendar) -> np.ndarray:
    """Vectorised :func:`working_days_between`, returns ``int64``.

    ``a`` and ``b`` are broadcast together; each is an array of
    ``datetime64[D]`` dates (taken as-is) or of finer ``datetime64`` naive
    local wall-clock times in ``cal.tz`` (receipt rule applied first).
    """
    cal = calendar_of(cal)
    a = _datetime_array(a, "a")
    b = _datetime_array(b, "b")
    shape = np.broadcast_shapes(a.shape, b.shape)
    if 0 in shape:
        return np.zeros(shape, dtype=np.int64)

    def compute(busdaycal):
        first = _effective_days(a, cal, busdaycal) if a.dtype != "M8[D]" else a
        last = _effective_days(b, cal, busdaycal) if b.dtype != "M8[D]" else b
        one = np.timedelta64(1, "D")
        # numpy counts [begin, end) when begin <= end but (end, begin] when
        # end < begin, so order the bounds ourselves to stay antisymmetric.
        low, high = np.minimum(first, last), np.maximum(first, last)
        counts = np.busday_count(low + one, high + one, busdaycal=busdaycal).astype(np.int64)
        return np.where(last < first, -counts, counts), high.max() + one

    days = np.concatenate([a.astype("datetime64[D]").ravel(), b.astype("datetime64[D]").ravel()])
    return _exact(compute, days.min(), days.max() + np.timedelta64(31, "D"), cal)
