"""Daily roll-ups (ContactDay, CallDay): what the indicator sources read, so that no
dashboard scans raw contacts.

Rows are rebuilt, never incremented in place: :func:`refresh` recomputes the days a write
touched (and, for the stock, every day from ``since`` to today), :func:`rebuild` a whole
range (imports, demo, ``manage.py rebuild_rollups``). Both replace, in one transaction,
the rows of those days that changed (rows already right are left alone): running them
twice changes nothing.

Two ways of counting, same result (tested):

- a few days (refresh): one GROUP BY per kind of event, each restricted through an index
  to the contacts whose event falls in the days rebuilt — ``(organisation, ack_due_at)``,
  ``(organisation, first_answer_at)``, ``(organisation, closed_at)``, ``received_at``, and
  the partial index of the contacts still open for the stock. A write costs the contacts
  of the days it changes, not the organisation's history;
- a long range (a year rebuilt, an import of history): one read of the organisation's
  contacts, a few integers and four dates each, counted with numpy (see
  :func:`_contact_rows_one_pass`).

Days are local days in the organisation's time zone. Per site × channel × day:

- ``received``: contacts received that day;
- ``ack_due`` / ``ack_in_time``: acknowledgements due that day, and those sent by then (a
  first answer sent before the acknowledgement stands for it);
- ``answered`` / ``answered_in_time``: first answers given that day, and those given by the
  answer deadline (no deadline = in time); ``answer_days_total``: working days from the
  receipt (rolled to a working day) to the answer, summed;
- ``processed`` / ``returned``: contacts closed that day, and those of them that went back
  to the requester at least once (``returns`` > 0);
- ``pending`` / ``pending_within_15``: the stock at the end of the day — received and not
  yet answered nor closed, seasonal mass items (``Reason.seasonal_mass``) excluded — and
  the part of it received 15 working days ago or less.

The stock is computed for a whole range at once with cumulative sums (numpy) over the
small aggregated counts: stock at the start of the range + receipts − departures; its
young part = receipts − « ends of youth » (the earlier of the departure and the day the
contact turns 16 working days old). Never one query per day, never per contact in Python.
A change of a receipt, answer or closure date changes the stock of every day from the
earliest old/new date to today: callers pass ``since`` (see services.py).
"""

import sqlite3
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time, timedelta
from functools import partial

import numpy as np
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from voix.core import workdays

from .models import Call, CallDay, CallOutcome, Channel, Contact, ContactDay, Reason

# The stock counts as « within 15 working days » up to this age.
STOCK_AGE_LIMIT = 15
# Calendar days looked back for the « within 15 working days » part of the stock: 15
# working days fit in 60 calendar days even with a fortnight of holidays and closures.
LOOKBACK = 60
# Calendar days of working-day numbers kept before the first day rebuilt (answer delays of
# contacts received earlier count from that day).
CALENDAR_LOOKBACK = 400
# refresh(): days further apart than this are rebuilt separately.
CLUSTER_GAP = 31
# Ranges of at least this many days are counted in one read of the contacts (the
# per-event indexed queries win on shorter ranges).
SINGLE_PASS_DAYS = 62
# When False, the per-event queries count every range (tests compare both ways).
SINGLE_SCAN = True

CONTACT_FIELDS = (
    "received",
    "ack_due",
    "ack_in_time",
    "answered",
    "answered_in_time",
    "answer_days_total",
    "processed",
    "returned",
    "pending",
    "pending_within_15",
)
CALL_FIELDS = (
    "offered",
    "needing_agent",
    "answered_agent",
    "answered_ivr",
    "abandoned",
    "wait_seconds_total",
)


def refresh(organisation, days, *, since=None, today=None) -> None:
    """Rebuild the roll-ups of *organisation* for each date in *days* (idempotent).

    Accepts dates or aware datetimes (taken as local days). With *since* (a date or
    datetime), every day from *since* to *today* (default: today) is rebuilt too: a
    receipt, answer or closure moved changes the stock of all the days after it.
    """
    tz = workdays.calendar_of(organisation).tz

    def local(day):
        if isinstance(day, datetime):
            return day.astimezone(tz).date()
        return day

    wanted = {local(day) for day in days if day is not None}
    if since is not None:
        since = local(since)
        today = local(today) if today is not None else timezone.now().astimezone(tz).date()
        wanted.update(since + timedelta(days=i) for i in range((today - since).days + 1))
    # Days far apart (a receipt last year, an answer today) are rebuilt as separate
    # clusters: each costs its own span, not the whole year between them.
    cluster = []
    for day in sorted(wanted):
        if cluster and (day - cluster[-1]).days > CLUSTER_GAP:
            _rebuild(organisation, cluster[0], cluster[-1], only=set(cluster))
            cluster = []
        cluster.append(day)
    if cluster:
        _rebuild(organisation, cluster[0], cluster[-1], only=set(cluster))


def rebuild(organisation, start: date, end: date) -> tuple[int, int]:
    """Rebuild every roll-up row of *organisation* from *start* to *end* (both included).

    Returns (contact rows, call rows) written.
    """
    if end < start:
        raise ValueError("la fin de la période précède son début")
    return _rebuild(organisation, start, end, only=None)


# ----- SQL pieces ------------------------------------------------------------------------


def _bounds(first: date, last: date, tz):
    """Aware datetimes of local midnight on *first* and on the day after *last*."""
    return (
        datetime.combine(first, time(), tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=tz),
    )


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _ts(value: datetime) -> str:
    """A timestamp literal (values computed here, never user input)."""
    utc = value.astimezone(UTC)
    if _postgresql():
        return f"TIMESTAMPTZ '{utc.isoformat()}'"
    return f"'{utc.strftime('%Y-%m-%d %H:%M:%S')}'"


def _date(value: date) -> str:
    return f"DATE '{value.isoformat()}'" if _postgresql() else f"'{value.isoformat()}'"


def _plain(organisation) -> str:
    """SQL condition: the contact ``c`` is not a seasonal mass item (it counts in the stock)."""
    ids = Reason.objects.filter(organisation=organisation, seasonal_mass=True)
    ids = sorted(int(pk) for pk in ids.values_list("pk", flat=True))
    return (
        f"(c.reason_id IS NULL OR c.reason_id NOT IN ({', '.join(map(str, ids))}))"
        if ids
        else "(1 = 1)"
    )


class _Sql:
    """Expressions shared by the queries, for one organisation and range."""

    def __init__(self, organisation, tz, first: date, last: date):
        self.tz = tz
        self.org = int(organisation.pk)
        self.plain = _plain(organisation)
        self.table = connection.ops.quote_name(Contact._meta.db_table)
        # SQLite: local days from UTC offsets between the DST transitions of the range.
        self._offsets = None
        if not _postgresql():
            self._offsets = _offsets(
                tz, first - timedelta(days=CALENDAR_LOOKBACK + 2), last + timedelta(days=2)
            )

    done = (
        "(CASE WHEN c.first_answer_at IS NULL THEN c.closed_at "
        "WHEN c.closed_at IS NULL OR c.first_answer_at <= c.closed_at "
        "THEN c.first_answer_at ELSE c.closed_at END)"
    )

    def day(self, column: str) -> str:
        """The local day of a timestamp column or expression."""
        if _postgresql():
            return f"(({column}) AT TIME ZONE '{self.tz.key}')::date"
        cases = " ".join(
            f"WHEN {column} < '{until.strftime('%Y-%m-%d %H:%M:%S')}' THEN '{seconds:+d} seconds'"
            for until, seconds in self._offsets[:-1]
        )
        last = f"'{self._offsets[-1][1]:+d} seconds'"
        modifier = f"CASE {cases} ELSE {last} END" if cases else last
        return f"date({column}, {modifier})"

    def alive(self, start: datetime) -> str:
        """Not answered nor closed before *start* (index-friendly: open, or one of the
        two dates from *start* on)."""
        s = _ts(start)
        return (
            "(((c.first_answer_at IS NULL AND c.closed_at IS NULL) "
            f"OR c.first_answer_at >= {s} OR c.closed_at >= {s}) "
            f"AND ({self.done} IS NULL OR {self.done} >= {s}))"
        )


def _offsets(tz, first: date, last: date):
    """[(until_utc, offset_seconds)] covering [first, last]; the last one has no end."""
    points = []
    moment = datetime.combine(first, time(), tzinfo=UTC)
    end = datetime.combine(last, time(), tzinfo=UTC)
    step = timedelta(hours=1)

    def offset(at):
        return int(at.astimezone(tz).utcoffset().total_seconds())

    current = offset(moment)
    while moment < end:
        following = moment + step
        value = offset(following)
        if value != current:
            points.append((following, current))
            current = value
        moment = following
    points.append((None, current))
    return points


class _Calendars:
    """Working-day numbers per site (0: contacts without a site) over an axis of days.

    ``num`` = working days up to and including the day; ``start_num`` = ``num`` of the day
    a receipt counts from (the next working day when the day is not one);
    ``young_until`` = the first day a contact received that day is more than 15 working
    days old. The delay of an answer given on day *a* for a receipt on day *r* is
    ``num(a) - start_num(r)``. Kept as a temporary table the queries
    per-event queries join.
    """

    TABLE = "voix_rollup_days"

    def __init__(self, organisation, first: date, last: date):
        self.first = first - timedelta(days=CALENDAR_LOOKBACK)
        self.last = last
        self.size = (last - self.first).days + 1
        axis = [self.first + timedelta(days=i) for i in range(self.size)]
        self.slot_of = {}
        self.keys = []
        tables = []
        sites = [(0, organisation), *((site.pk, site) for site in organisation.sites.all())]
        for site_id, source in sites:
            cal = workdays.calendar_of(source)
            key = (cal.region, cal.closures)
            if key not in self.keys:
                working = np.array([workdays.is_working_day(d, cal) for d in axis], dtype=bool)
                num = np.cumsum(working)
                start_num = num + np.where(working, 0, 1)
                limit = np.searchsorted(num, start_num + STOCK_AGE_LIMIT + 1, side="left")
                self.keys.append(key)
                tables.append((num, start_num, limit))
            self.slot_of[site_id] = self.keys.index(key)
        self.num = np.stack([t[0] for t in tables])
        self.start_num = np.stack([t[1] for t in tables])
        self.limit = np.stack([t[2] for t in tables])  # index on the axis (may be past it)

    def rows(self):
        """(site, day, num, start_num, young_until) for every site and day of the axis."""
        rows = []
        for site_id, slot in self.slot_of.items():
            num, start_num, limit = (
                self.num[slot].tolist(),
                self.start_num[slot].tolist(),
                self.limit[slot].tolist(),
            )
            for index in range(self.size):
                day = self.first + timedelta(days=index)
                until = self.first + timedelta(days=int(limit[index]))
                rows.append((site_id, day, num[index], start_num[index], until))
        return rows

    def create_table(self):
        rows = self.rows()
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.TABLE} (site integer, day date, "
                "num integer, start_num integer, young_until date)"
            )
            cursor.execute(f"DELETE FROM {self.TABLE}")
        _insert_rows(self.TABLE, ("site", "day", "num", "start_num", "young_until"), rows)
        with connection.cursor() as cursor:
            if _postgresql():
                cursor.execute(f"ANALYZE {self.TABLE}")
            else:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {self.TABLE}_key ON {self.TABLE} (site, day)"
                )


def _day(value):
    """A date from a raw query (SQLite gives text)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _raw(sql: str, params=()) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _Counts:
    """Per-day counts gathered by either way of counting, then assembled into rows."""

    def __init__(self, first: date, last: date):
        self.first, self.last = first, last
        # Axis of the young part of the stock: starts LOOKBACK days before *first*.
        self.origin = first - timedelta(days=LOOKBACK)
        self.size = (last - self.origin).days + 1
        self.rows = defaultdict(lambda: dict.fromkeys(CONTACT_FIELDS, 0))
        zero = np.zeros(self.size, dtype=np.int64)
        self.added = defaultdict(zero.copy)  # stock: receipts from *first* on
        self.removed = defaultdict(zero.copy)  # stock: departures from *first* on
        self.young_added = defaultdict(zero.copy)  # receipts from *origin* still there
        self.young_ends = defaultdict(zero.copy)
        self.base = defaultdict(int)  # stock at the start of *first*

    def index(self, day):
        return (day - self.origin).days

    def add(self, site, channel, day, **values):
        target = self.rows[(site or None, channel, day)]
        for name, value in values.items():
            target[name] += int(value or 0)

    def assemble(self):
        out = slice(self.index(self.first), self.size)
        keys = set(self.added) | set(self.removed) | set(self.base) | set(self.young_added)
        for key in keys:
            pending = self.base[key] + np.cumsum(self.added[key]) - np.cumsum(self.removed[key])
            within = np.cumsum(self.young_added[key]) - np.cumsum(self.young_ends[key])
            for at in np.flatnonzero(pending[out] | within[out]) + out.start:
                target = self.rows[(key[0] or None, key[1], self.origin + timedelta(days=int(at)))]
                target["pending"] += int(pending[at])
                target["pending_within_15"] += int(within[at])
        return self.rows


# ----- a few days: one indexed query per kind of event -----------------------------------


def _contact_rows(organisation, first: date, last: date, tz, calendars: _Calendars):
    """{(site_id, channel, day): {field: count}} for every day of [first, last]."""
    calendars.create_table()
    counts = _Counts(first, last)
    sql = _Sql(organisation, tz, first, last)
    start_at, end_at = _bounds(first, last, tz)
    s, e = _ts(start_at), _ts(end_at)
    w = _ts(_bounds(counts.origin, last, tz)[0])
    t, org, cal = sql.table, sql.org, calendars.TABLE
    site = "COALESCE(c.site_id, 0)"

    # Acknowledgements, on the day they were due. An answer sent first stands for it.
    for key_site, channel, day, n, ok in _raw(
        f"SELECT {site}, c.channel, {sql.day('c.ack_due_at')} AS d, COUNT(*), "
        "SUM(CASE WHEN c.acknowledged_at <= c.ack_due_at OR c.first_answer_at <= c.ack_due_at "
        f"THEN 1 ELSE 0 END) FROM {t} c WHERE c.organisation_id = {org} "
        f"AND c.ack_due_at >= {s} AND c.ack_due_at < {e} GROUP BY 1, 2, 3"
    ):
        counts.add(key_site, channel, _day(day), ack_due=n, ack_in_time=ok)

    # First answers, on the day given; the delay in working days from the calendar table.
    delay = "a.num - COALESCE(r.start_num, 0)"
    for key_site, channel, day, n, in_time, days in _raw(
        f"SELECT x.site, x.channel, x.a, COUNT(*), SUM(x.in_time), "
        f"SUM(CASE WHEN {delay} > 0 THEN {delay} ELSE 0 END) FROM ("
        f"SELECT {site} AS site, c.channel, {sql.day('c.first_answer_at')} AS a, "
        f"{sql.day('c.received_at')} AS r, CASE WHEN c.answer_due_at IS NULL "
        "OR c.first_answer_at <= c.answer_due_at THEN 1 ELSE 0 END AS in_time "
        f"FROM {t} c WHERE c.organisation_id = {org} "
        f"AND c.first_answer_at >= {s} AND c.first_answer_at < {e}) x "
        f"LEFT JOIN {cal} a ON a.site = x.site AND a.day = x.a "
        f"LEFT JOIN {cal} r ON r.site = x.site AND r.day = x.r "
        "GROUP BY x.site, x.channel, x.a"
    ):
        counts.add(
            key_site,
            channel,
            _day(day),
            answered=n,
            answered_in_time=in_time,
            answer_days_total=days,
        )

    # Closures, and how many of them had gone back to the requester.
    for key_site, channel, day, n, back in _raw(
        f"SELECT {site}, c.channel, {sql.day('c.closed_at')} AS d, COUNT(*), "
        f"SUM(CASE WHEN c.returns > 0 THEN 1 ELSE 0 END) FROM {t} c "
        f"WHERE c.organisation_id = {org} AND c.closed_at >= {s} AND c.closed_at < {e} "
        "GROUP BY 1, 2, 3"
    ):
        counts.add(key_site, channel, _day(day), processed=n, returned=back)

    # Receipts of the range: counted, and added to the stock unless seasonal.
    for key_site, channel, day, n, plain in _raw(
        f"SELECT {site}, c.channel, {sql.day('c.received_at')} AS d, COUNT(*), "
        f"SUM(CASE WHEN {sql.plain} THEN 1 ELSE 0 END) FROM {t} c "
        f"WHERE c.organisation_id = {org} AND c.received_at >= {s} AND c.received_at < {e} "
        "GROUP BY 1, 2, 3"
    ):
        day = _day(day)
        counts.add(key_site, channel, day, received=n)
        counts.added[(key_site, channel)][counts.index(day)] += int(plain or 0)

    # Departures from the stock (first answer or closure, the earlier) in the range.
    for key_site, channel, day, n in _raw(
        f"SELECT {site}, c.channel, {sql.day(sql.done)} AS d, COUNT(*) FROM {t} c "
        f"WHERE c.organisation_id = {org} AND {sql.plain} "
        f"AND ((c.first_answer_at >= {s} AND c.first_answer_at < {e}) "
        f"OR (c.closed_at >= {s} AND c.closed_at < {e})) "
        f"AND {sql.done} >= {s} AND {sql.done} < {e} GROUP BY 1, 2, 3"
    ):
        counts.removed[(key_site, channel)][counts.index(_day(day))] += n

    # The contacts still there when the range starts (open, or answered/closed since: the
    # partial index and the two date indexes), read once: the stock at the start
    # (received before), the receipts since the axis origin that count in the young part,
    # and the day each stops being young (departure or 16 working days, the earlier).
    for kind, key_site, channel, day, n in _raw(
        f"WITH x AS (SELECT {site} AS site, c.channel, c.received_at, "
        f"{sql.day('c.received_at')} AS r, {sql.day(sql.done)} AS d FROM {t} c "
        f"WHERE c.organisation_id = {org} AND {sql.plain} AND c.received_at < {e} "
        f"AND {sql.alive(start_at)}) "
        "SELECT 0, x.site, x.channel, CAST(NULL AS date), COUNT(*) FROM x "
        f"WHERE x.received_at < {s} GROUP BY x.site, x.channel "
        "UNION ALL SELECT 1, x.site, x.channel, x.r, COUNT(*) FROM x "
        f"WHERE x.received_at >= {w} GROUP BY x.site, x.channel, x.r "
        "UNION ALL SELECT 2, x.site, x.channel, CASE WHEN x.d IS NOT NULL "
        "AND x.d < y.young_until THEN x.d ELSE y.young_until END AS e, COUNT(*) FROM x "
        f"JOIN {cal} y ON y.site = x.site AND y.day = x.r WHERE x.received_at >= {w} "
        "GROUP BY x.site, x.channel, e"
    ):
        key = (key_site, channel)
        if kind == 0:
            counts.base[key] += n
        elif kind == 1:
            counts.young_added[key][counts.index(_day(day))] += n
        elif (day := _day(day)) <= last:
            counts.young_ends[key][counts.index(day)] += n
    return counts.assemble()


# ----- a long range: one read of the contacts, counted with numpy ------------------------

# Contacts read per query of the one-pass count (bounds the memory of both sides).
ONE_PASS_CHUNK = 500_000
# PostgreSQL: connections reading the chunks at the same time (a full rebuild only).
READERS = 2
NEVER = np.iinfo(np.int64).max  # an empty date, as a day number: after every day
EPOCH_2000 = 946_684_800  # PostgreSQL's binary timestamps count µs from 2000-01-01 UTC
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
CHANNEL_CODES = {code: number for number, code in enumerate(Channel.values, start=1)}


def _contact_rows_one_pass(first: date, last: date, tz, calendars, chunks):
    """Same result as _contact_rows, for a long range, in one read of the contacts.

    Each contact of the organisation received before the end of the range is read once
    — a few integers: its site, channel, flags and four dates — and every count is made
    with numpy (``bincount`` per kind of event, cumulative sums for the stock). Local days
    come from the UTC offsets of the range's DST periods, working days from the
    calendar's arrays.

    On PostgreSQL the contacts come grouped by (site, channel, flags), each group's dates
    as binary arrays (``array_agg`` then ``array_send``, read with ``np.frombuffer``): a
    few thousand rows instead of one per contact. On SQLite, one row per contact, packed
    into five integers.
    """
    counts = _Counts(first, last)
    transitions, offsets = _offset_table(tz, calendars.first, max(last, timezone.localdate()))
    # Day numbers on the counts' axis [0, size): 0 is counts.origin, f is *first*; NEVER
    # stays above every day.
    origin = counts.origin.toordinal() - EPOCH_ORDINAL
    f = (first - counts.origin).days
    size = counts.size
    c0 = (calendars.first - counts.origin).days  # where the calendar's axis starts
    young_until = calendars.limit + c0
    keys = {}  # (site, channel code) → row of the grid
    sums = {}  # field → flat counts (row * size + day)
    base = defaultdict(int)

    def day(seconds):
        return _day_numbers(seconds, transitions, offsets, origin)

    def count(names, rows, days, *weights, low=f):
        keep = (days >= low) & (days < size)
        index = rows[keep] * size + days[keep]
        for name, weight in zip(names, (None, *weights), strict=True):
            found = np.bincount(
                index, None if weight is None else weight[keep], minlength=len(keys) * size
            ).astype(np.int64)
            total = sums.get(name)
            if total is not None:
                found[: len(total)] += total
            sums[name] = found

    for codes, group_of_row, plain, back, ack_ok, ans_ok, *dates in chunks:
        pairs = [divmod(code, 16) for code in codes.tolist()]
        rows = np.array([keys.setdefault(pair, len(keys)) for pair in pairs], np.int64)
        default = calendars.slot_of[0]
        slots = np.array([calendars.slot_of.get(site, default) for site, _ in pairs], np.int64)
        rows, slot = rows[group_of_row], slots[group_of_row]
        r, k, a, c = (day(seconds) for seconds in dates)
        d = np.minimum(a, c)  # leaves the stock: first answer or closure, the earlier
        count(["received"], rows, r)
        count(["ack_due", "ack_in_time"], rows, k, ack_ok)
        # Working days from the receipt (rolled to a working day) to the answer.
        at = np.clip(a - c0, 0, calendars.size - 1)
        rt = r - c0
        start_num = np.where(rt >= 0, calendars.start_num[slot, np.clip(rt, 0, None)], 0)
        delay = np.maximum(calendars.num[slot, at] - start_num, 0)
        count(["answered", "answered_in_time", "answer_days_total"], rows, a, ans_ok, delay)
        count(["processed", "returned"], rows, c, back)
        # The stock: plain items (not seasonal mass), and those still there at the start.
        alive = plain & (d >= f)
        for row, n in zip(*np.unique(rows[alive & (r < f)], return_counts=True), strict=True):
            base[int(row)] += int(n)
        count(["added"], rows[plain], r[plain])
        count(["removed"], rows[plain], d[plain])
        young = alive & (r >= 0)
        ends = np.minimum(d[young], young_until[slot[young], r[young] - c0])
        count(["young_added"], rows[young], r[young], low=0)
        count(["young_ends"], rows[young], ends, low=0)
    return _assemble_one_pass(counts, keys, sums, base, f)


def _assemble_one_pass(counts, keys, sums, base, f):
    """The roll-up rows of the range from the flat counts (rows: (site, channel))."""
    shape = (len(keys), counts.size)

    def grid(name):
        found = np.zeros(shape[0] * shape[1], dtype=np.int64)
        total = sums.get(name)
        if total is not None:
            found[: len(total)] = total
        return found.reshape(shape)

    start = np.array([base.get(row, 0) for row in range(len(keys))], dtype=np.int64)
    fields = {name: grid(name) for name in CONTACT_FIELDS if name in sums}
    fields["pending"] = start[:, None] + np.cumsum(grid("added") - grid("removed"), axis=1)
    fields["pending_within_15"] = np.cumsum(grid("young_added") - grid("young_ends"), axis=1)
    names = list(fields)
    stacked = np.stack([fields[name] for name in names], axis=2)[:, f:, :]
    channel_of = {number: code for code, number in CHANNEL_CODES.items()}
    by_row = {row: key for key, row in keys.items()}
    for row, at in zip(*np.nonzero(stacked.any(axis=2)), strict=True):
        site, channel = by_row[int(row)]
        if channel not in channel_of:
            continue  # not a channel of Voix (never written by Voix itself)
        day = counts.first + timedelta(days=int(at))
        values = dict(zip(names, stacked[row, at].tolist(), strict=True))
        counts.rows[(site or None, channel_of[channel], day)].update(values)
    return counts.rows


def _day_numbers(seconds, transitions, offsets, origin: int):
    """Local day numbers of epoch seconds, counted from the day *origin* (days since
    1970-01-01); NEVER stays NEVER."""
    never = seconds == NEVER
    local = np.where(never, 0, seconds) + offsets[0]
    for at, step in zip(transitions.tolist(), np.diff(offsets).tolist(), strict=True):
        local += (seconds >= at) * step
    days = np.floor_divide(local, 86400) - origin
    days[never] = NEVER
    return days


def _offset_table(tz, first: date, last: date):
    """(UTC epoch seconds of each DST change, UTC offset in seconds before/after each):
    ``offsets[searchsorted(transitions, t, 'right')]`` is the offset at *t*."""
    points = _offsets(tz, first - timedelta(days=2), last + timedelta(days=2))
    transitions = np.array([int(until.timestamp()) for until, _ in points[:-1]], np.int64)
    offsets = np.array([seconds for _, seconds in points], dtype=np.int64)
    return transitions, offsets


class _Readers:
    """Where the one-pass queries run. PostgreSQL, when the transaction has written
    nothing yet (*shared*): ``READERS`` threads, each on its own connection under the
    snapshot this transaction exports, so they read exactly what it sees, at the same
    time. Otherwise: here, one query after the other, on this connection."""

    def __init__(self, shared: bool):
        self.pool = self.snapshot = None
        if shared and READERS > 1:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_export_snapshot()")
                self.snapshot = cursor.fetchone()[0]
            self.pool = ThreadPoolExecutor(max_workers=READERS)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.pool:
            self.pool.shutdown(cancel_futures=True)

    def _run(self, function, *args):
        if self.snapshot is None:
            return function(*args)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute(f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                    _tune_postgresql(cursor)
                return function(*args)
        finally:
            connection.close()  # this thread's own connection

    def map(self, function, values):
        if self.pool:
            return self.pool.map(partial(self._run, function), values)
        return map(function, values)


def _one_pass_chunks(organisation, end_at, readers):
    """Chunks of (site × 16 + channel code per group, group of each contact, plain, back,
    ack_ok, ans_ok, received, ack_due, first answer, closure) arrays, dates in epoch
    seconds (NEVER when empty), read in ranges of contact ids by *readers* — the reading
    starts at once, several chunks at a time when the readers can.
    """
    table = connection.ops.quote_name(Contact._meta.db_table)
    org = int(organisation.pk)
    plain = _plain(organisation)
    # Site, channel, not seasonal, went back to the requester, acknowledged in time,
    # answered in time. PostgreSQL groups by them as they are (cheaper than CASEs).
    flags = [
        plain,
        "c.returns > 0",
        "(c.acknowledged_at <= c.ack_due_at OR c.first_answer_at <= c.ack_due_at)",
        "(c.answer_due_at IS NULL OR c.first_answer_at <= c.answer_due_at)",
    ]
    if _postgresql():
        columns = ", ".join(["COALESCE(c.site_id, 0)", "c.channel", *flags])
    else:
        # One integer: (site × 16 + channel) × 16 + the four flags as bits (fewer Python
        # objects per row).
        channel = " ".join(f"WHEN '{code}' THEN {n}" for code, n in CHANNEL_CODES.items())
        bits = " + ".join(f"COALESCE({flag}, 0) * {1 << (3 - i)}" for i, flag in enumerate(flags))
        columns = (
            f"(COALESCE(c.site_id, 0) * 16 + CASE c.channel {channel} ELSE 0 END) * 16 + {bits}"
        )
    dates = ("c.received_at", "c.ack_due_at", "c.first_answer_at", "c.closed_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(c.id), MAX(c.id) FROM {table} c WHERE c.organisation_id = %s", [org]
        )
        low, high = cursor.fetchone()
        if low is None:
            return iter(())
        scope = f"c.organisation_id = {org} AND c.received_at < {_ts(end_at)}"
        wheres = [
            f"{scope} AND c.id >= {lower} AND c.id < {lower + ONE_PASS_CHUNK}"
            for lower in range(low, high + 1, ONE_PASS_CHUNK)
        ]
    if not _postgresql():
        return (_chunk_sqlite(table, columns, dates, where) for where in wheres)
    # In order: the numpy work on a chunk overlaps the reading of the next ones.
    return readers.map(partial(_chunk_postgresql, table, columns, dates), wheres)


def _chunk_postgresql(table, columns, dates, where):
    """The contacts grouped by their integer columns, each group's dates as one binary
    array."""
    arrays = ", ".join(f"array_send(array_agg(COALESCE({d}, 'infinity')))" for d in dates)
    with _binary_cursor() as cursor:
        cursor.execute(
            f"SELECT {columns}, COUNT(*), {arrays} FROM {table} c WHERE {where} "
            "GROUP BY 1, 2, 3, 4, 5, 6",
            binary=True,
        )
        groups = cursor.fetchall()
    code = CHANNEL_CODES.get
    keys = [
        (site, code(channel, 0), *(1 if flag else 0 for flag in flags), n)
        for site, channel, *flags, n in (group[:7] for group in groups)
    ]
    keys = np.array(keys, np.int64).reshape(-1, 7)
    sizes = keys[:, 6]
    # Flags as bytes: a chunk's arrays stay small (the import's memory limit).
    plain, back, ack_ok, ans_ok = (
        np.repeat(keys[:, i].astype(np.int8), sizes) for i in range(2, 6)
    )
    dates = [_epoch_seconds(_int8_arrays(group[i] for group in groups)) for i in range(7, 11)]
    codes = keys[:, 0] * 16 + keys[:, 1]
    group_of_row = np.repeat(np.arange(len(groups)), sizes)
    return codes, group_of_row, plain.astype(bool), back, ack_ok, ans_ok, *dates


def _int8_arrays(sent) -> np.ndarray:
    """The values of binary int8/timestamptz arrays (``array_send``: a 20-byte header, then
    a length and a value per element), end to end."""
    element = np.dtype([("length", ">i4"), ("value", ">i8")])
    parts = [np.frombuffer(data, dtype=element, offset=20)["value"] for data in sent]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def _epoch_seconds(values) -> np.ndarray:
    """Epoch seconds of PostgreSQL binary timestamps (µs since 2000); 'infinity' → NEVER."""
    seconds = np.floor_divide(values, 1_000_000) + EPOCH_2000
    seconds[values == np.iinfo(np.int64).max] = NEVER
    return seconds


def _binary_cursor():
    """A server-side binding cursor, for results in binary: arrays come as they are, not
    as hexadecimal text (Django's cursors bind on the client side)."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _chunk_sqlite(table, columns, dates, where):
    epoch = "unixepoch({})"
    if sqlite3.sqlite_version_info < (3, 38):
        epoch = "CAST(strftime('%s', {}) AS INTEGER)"
    values = [columns, *(f"COALESCE({epoch.format(d)}, -1)" for d in dates)]
    # Each column of the chunk as one text of numbers (« 12,7,… », parsed by numpy): half
    # a million rows cost five strings instead of millions of Python objects (a third of
    # the time, measured). The aggregates read the rows together, in the same order.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(f'group_concat({v})' for v in values)} FROM {table} c WHERE {where}"
        )
        texts = cursor.fetchone()
    if texts[0] is None:
        data = np.zeros((0, 5), dtype=np.int64)
    else:
        data = np.stack([np.fromstring(t, dtype=np.int64, sep=",") for t in texts], axis=1)
    data[:, 1:][data[:, 1:] == -1] = NEVER
    packed, *dates = data.T
    codes, group_of_row = np.unique(packed >> 4, return_inverse=True)
    plain, back, ack_ok, ans_ok = ((packed >> bit) & 1 for bit in (3, 2, 1, 0))
    return codes, group_of_row, plain.astype(bool), back, ack_ok, ans_ok, *dates


def _call_rows(organisation, first: date, last: date, tz):
    start_at, end_at = _bounds(first, last, tz)

    def count_if(condition):
        return Sum(Case(When(condition, then=1), default=0, output_field=IntegerField()))

    calls = (
        Call.objects.filter(organisation=organisation, started_at__gte=start_at)
        .filter(started_at__lt=end_at)
        .order_by()
        .values("site_id", day=TruncDate("started_at", tzinfo=tz))
        .annotate(
            offered=Count("id"),
            # A call an agent took did need an agent, whatever its flag says.
            needing_agent=count_if(Q(needs_agent=True) | Q(outcome=CallOutcome.AGENT)),
            answered_agent=count_if(Q(outcome=CallOutcome.AGENT)),
            answered_ivr=count_if(Q(outcome=CallOutcome.IVR)),
            abandoned=count_if(Q(outcome=CallOutcome.ABANDONED)),
            wait_seconds_total=Coalesce(Sum("wait_seconds"), 0),
        )
    )
    return {
        (row["site_id"], row["day"]): {name: row[name] or 0 for name in CALL_FIELDS}
        for row in calls
    }


def _call_chunks(organisation, first: date, last: date, tz, readers):
    """The calls of a long range on PostgreSQL, read in ranges of ids by *readers* (the
    reading starts at once), grouped by (site, outcome, flag) with their start times and
    waits as binary arrays."""
    table = connection.ops.quote_name(Call._meta.db_table)
    start_at, end_at = _bounds(first, last, tz)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MIN(c.id), MAX(c.id) FROM {table} c WHERE c.organisation_id = %s",
            [organisation.pk],
        )
        low, high = cursor.fetchone()
    if low is None:
        return iter(())
    scope = (
        f"c.organisation_id = {int(organisation.pk)} AND c.started_at >= {_ts(start_at)} "
        f"AND c.started_at < {_ts(end_at)}"
    )
    wheres = [
        f"{scope} AND c.id >= {lower} AND c.id < {lower + ONE_PASS_CHUNK}"
        for lower in range(low, high + 1, ONE_PASS_CHUNK)
    ]
    return readers.map(partial(_call_chunk, table), wheres)


def _call_rows_one_pass(first: date, last: date, tz, chunks):
    """Same result as _call_rows, counted per day with numpy from *chunks*
    (:func:`_call_chunks`)."""
    transitions, offsets = _offset_table(tz, first, last)
    origin = first.toordinal() - EPOCH_ORDINAL
    size = (last - first).days + 1
    sites = {}  # site → row of the grid
    totals = defaultdict(lambda: np.zeros(0, np.int64))
    for groups in chunks:
        for site, outcome, needs_agent, started, waits in groups:
            row = sites.setdefault(site, len(sites))
            days = _day_numbers(_epoch_seconds(started), transitions, offsets, origin)
            keep = (days >= 0) & (days < size)
            index = row * size + days[keep]
            offered = np.bincount(index, minlength=size * len(sites))
            weight = np.bincount(index, waits[keep], minlength=size * len(sites))
            agent = outcome == CallOutcome.AGENT
            for name, values in (
                ("offered", offered),
                ("needing_agent", offered if needs_agent or agent else None),
                ("answered_agent", offered if agent else None),
                ("answered_ivr", offered if outcome == CallOutcome.IVR else None),
                ("abandoned", offered if outcome == CallOutcome.ABANDONED else None),
                ("wait_seconds_total", weight.astype(np.int64)),
            ):
                if values is None:
                    continue
                total = totals[name]
                values = values.copy()
                values[: len(total)] += total
                totals[name] = values
    shape = (len(sites), size)
    grids = {}
    for name in CALL_FIELDS:
        grid = np.zeros(shape[0] * shape[1], np.int64)
        grid[: len(totals[name])] = totals[name]
        grids[name] = grid.reshape(shape)
    by_row = {row: site for site, row in sites.items()}
    rows = {}
    for row, at in zip(*np.nonzero(grids["offered"]), strict=True):
        day = first + timedelta(days=int(at))
        rows[(by_row[int(row)] or None, day)] = {
            name: int(grids[name][row, at]) for name in CALL_FIELDS
        }
    return rows


def _call_chunk(table, where):
    """(site, outcome, needs agent, start times, waits) per group of calls of *where*."""
    with _binary_cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(c.site_id, 0), c.outcome, c.needs_agent, "
            "array_send(array_agg(c.started_at)), "
            "array_send(array_agg(COALESCE(c.wait_seconds, 0)::bigint)) "
            f"FROM {table} c WHERE {where} GROUP BY 1, 2, 3",
            binary=True,
        )
        return [
            (site, outcome, needs, _int8_arrays([started]), _int8_arrays([waits]))
            for site, outcome, needs, started, waits in cursor.fetchall()
        ]


def _tune_postgresql(cursor) -> None:
    """Settings of a roll-up transaction on PostgreSQL."""
    # The GROUP BYs of a year of contacts need more than the default 4 MB of memory per
    # hash table, or they spill to disk.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # Hash joins and hashed aggregates, never sorting every contact; and no JIT
    # compilation, which costs more than it saves on these queries.
    cursor.execute("SET LOCAL enable_mergejoin = off")
    cursor.execute("SET LOCAL enable_sort = off")
    cursor.execute("SET LOCAL jit = off")


def _rebuild(organisation, first: date, last: date, *, only) -> tuple[int, int]:
    # Nothing written yet by the caller: other connections may read along (one pass).
    shared = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                _tune_postgresql(cursor)
        return _rebuild_in_transaction(organisation, first, last, only=only, shared=shared)


def _rebuild_in_transaction(organisation, first: date, last: date, *, only, shared=False):
    tz = workdays.calendar_of(organisation).tz
    single_pass = SINGLE_SCAN and (last - first).days + 1 >= SINGLE_PASS_DAYS
    if single_pass:
        with _Readers(shared) as readers:
            # The readers start on the contacts, then the calls, while the calendar is built.
            chunks = _one_pass_chunks(organisation, _bounds(first, last, tz)[1], readers)
            if readers.pool:
                calls = _call_chunks(organisation, first, last, tz, readers)
            calendars = _Calendars(organisation, first, last)
            contact_rows = _contact_rows_one_pass(first, last, tz, calendars, chunks)
            if readers.pool:
                call_rows = _call_rows_one_pass(first, last, tz, calls)
            else:
                call_rows = _call_rows(organisation, first, last, tz)
    else:
        calendars = _Calendars(organisation, first, last)
        contact_rows = _contact_rows(organisation, first, last, tz, calendars)
        call_rows = _call_rows(organisation, first, last, tz)

    def wanted(day):
        return first <= day <= last and (only is None or day in only)

    org = organisation.pk
    contact_values = [
        (org, site_id, channel, day, *(values[name] for name in CONTACT_FIELDS))
        for (site_id, channel, day), values in contact_rows.items()
        if wanted(day) and any(values.values())
    ]
    call_values = [
        (org, site_id, day, *(values[name] for name in CALL_FIELDS))
        for (site_id, day), values in call_rows.items()
        if wanted(day)
    ]
    days = {"day__gte": first, "day__lte": last} if only is None else {"day__in": sorted(only)}
    with transaction.atomic():
        for model, keys, fields, values in (
            (ContactDay, ("site_id", "channel", "day"), CONTACT_FIELDS, contact_values),
            (CallDay, ("site_id", "day"), CALL_FIELDS, call_values),
        ):
            existing = model.objects.filter(organisation=organisation, **days)
            _replace(existing, ("organisation_id", *keys), fields, values)
    return len(contact_values), len(call_values)


def _replace(existing, keys, fields, rows) -> None:
    """Make the roll-up rows of *existing* (a queryset: the days rebuilt) exactly *rows*
    (tuples of *keys* then *fields*): rows already right are left as they are, the others
    deleted, the missing ones inserted. A rebuild that changes nothing writes nothing."""
    wanted = {row[: len(keys)]: row for row in rows}
    stale = []
    for pk, *values in existing.values_list("pk", *keys, *fields).iterator(chunk_size=10000):
        key = tuple(values[: len(keys)])
        if wanted.get(key) == tuple(values):
            del wanted[key]  # already right
        else:
            stale.append(pk)
    for start in range(0, len(stale), 5000):
        gone = existing.model.objects.filter(pk__in=stale[start : start + 5000])
        gone._raw_delete(gone.db)
    _insert_rows(existing.model._meta.db_table, (*keys, *fields), list(wanted.values()))


def _insert_rows(table, columns, rows) -> None:
    """Insert plain rows: COPY on PostgreSQL, executemany elsewhere (the ORM's per-field
    preparation would cost more than the whole computation for a year of roll-ups)."""
    if not rows:
        return
    table = connection.ops.quote_name(table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # Dates as ISO text: the sqlite3 module's default date adapter is deprecated.
        rows = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])


# ----- what a write changes -------------------------------------------------------------


def footprint(contact, tz=None) -> dict:
    """What one contact counts in the roll-ups: {(site, channel, day, field): value} for
    its events, and its stretch in the stock (site, channel, first day, day it leaves).

    Compare the footprints before and after a write with :func:`changed_days` to know the
    days to refresh.
    """
    tz = tz or workdays.calendar_of(contact.organisation).tz

    def local(value):
        return value.astimezone(tz).date() if value else None

    key = (contact.site_id, contact.channel)
    events = {}
    received = local(contact.received_at)
    if received:
        events[(*key, received, "received")] = 1
    acknowledged = [v for v in (contact.acknowledged_at, contact.first_answer_at) if v]
    if contact.ack_due_at:
        ok = bool(acknowledged) and min(acknowledged) <= contact.ack_due_at
        events[(*key, local(contact.ack_due_at), "ack")] = (1, ok)
    if contact.first_answer_at:
        due = contact.answer_due_at
        ok = due is None or contact.first_answer_at <= due
        events[(*key, local(contact.first_answer_at), "answer")] = (1, ok, received)
    if contact.closed_at:
        events[(*key, local(contact.closed_at), "closed")] = (1, contact.returns > 0)
    done = [v for v in (contact.first_answer_at, contact.closed_at) if v]
    seasonal = bool(contact.reason_id) and contact.reason.seasonal_mass
    stock = None if seasonal or not received else (*key, received, local(min(done, default=None)))
    return {"events": events, "stock": stock}


def changed_days(before: dict | None, after: dict) -> tuple[set, date | None]:
    """(days whose counts changed, first day whose stock changed or None) between two
    footprints (*before* None for a new contact)."""
    old_events = before["events"] if before else {}
    new_events = after["events"]
    days = {
        key[2]
        for key in set(old_events) | set(new_events)
        if old_events.get(key) != new_events.get(key)
    }
    old_stock = before["stock"] if before else None
    new_stock = after["stock"]
    since = None
    if old_stock != new_stock:
        starts = []
        for stock in (old_stock, new_stock):
            if stock is not None:
                starts.append(stock[2])
        if old_stock and new_stock and old_stock[:3] == new_stock[:3]:
            # Same stretch start: only the end moved (None: still in the stock).
            ends = [d for d in (old_stock[3], new_stock[3]) if d is not None]
            starts = [min(ends)] if ends else starts
        since = min(starts) if starts else None
    return days, since


def days_to_refresh(days, since, *, receipt=None, today=None) -> list[date]:
    """The days to pass to :func:`refresh` for a write: *days*, plus every day from
    *since* to *today* (the stock moved). The contact's *receipt* day is added when it
    falls within CLUSTER_GAP days before *since* (same cluster: it costs next to nothing,
    and its row is then rebuilt from the current contacts too)."""
    wanted = set(days)
    if since is not None:
        today = today or timezone.localdate()
        wanted.update(since + timedelta(days=i) for i in range((today - since).days + 1))
        if receipt is not None and 0 <= (since - receipt).days <= CLUSTER_GAP:
            wanted.add(receipt)
    return sorted(wanted)
