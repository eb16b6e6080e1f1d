"""Daily roll-ups (ContactDay, CallDay): what the indicator sources read, so that no
dashboard scans raw contacts.

Rows are rebuilt, never incremented in place: :func:`refresh` recomputes exactly the days
a write touched, :func:`rebuild` a whole range (imports, demo, ``manage.py
rebuild_rollups``). Both count the contacts set-based — on PostgreSQL in a single scan
(GROUPING SETS), elsewhere with one GROUP BY query per kind of event (receipt,
acknowledgement due, first answer, closure, departure from the stock…) — plus one query
for the call log, then delete and insert the rows of those days in one transaction:
running them twice changes nothing.

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

The stock is computed for a whole range at once from (day received, day done) counts with
cumulative sums (numpy): never one query per day.
"""

from collections import defaultdict
from datetime import date, datetime, time, timedelta

import numpy as np
from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Q, Sum, When
from django.db.models.functions import Coalesce, Least, TruncDate

from voix.core import workdays

from .models import Call, CallDay, CallOutcome, Contact, ContactDay

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


def refresh(organisation, days) -> None:
    """Rebuild the roll-ups of *organisation* for each date in *days* (idempotent).

    Accepts dates or aware datetimes (taken as local days). Only those days are rewritten.
    """
    tz = workdays.calendar_of(organisation).tz
    wanted = set()
    for day in days:
        if day is None:
            continue
        if isinstance(day, datetime):
            day = day.astimezone(tz).date()
        wanted.add(day)
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


# ----- computing -------------------------------------------------------------------------


def _bounds(first: date, last: date, tz):
    """Aware datetimes of local midnight on *first* and on the day after *last*."""
    return (
        datetime.combine(first, time(), tzinfo=tz),
        datetime.combine(last + timedelta(days=1), time(), tzinfo=tz),
    )


class _Calendars:
    """Working-day numbers per site, as a temporary table the roll-up queries join.

    One row per site (0: contacts without a site) and day: ``num`` = working days up to and
    including the day; ``start_num`` = ``num`` of the day a receipt counts from (the next
    working day when the day is not one); ``young_until`` = the first day a contact
    received that day is more than 15 working days old. So the delay of an answer given on
    day *a* for a receipt on day *r* is ``num(a) - start_num(r)``, with no per-row Python.
    """

    TABLE = "voix_rollup_days"

    def __init__(self, organisation, first: date, last: date):
        self.organisation = organisation
        self.first = first - timedelta(days=CALENDAR_LOOKBACK)
        self.last = last
        sites = {site.pk: site for site in organisation.sites.all()}
        axis = [self.first + timedelta(days=i) for i in range((last - self.first).days + 1)]
        rows = []
        cached = {}
        for site_id, source in [(0, organisation), *sites.items()]:
            cal = workdays.calendar_of(source)
            key = (cal.region, cal.closures)
            if key not in cached:
                working = np.array([workdays.is_working_day(d, cal) for d in axis], dtype=bool)
                num = np.cumsum(working)
                start_num = num + np.where(working, 0, 1)
                limit = np.searchsorted(num, start_num + STOCK_AGE_LIMIT + 1, side="left")
                cached[key] = (num.tolist(), start_num.tolist(), limit.tolist())
            num, start_num, limit = cached[key]
            for index, day in enumerate(axis):
                until = self.first + timedelta(days=int(limit[index]))
                rows.append((site_id, day, num[index], start_num[index], until))
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.TABLE} (site integer, day date, "
                "num integer, start_num integer, young_until date)"
            )
            cursor.execute(f"DELETE FROM {self.TABLE}")
        _insert_rows(self.TABLE, ("site", "day", "num", "start_num", "young_until"), rows)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
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


def _raw(sql: str, params) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _not_seasonal():
    return Q(reason__isnull=True) | Q(reason__seasonal_mass=False)


def _done_at():
    """When a contact leaves the stock: its first answer or its closure, the earlier."""
    return Least(Coalesce("first_answer_at", "closed_at"), Coalesce("closed_at", "first_answer_at"))


def _contact_rows(organisation, first: date, last: date, tz, calendars: _Calendars):
    """{(site_id, channel, day): {field: count}} for every day of [first, last]."""
    rows = defaultdict(lambda: dict.fromkeys(CONTACT_FIELDS, 0))
    start_at, end_at = _bounds(first, last, tz)
    contacts = Contact.objects.filter(organisation=organisation).order_by()

    # Acknowledgements, on the day they were due. An answer sent first stands for it.
    ack = (
        contacts.filter(ack_due_at__gte=start_at, ack_due_at__lt=end_at)
        .annotate(
            acknowledged=Least(
                Coalesce("acknowledged_at", "first_answer_at"),
                Coalesce("first_answer_at", "acknowledged_at"),
            )
        )
        .values("site_id", "channel", day=TruncDate("ack_due_at", tzinfo=tz))
        .annotate(
            n=Count("id"),
            ok=Sum(
                Case(
                    When(acknowledged__lte=F("ack_due_at"), then=1),
                    default=0,
                    output_field=IntegerField(),
                )
            ),
        )
    )
    for row in ack:
        target = rows[(row["site_id"], row["channel"], row["day"])]
        target["ack_due"] += row["n"]
        target["ack_in_time"] += row["ok"] or 0

    # First answers, on the day given; the delay in working days from the calendar table.
    answers = (
        contacts.filter(first_answer_at__gte=start_at, first_answer_at__lt=end_at)
        .annotate(
            answer_day=TruncDate("first_answer_at", tzinfo=tz),
            received_day=TruncDate("received_at", tzinfo=tz),
            in_time=Case(
                When(
                    Q(answer_due_at__isnull=True) | Q(first_answer_at__lte=F("answer_due_at")),
                    then=1,
                ),
                default=0,
                output_field=IntegerField(),
            ),
        )
        .values("site_id", "channel", "answer_day", "received_day", "in_time")
    )
    sql, params = answers.query.sql_with_params()
    table = calendars.TABLE
    delay = "a.num - COALESCE(r.start_num, 0)"
    for site_id, channel, day, count, in_time, days in _raw(
        f"SELECT x.site_id, x.channel, x.answer_day, COUNT(*), SUM(x.in_time), "
        f"SUM(CASE WHEN {delay} > 0 THEN {delay} ELSE 0 END) FROM ({sql}) x "
        f"LEFT JOIN {table} a ON a.site = COALESCE(x.site_id, 0) AND a.day = x.answer_day "
        f"LEFT JOIN {table} r ON r.site = COALESCE(x.site_id, 0) AND r.day = x.received_day "
        "GROUP BY x.site_id, x.channel, x.answer_day",
        params,
    ):
        target = rows[(site_id, channel, _day(day))]
        target["answered"] += count
        target["answered_in_time"] += int(in_time or 0)
        target["answer_days_total"] += int(days or 0)

    # Closures, and how many of them had gone back to the requester.
    closures = (
        contacts.filter(closed_at__gte=start_at, closed_at__lt=end_at)
        .values("site_id", "channel", day=TruncDate("closed_at", tzinfo=tz))
        .annotate(
            n=Count("id"),
            back=Sum(Case(When(returns__gt=0, then=1), default=0, output_field=IntegerField())),
        )
    )
    for row in closures:
        target = rows[(row["site_id"], row["channel"], row["day"])]
        target["processed"] += row["n"]
        target["returned"] += row["back"] or 0

    _receipts_and_stock(contacts, rows, first, last, tz, calendars)
    return rows


def _receipts_and_stock(contacts, rows, first, last, tz, calendars):
    """Received counts and the end-of-day stock, with cumulative sums over the days.

    Over an axis starting LOOKBACK days before *first*: the stock is what was there at the
    axis start, plus the cumulated receipts, minus the cumulated departures (first answer
    or closure). Its young part (≤ 15 working days) counts each receipt from its day until
    the earlier of its departure and the day it turns 16 working days old (``young_until``,
    joined from the calendar table): again a difference of two cumulated counts.
    """
    origin = first - timedelta(days=LOOKBACK + 1)
    origin_at, end_at = _bounds(origin, last, tz)
    size = (last - origin).days + 1
    zero = np.zeros(size, dtype=np.int64)
    received_all = defaultdict(zero.copy)
    added, removed, ends = defaultdict(zero.copy), defaultdict(zero.copy), defaultdict(zero.copy)
    base = defaultdict(int)
    plain = contacts.filter(_not_seasonal())

    def index(day):
        return (day - origin).days

    receipts = (
        contacts.filter(received_at__gte=origin_at, received_at__lt=end_at)
        .values(
            "site_id", "channel", "reason__seasonal_mass", day=TruncDate("received_at", tzinfo=tz)
        )
        .annotate(n=Count("id"))
    )
    for row in receipts:
        key, at = (row["site_id"], row["channel"]), index(row["day"])
        received_all[key][at] += row["n"]
        if not row["reason__seasonal_mass"]:
            added[key][at] += row["n"]
    departures = (
        plain.annotate(done_at=_done_at())
        .filter(done_at__gte=origin_at, done_at__lt=end_at)
        .values("site_id", "channel", day=TruncDate("done_at", tzinfo=tz))
        .annotate(n=Count("id"))
    )
    for row in departures:
        removed[(row["site_id"], row["channel"])][index(row["day"])] += row["n"]
    before = (
        plain.annotate(done_at=_done_at())
        .filter(received_at__lt=origin_at)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=origin_at))
        .values("site_id", "channel")
        .annotate(n=Count("id"))
    )
    for row in before:
        base[(row["site_id"], row["channel"])] += row["n"]
    young = (
        plain.annotate(
            done_day=TruncDate(_done_at(), tzinfo=tz),
            received_day=TruncDate("received_at", tzinfo=tz),
        )
        .filter(received_at__gte=origin_at, received_at__lt=end_at)
        .values("site_id", "channel", "received_day", "done_day")
    )
    sql, params = young.query.sql_with_params()
    for site_id, channel, day, count in _raw(
        "SELECT x.site_id, x.channel, CASE WHEN x.done_day IS NOT NULL AND "
        "x.done_day < c.young_until THEN x.done_day ELSE c.young_until END AS e, COUNT(*) "
        f"FROM ({sql}) x JOIN {calendars.TABLE} c ON c.site = COALESCE(x.site_id, 0) "
        "AND c.day = x.received_day GROUP BY x.site_id, x.channel, e",
        params,
    ):
        day = _day(day)
        if day <= last:
            ends[(site_id, channel)][index(day)] += count

    _assemble_stock(rows, first, origin, size, received_all, added, removed, ends, base)


def _assemble_stock(rows, first, origin, size, received_all, added, removed, ends, base):
    """Write received, pending and pending_within_15 for the days from *first* on, from the
    per-day counts over the axis that starts at *origin* (see _receipts_and_stock)."""
    outputs = slice((first - origin).days, size)
    for key in set(received_all) | set(added) | set(removed) | set(base):
        pending = base[key] + np.cumsum(added[key]) - np.cumsum(removed[key])
        within = np.cumsum(added[key]) - np.cumsum(ends[key])
        received = received_all[key]
        for at in range(outputs.start, size):
            values = (int(received[at]), int(pending[at]), int(within[at]))
            if not any(values):
                continue
            target = rows[(*key, origin + timedelta(days=at))]
            target["received"] += values[0]
            target["pending"] += values[1]
            target["pending_within_15"] += values[2]


# ----- PostgreSQL: one pass over the contacts ------------------------------------------

# When True, PostgreSQL computes every per-day count of the contacts in a single scan
# (GROUPING SETS) instead of one query per kind of event.
SINGLE_SCAN = True


def _contact_rows_postgresql(organisation, first: date, last: date, tz, calendars):
    """Same result as _contact_rows, in one scan of the contacts (PostgreSQL only).

    Each contact's local days (acknowledgement due, first answer, closure, receipt,
    departure from the stock, end of its « young » part) are computed once, then counted
    into seven grouping sets at the same time.
    """
    rows = defaultdict(lambda: dict.fromkeys(CONTACT_FIELDS, 0))
    origin = first - timedelta(days=LOOKBACK + 1)
    start_at, end_at = _bounds(first, last, tz)
    origin_at = _bounds(origin, last, tz)[0]
    size = (last - origin).days + 1
    zero = np.zeros(size, dtype=np.int64)
    received_all = defaultdict(zero.copy)
    added, removed, ends = defaultdict(zero.copy), defaultdict(zero.copy), defaultdict(zero.copy)
    base = defaultdict(int)
    contacts = Contact._meta.db_table
    reasons = Contact._meta.get_field("reason").related_model._meta.db_table
    table = calendars.TABLE
    sql = f"""
        SELECT GROUPING(ack_day), GROUPING(ans_day), GROUPING(close_day), GROUPING(recv_day),
               GROUPING(done_day), GROUPING(base), GROUPING(young_end),
               site, channel, ack_day, ans_day, close_day, recv_day, seasonal, done_day,
               base, young_end, COUNT(*), SUM(ack_ok), SUM(in_time), SUM(delay), SUM(back)
        FROM (
            SELECT y.site, y.channel, y.seasonal, y.ack_day, y.ack_ok, y.ans_day, y.in_time,
                   y.close_day, y.back,
                   CASE WHEN y.received_at >= %(origin)s THEN y.recv_local END AS recv_day,
                   CASE WHEN NOT y.seasonal AND y.done_at >= %(origin)s AND y.done_at < %(end)s
                        THEN y.done_local END AS done_day,
                   CASE WHEN NOT y.seasonal AND y.received_at < %(origin)s
                             AND (y.done_at IS NULL OR y.done_at >= %(origin)s)
                        THEN 1 END AS base,
                   CASE WHEN y.ans_day IS NOT NULL
                        THEN GREATEST(a.num - COALESCE(r.start_num, 0), 0) END AS delay,
                   CASE WHEN NOT y.seasonal AND y.received_at >= %(origin)s THEN
                        CASE WHEN y.done_local IS NOT NULL AND y.done_local < r.young_until
                             THEN y.done_local ELSE r.young_until END
                   END AS young_end
            FROM (
                SELECT COALESCE(c.site_id, 0) AS site, c.channel, c.received_at,
                       COALESCE(rs.seasonal_mass, false) AS seasonal,
                       (c.received_at AT TIME ZONE %(tz)s)::date AS recv_local,
                       CASE WHEN c.ack_due_at >= %(start)s AND c.ack_due_at < %(end)s
                            THEN (c.ack_due_at AT TIME ZONE %(tz)s)::date END AS ack_day,
                       CASE WHEN LEAST(c.acknowledged_at, c.first_answer_at) <= c.ack_due_at
                            THEN 1 ELSE 0 END AS ack_ok,
                       CASE WHEN c.first_answer_at >= %(start)s AND c.first_answer_at < %(end)s
                            THEN (c.first_answer_at AT TIME ZONE %(tz)s)::date END AS ans_day,
                       CASE WHEN c.answer_due_at IS NULL OR c.first_answer_at <= c.answer_due_at
                            THEN 1 ELSE 0 END AS in_time,
                       CASE WHEN c.closed_at >= %(start)s AND c.closed_at < %(end)s
                            THEN (c.closed_at AT TIME ZONE %(tz)s)::date END AS close_day,
                       CASE WHEN c.returns > 0 THEN 1 ELSE 0 END AS back,
                       LEAST(c.first_answer_at, c.closed_at) AS done_at,
                       (LEAST(c.first_answer_at, c.closed_at) AT TIME ZONE %(tz)s)::date
                           AS done_local
                FROM {contacts} c LEFT JOIN {reasons} rs ON rs.id = c.reason_id
                WHERE c.organisation_id = %(organisation)s AND c.received_at < %(end)s
                  AND (c.received_at >= %(origin)s
                       OR LEAST(c.first_answer_at, c.closed_at) IS NULL
                       OR LEAST(c.first_answer_at, c.closed_at) >= %(origin)s
                       OR c.ack_due_at >= %(start)s OR c.first_answer_at >= %(start)s
                       OR c.closed_at >= %(start)s)
                OFFSET 0  -- keep the local days computed once per contact
            ) y
            LEFT JOIN {table} a ON a.site = y.site AND a.day = y.ans_day
            LEFT JOIN {table} r ON r.site = y.site AND r.day = y.recv_local
        ) x
        GROUP BY GROUPING SETS (
            (site, channel, ack_day), (site, channel, ans_day), (site, channel, close_day),
            (site, channel, recv_day, seasonal), (site, channel, done_day),
            (site, channel, base), (site, channel, young_end)
        )
    """
    params = {
        "tz": tz.key,
        "start": start_at,
        "end": end_at,
        "origin": origin_at,
        "organisation": organisation.pk,
    }

    def index(day):
        return (day - origin).days

    for row in _raw(sql, params):
        sets, (site, channel, ack_day, ans_day, close_day, recv_day, seasonal) = (
            row[:7],
            row[7:14],
        )
        done_day, in_base, young_end, count, ack_ok, in_time, delay, back = row[14:]
        site = site or None
        key = (site, channel)
        if sets[0] == 0 and ack_day is not None:
            target = rows[(site, channel, ack_day)]
            target["ack_due"] += count
            target["ack_in_time"] += int(ack_ok or 0)
        elif sets[1] == 0 and ans_day is not None:
            target = rows[(site, channel, ans_day)]
            target["answered"] += count
            target["answered_in_time"] += int(in_time or 0)
            target["answer_days_total"] += int(delay or 0)
        elif sets[2] == 0 and close_day is not None:
            target = rows[(site, channel, close_day)]
            target["processed"] += count
            target["returned"] += int(back or 0)
        elif sets[3] == 0 and recv_day is not None:
            received_all[key][index(recv_day)] += count
            if not seasonal:
                added[key][index(recv_day)] += count
        elif sets[4] == 0 and done_day is not None:
            removed[key][index(done_day)] += count
        elif sets[5] == 0 and in_base is not None:
            base[key] += count
        elif sets[6] == 0 and young_end is not None and young_end <= last:
            ends[key][index(young_end)] += count
    _assemble_stock(rows, first, origin, size, received_all, added, removed, ends, base)
    return rows


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


def _rebuild(organisation, first: date, last: date, *, only) -> tuple[int, int]:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The day-level GROUP BYs of a year of contacts need more than the default 4 MB
            # of memory per hash table, or they spill to disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '256MB'")
                # Joining the calendar table: hash joins, not sorting every contact; and no
                # JIT compilation, which costs more than it saves on these queries.
                cursor.execute("SET LOCAL enable_mergejoin = off")
                cursor.execute("SET LOCAL jit = off")
        return _rebuild_in_transaction(organisation, first, last, only=only)


def _rebuild_in_transaction(organisation, first: date, last: date, *, only):
    tz = workdays.calendar_of(organisation).tz
    calendars = _Calendars(organisation, first, last)
    if connection.vendor == "postgresql" and SINGLE_SCAN:
        contact_rows = _contact_rows_postgresql(organisation, first, last, tz, calendars)
    else:
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
    with transaction.atomic():
        days = ContactDay.objects.filter(organisation=organisation)
        call_days = CallDay.objects.filter(organisation=organisation)
        if only is None:
            days = days.filter(day__gte=first, day__lte=last)
            call_days = call_days.filter(day__gte=first, day__lte=last)
        else:
            days = days.filter(day__in=sorted(only))
            call_days = call_days.filter(day__in=sorted(only))
        days._raw_delete(days.db)
        call_days._raw_delete(call_days.db)
        _insert(
            ContactDay,
            ("organisation_id", "site_id", "channel", "day", *CONTACT_FIELDS),
            contact_values,
        )
        _insert(CallDay, ("organisation_id", "site_id", "day", *CALL_FIELDS), call_values)
    return len(contact_values), len(call_values)


def _insert(model, columns, rows) -> None:
    _insert_rows(model._meta.db_table, columns, rows)


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
