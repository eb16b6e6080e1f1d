"""Daily roll-ups (ContactDay, CallDay): what the indicator sources read, so that no
dashboard scans raw contacts.

Rows are rebuilt, never incremented in place: :func:`refresh` recomputes exactly the days
a write touched, :func:`rebuild` a whole range (imports, demo, ``manage.py
rebuild_rollups``). Both read the contacts with a handful of GROUP BY queries (one per
kind of event: receipt, acknowledgement due, first answer, closure, plus the call log),
then delete and bulk-insert the rows of those days in one transaction — running them twice
changes nothing.

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
    if wanted:
        _rebuild(organisation, min(wanted), max(wanted), only=wanted)


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
    """Working-day arithmetic on plain dates, per site (numpy, cached per calendar)."""

    def __init__(self, organisation):
        self.organisation = organisation
        self.sites = {site.pk: site for site in organisation.sites.all()}
        self._cache = {}

    def of(self, site_id):
        if site_id not in self._cache:
            source = self.sites.get(site_id) or self.organisation
            self._cache[site_id] = workdays.calendar_of(source)
        return self._cache[site_id]

    def working_days_after_receipt(self, site_id, received, done) -> np.ndarray:
        """Working days from each receipt day (rolled forward) to each done day (≥ 0)."""
        cal = self.of(site_id)
        received = np.asarray(received, dtype="datetime64[D]")
        done = np.asarray(done, dtype="datetime64[D]")
        if received.size == 0:
            return np.zeros(0, dtype=np.int64)
        start = workdays.add_working_days_bulk(received, 0, cal)
        days = workdays.working_days_between_bulk(start, done, cal)
        return np.maximum(days, 0)

    def age_mask(self, site_id, axis: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """mask[i, j]: a contact received on axis[outputs[i] - j] is at most 15 working days
        old at the end of axis[outputs[i]] (False where that index falls before the axis)."""
        cal = self.of(site_id)
        working = np.array([workdays.is_working_day(d, cal) for d in axis.tolist()], dtype=bool)
        number = np.cumsum(working)  # working days up to and including each day
        offsets = np.arange(LOOKBACK + 1)
        received = outputs[:, None] - offsets[None, :]
        inside = received >= 0
        safe = np.where(inside, received, 0)
        age = number[outputs][:, None] - number[safe] - np.where(working[safe], 0, 1)
        return inside & (age <= STOCK_AGE_LIMIT)


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

    # First answers, on the day given, with their receipt day for the delay.
    answers = (
        contacts.filter(first_answer_at__gte=start_at, first_answer_at__lt=end_at)
        .values(
            "site_id",
            "channel",
            day=TruncDate("first_answer_at", tzinfo=tz),
            received_day=TruncDate("received_at", tzinfo=tz),
        )
        .annotate(
            n=Count("id"),
            ok=Sum(
                Case(
                    When(
                        Q(answer_due_at__isnull=True) | Q(first_answer_at__lte=F("answer_due_at")),
                        then=1,
                    ),
                    default=0,
                    output_field=IntegerField(),
                )
            ),
        )
    )
    by_site = defaultdict(list)
    for row in answers:
        by_site[row["site_id"]].append(row)
    for site_id, site_rows in by_site.items():
        delays = calendars.working_days_after_receipt(
            site_id, [r["received_day"] for r in site_rows], [r["day"] for r in site_rows]
        )
        for row, delay in zip(site_rows, delays.tolist(), strict=True):
            target = rows[(site_id, row["channel"], row["day"])]
            target["answered"] += row["n"]
            target["answered_in_time"] += row["ok"] or 0
            target["answer_days_total"] += row["n"] * delay

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
    """Received counts and the end-of-day stock, from (received day, done day) counts."""
    origin = first - timedelta(days=LOOKBACK + 1)  # older receipts are clamped here
    start_at, end_at = _bounds(first, last, tz)
    done_at = Least(
        Coalesce("first_answer_at", "closed_at"), Coalesce("closed_at", "first_answer_at")
    )
    groups = (
        contacts.annotate(done_at=done_at)
        .filter(received_at__lt=end_at)
        .filter(Q(done_at__isnull=True) | Q(done_at__gte=start_at) | Q(received_at__gte=start_at))
        .values(
            "site_id",
            "channel",
            "reason__seasonal_mass",
            received_day=TruncDate("received_at", tzinfo=tz),
            done_day=TruncDate("done_at", tzinfo=tz),
        )
        .annotate(n=Count("id"))
    )
    size = (last - origin).days + 1
    never = np.iinfo(np.int32).max // 2
    by_scope = defaultdict(list)
    for row in groups:
        by_scope[(row["site_id"], row["channel"])].append(row)
    axis = np.arange(np.datetime64(origin), np.datetime64(last) + 1)
    outputs = np.arange((first - origin).days, size)
    masks = {}
    for (site_id, channel), scope_rows in by_scope.items():
        received = np.array([(r["received_day"] - origin).days for r in scope_rows])
        done = np.array(
            [never if r["done_day"] is None else (r["done_day"] - origin).days for r in scope_rows]
        )
        counts = np.array([r["n"] for r in scope_rows], dtype=np.int64)
        seasonal = np.array([bool(r["reason__seasonal_mass"]) for r in scope_rows])

        # Received per day (everything, seasonal items included).
        inside = received >= outputs[0]
        received_per_day = np.bincount(received[inside], counts[inside], minlength=size)
        received_per_day = received_per_day.astype(np.int64)

        # Stock: non-seasonal, received clamped to the origin, out when done.
        keep = ~seasonal
        r = np.maximum(received[keep], 0)
        d = np.maximum(done[keep], r)
        n = counts[keep]
        added = np.bincount(r, n, minlength=size)
        removed_inside = d < size
        removed = np.bincount(d[removed_inside], n[removed_inside], minlength=size)
        pending = (np.cumsum(added) - np.cumsum(removed)).astype(np.int64)

        # The part of the stock received at most 15 working days ago: H[t, k] contacts
        # received on day t and done k days later (k > LOOKBACK folded into the last
        # column), so still pending j days after receipt when k > j.
        later = np.minimum(d - r, LOOKBACK + 1)
        histogram = np.zeros((size, LOOKBACK + 2), dtype=np.int64)
        np.add.at(histogram, (r, later), n)
        still = np.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:]  # [t, j]: done > t + j
        if site_id not in masks:
            masks[site_id] = calendars.age_mask(site_id, axis, outputs)
        mask = masks[site_id]
        offsets = np.arange(LOOKBACK + 1)
        receipt = np.maximum(outputs[:, None] - offsets[None, :], 0)
        within = (still[receipt, offsets[None, :]] * mask).sum(axis=1)

        for index, out in enumerate(outputs.tolist()):
            values = (
                int(received_per_day[out]),
                int(pending[out]),
                int(within[index]),
            )
            if not any(values):
                continue
            day = origin + timedelta(days=out)
            target = rows[(site_id, channel, day)]
            target["received"] += values[0]
            target["pending"] += values[1]
            target["pending_within_15"] += values[2]


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
    tz = workdays.calendar_of(organisation).tz
    calendars = _Calendars(organisation)
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
    """Insert plain rows: COPY on PostgreSQL, executemany elsewhere (the ORM's per-field
    preparation would cost more than the whole computation for a year of roll-ups)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
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
