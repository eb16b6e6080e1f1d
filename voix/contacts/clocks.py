"""Deadline clocks of the contact log: policies, deadlines, and the sweep that warns and flags.

Rules (docs/contacts.md gives a worked example)
=============================================

Policy
    The most specific :class:`ClockPolicy` wins: organisation × channel × reason, then
    organisation × channel × the reason's theme, then organisation × channel. When the
    organisation has saved none for the channel, the defaults below apply (unsaved); an
    empty delay means no clock for that step.

Defaults (REFERENCE §1)
    Written requests are acknowledged within 1 week when electronic (courriel, messagerie:
    5 working days) and 2 weeks by post (courrier: 10 working days). The answer delay is
    not in the sources: we assume **15 working days** for every channel (the Caf's
    « antériorité du solde ≤ 15 jours ouvrés » threshold), editable per organisation.
    Non-written channels have no acknowledgement clock.

Deadline in working days
    ``add_working_days(received_at, n)`` on the site's calendar (the organisation's when
    the contact has no site): a request received after closing time, or on a non-working
    day, counts from the next working day. The deadline is the **end of that day**
    (23:59:59, local time).

Deadline in hours
    ``received_at + n hours`` (wall-clock hours, no calendar).

Pause (waiting for the requester's documents)
    While paused, no deadline runs (``due_at`` is empty). On resumption, the working days
    of the pause — those ``d`` with ``effective_start(paused_at) < d <= effective_start(
    resumed_at)``, i.e. ``working_days_between`` — are added to ``paused_days``, and its
    duration to ``paused_seconds``. Every deadline **not yet met** is the base deadline
    plus ``paused_days`` working days (or plus ``paused_seconds`` for hours). A deadline met
    (step done) keeps the value it had when the step was done.

Next deadline
    ``due_at`` is the earliest deadline still running: the acknowledgement while neither
    an acknowledgement nor an answer was given, then the answer while none was given.
    Empty when the contact is closed, answered, or paused. ``warn_at = due_at −
    warn_before_hours``.

Sweep
    Set-based, in batches of contact ids. A notice (warning or breach) is a row of
    :class:`ClockNotice`, unique on (contact, kind, step, due_at): the sweeper inserts with
    ``ON CONFLICT DO NOTHING … RETURNING`` and sends only the rows it inserted, so a notice
    goes out once even when several sweepers run at the same time. ``breached_at`` is set
    when the sweep finds the running deadline missed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from voix.core import workdays

from .models import (
    OPEN_STATUSES,
    Channel,
    ClockNotice,
    ClockPolicy,
    Contact,
    DelayUnit,
    Reason,
)

#: Assumed answer delay (working days) when the sources give none; editable per policy.
DEFAULT_ANSWER_DAYS = 15
DEFAULT_WARN_BEFORE_HOURS = 24
#: Acknowledgement delays (working days) from REFERENCE §1.
DEFAULT_ACK_DAYS = {Channel.EMAIL: 5, Channel.MESSAGING: 5, Channel.LETTER: 10}

END_OF_DAY = time(23, 59, 59)


def default_policy(organisation, channel) -> ClockPolicy:
    """The default policy of a channel (unsaved)."""
    return ClockPolicy(
        organisation=organisation,
        channel=channel,
        reason=None,
        ack_delay=DEFAULT_ACK_DAYS.get(channel),
        ack_unit=DelayUnit.WORKING_DAYS,
        answer_delay=DEFAULT_ANSWER_DAYS,
        answer_unit=DelayUnit.WORKING_DAYS,
        warn_before_hours=DEFAULT_WARN_BEFORE_HOURS,
    )


def ensure_default_policies(organisation) -> list[ClockPolicy]:
    """Save the default policy of every channel the organisation has none for (idempotent).

    Existing policies are never changed. Returns the policies created.
    """
    existing = set(
        ClockPolicy.objects.filter(organisation=organisation, reason__isnull=True).values_list(
            "channel", flat=True
        )
    )
    missing = [
        default_policy(organisation, channel)
        for channel in Channel.values
        if channel not in existing
    ]
    if missing:
        ClockPolicy.objects.bulk_create(missing, ignore_conflicts=True)
    return missing


class PolicyBook:
    """Every policy of one organisation, resolved without further queries."""

    def __init__(self, organisation):
        self.organisation = organisation
        self.by_key = {
            (p.channel, p.reason_id): p
            for p in ClockPolicy.objects.filter(organisation=organisation)
        }
        self.parents = (
            dict(
                Reason.objects.filter(organisation=organisation, parent__isnull=False).values_list(
                    "pk", "parent_id"
                )
            )
            if any(reason_id for _, reason_id in self.by_key)
            else {}
        )

    def resolve(self, channel, reason_id) -> ClockPolicy:
        for key in (reason_id, self.parents.get(reason_id)):
            if key is not None and (channel, key) in self.by_key:
                return self.by_key[channel, key]
        found = self.by_key.get((channel, None))
        if found is None:
            found = self.by_key[channel, None] = default_policy(self.organisation, channel)
        return found


def policy_for(organisation, channel, reason=None) -> ClockPolicy:
    """The policy that applies (reason, then its theme, then the channel, then the default)."""
    reason_ids = []
    if reason is not None:
        reason_ids = [reason.pk] + ([reason.parent_id] if reason.parent_id else [])
    found = {
        p.reason_id: p
        for p in ClockPolicy.objects.filter(organisation=organisation, channel=channel).filter(
            **({} if reason_ids else {"reason__isnull": True})
        )
        if p.reason_id is None or p.reason_id in reason_ids
    }
    for key in [*reason_ids, None]:
        if key in found:
            return found[key]
    return default_policy(organisation, channel)


def calendar_for(contact) -> workdays.WorkCalendar:
    """The site's calendar, or the organisation's when the contact has no site."""
    return workdays.calendar_of(contact.site if contact.site_id else contact.organisation)


def _deadline(received_at, delay, unit, paused_days, paused_seconds, cal):
    if delay is None:
        return None
    if unit == DelayUnit.HOURS:
        return received_at + timedelta(hours=delay, seconds=paused_seconds)
    day = workdays.add_working_days(received_at, delay + paused_days, cal)
    return datetime.combine(day, END_OF_DAY, tzinfo=cal.tz).astimezone(UTC)


def compute_deadlines(contact, *, policy=None, calendar=None) -> None:
    """Set ack_due_at, answer_due_at, due_at and warn_at on *contact* (no save)."""
    policy = policy or policy_for(contact.organisation, contact.channel, contact.reason)
    cal = calendar or calendar_for(contact)
    args = (contact.paused_days, contact.paused_seconds, cal)
    ack_done = contact.acknowledged_at is not None or contact.first_answer_at is not None
    answer_done = contact.first_answer_at is not None
    if not (ack_done and contact.ack_due_at):
        contact.ack_due_at = _deadline(
            contact.received_at, policy.ack_delay, policy.ack_unit, *args
        )
    if not (answer_done and contact.answer_due_at):
        contact.answer_due_at = _deadline(
            contact.received_at, policy.answer_delay, policy.answer_unit, *args
        )
    running = []
    if contact.status in OPEN_STATUSES and contact.paused_at is None and not contact.closed_at:
        if not ack_done and contact.ack_due_at:
            running.append(contact.ack_due_at)
        if not answer_done and contact.answer_due_at:
            running.append(contact.answer_due_at)
    contact.due_at = min(running) if running else None
    contact.warn_at = (
        contact.due_at - timedelta(hours=policy.warn_before_hours) if contact.due_at else None
    )


def pause_extension(contact, resumed_at) -> tuple[int, int]:
    """(working days, seconds) the pause that started at contact.paused_at adds."""
    cal = calendar_for(contact)
    days = max(0, workdays.working_days_between(contact.paused_at, resumed_at, cal))
    seconds = max(0, int((resumed_at - contact.paused_at).total_seconds()))
    return days, seconds


# ----- bulk (numpy) ------------------------------------------------------------------------

NAT = np.datetime64("NaT", "us")


_HOUR_US = 3600 * 10**6
_DAY_HOURS = np.arange(24, dtype=np.int64)


# UTC offsets and ends of days already computed, per time zone: a file of a million
# contacts asks for the same few hundred days batch after batch.
_OFFSETS: dict = {}
_DAY_ENDS: dict = {}


def _offsets_at(hours: np.ndarray, tz) -> np.ndarray:
    """UTC offsets (seconds) of *tz* at whole UTC hours (int64 hours since the epoch)."""
    known = _OFFSETS.setdefault(tz, {})
    result = np.empty(len(hours), dtype=np.int64)
    for i, hour in enumerate(hours.tolist()):
        offset = known.get(hour)
        if offset is None:
            at = datetime.fromtimestamp(hour * 3600, UTC).astimezone(tz)
            offset = known[hour] = int(at.utcoffset().total_seconds())
        result[i] = offset
    return result


def _local_naive(utc: np.ndarray, tz) -> np.ndarray:
    """UTC datetime64[us] → naive local wall-clock datetime64[us] in *tz*.

    The offset is read once per distinct UTC day (its first hour and the next day's); only
    the days whose offset changes inside (daylight-saving days) are read hour by hour.
    """
    if utc.size == 0:
        return utc
    hours = utc.astype("datetime64[h]").astype(np.int64)
    days = np.floor_divide(hours, 24)
    unique, inverse = np.unique(days, return_inverse=True)
    starts = _offsets_at(unique * 24, tz)
    ends = _offsets_at(unique * 24 + 24, tz)
    offsets = starts[inverse]
    for day in unique[starts != ends]:
        in_day = days == day
        per_hour = _offsets_at(day * 24 + _DAY_HOURS, tz)
        offsets[in_day] = per_hour[hours[in_day] - day * 24]
    return utc + (offsets * 10**6).astype("timedelta64[us]")


def _end_of_day_utc(days: np.ndarray, tz) -> np.ndarray:
    """datetime64[D] local days → the UTC instant of 23:59:59 local that day."""
    if days.size == 0:
        return days.astype("datetime64[us]")
    unique, inverse = np.unique(days.astype("datetime64[D]").astype(np.int64), return_inverse=True)
    known = _DAY_ENDS.setdefault(tz, {})
    ends = []
    for day in unique.tolist():  # days since 1970
        end = known.get(day)
        if end is None:
            moment = datetime.combine(date(1970, 1, 1) + timedelta(days=day), END_OF_DAY, tz)
            end = known[day] = int(moment.timestamp()) * 10**6
        ends.append(end)
    ends = np.array(ends, dtype=np.int64).view("datetime64[us]")
    return ends[inverse]


def _deadline_array(received_utc, received_local, delays, units, paused_days, paused_secs, cal):
    """Deadlines of one step for many contacts (NaT where the policy has no delay)."""
    result = np.full(received_utc.shape, NAT)
    has = delays >= 0
    hours = has & units
    if hours.any():
        result[hours] = received_utc[hours] + (
            (delays[hours] * 3600 + paused_secs[hours]) * 10**6
        ).astype("timedelta64[us]")
    days = has & ~units
    if days.any():
        ns = delays[days] + paused_days[days]
        result[days] = _end_of_day_utc(
            workdays.add_working_days_bulk(received_local[days], ns, cal), cal.tz
        )
    return result


@dataclass
class _Columns:
    """Contacts of one calendar, as arrays (datetimes as UTC datetime64[us], NaT = empty)."""

    ids: np.ndarray
    received: np.ndarray
    ack_delay: np.ndarray  # -1 = no clock
    ack_hours: np.ndarray  # bool: unit is hours
    answer_delay: np.ndarray
    answer_hours: np.ndarray
    warn_hours: np.ndarray
    paused_days: np.ndarray
    paused_secs: np.ndarray
    ack_done: np.ndarray
    answer_done: np.ndarray
    running: np.ndarray  # open, not paused, not closed
    old_ack_due: np.ndarray = field(default=None)
    old_answer_due: np.ndarray = field(default=None)


def _compute_columns(cols: _Columns, cal) -> dict[str, np.ndarray]:
    local = _local_naive(cols.received, cal.tz)
    ack = _deadline_array(
        cols.received,
        local,
        cols.ack_delay,
        cols.ack_hours,
        cols.paused_days,
        cols.paused_secs,
        cal,
    )
    answer = _deadline_array(
        cols.received,
        local,
        cols.answer_delay,
        cols.answer_hours,
        cols.paused_days,
        cols.paused_secs,
        cal,
    )
    if cols.old_ack_due is not None:
        keep = cols.ack_done & ~np.isnat(cols.old_ack_due)
        ack = np.where(keep, cols.old_ack_due, ack)
    if cols.old_answer_due is not None:
        keep = cols.answer_done & ~np.isnat(cols.old_answer_due)
        answer = np.where(keep, cols.old_answer_due, answer)
    ack_running = cols.running & ~cols.ack_done & ~np.isnat(ack)
    answer_running = cols.running & ~cols.answer_done & ~np.isnat(answer)
    far = np.datetime64("9999-12-31T00:00:00", "us")
    due = np.minimum(np.where(ack_running, ack, far), np.where(answer_running, answer, far))
    due = np.where(due == far, NAT, due)
    warn = due - (cols.warn_hours * 3600 * 10**6).astype("timedelta64[us]")
    return {"ack_due_at": ack, "answer_due_at": answer, "due_at": due, "warn_at": warn}


def _to_utc64(values) -> np.ndarray:
    return np.array(
        [v.astimezone(UTC).replace(tzinfo=None) if v is not None else None for v in values],
        dtype="datetime64[us]",
    )


def apply_deadlines_bulk(organisation, contact_ids, *, batch: int = 20000) -> int:
    """Recompute and save the deadlines of many contacts of *organisation* (numpy calendar).

    Same results as :func:`compute_deadlines` contact by contact. Used by imports after
    loading rows. Returns the number of contacts updated.
    """
    contact_ids = list(contact_ids)
    book = PolicyBook(organisation)
    calendars: dict = {}
    updated = 0
    for start in range(0, len(contact_ids), batch):
        chunk = contact_ids[start : start + batch]
        rows = list(
            Contact.objects.filter(organisation=organisation, pk__in=chunk).values_list(
                "pk",
                "site_id",
                "channel",
                "reason_id",
                "received_at",
                "acknowledged_at",
                "first_answer_at",
                "closed_at",
                "status",
                "paused_at",
                "paused_days",
                "paused_seconds",
                "ack_due_at",
                "answer_due_at",
            )
        )
        by_site: dict = {}
        for row in rows:
            by_site.setdefault(row[1], []).append(row)
        for site_id, site_rows in by_site.items():
            if site_id not in calendars:
                source = organisation.sites.get(pk=site_id) if site_id else organisation
                calendars[site_id] = workdays.calendar_of(source)
            values = _compute_columns(_columns_of(site_rows, book), calendars[site_id])
            updated += write_deadlines(np.array([r[0] for r in site_rows]), values)
    return updated


def _columns_of(rows, book: PolicyBook) -> _Columns:
    policies = [book.resolve(r[2], r[3]) for r in rows]

    def delay(value):
        return -1 if value is None else value

    return _Columns(
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        received=_to_utc64([r[4] for r in rows]),
        ack_delay=np.array([delay(p.ack_delay) for p in policies], dtype=np.int64),
        ack_hours=np.array([p.ack_unit == DelayUnit.HOURS for p in policies]),
        answer_delay=np.array([delay(p.answer_delay) for p in policies], dtype=np.int64),
        answer_hours=np.array([p.answer_unit == DelayUnit.HOURS for p in policies]),
        warn_hours=np.array([p.warn_before_hours for p in policies], dtype=np.int64),
        paused_days=np.array([r[10] for r in rows], dtype=np.int64),
        paused_secs=np.array([r[11] for r in rows], dtype=np.int64),
        ack_done=np.array([r[5] is not None or r[6] is not None for r in rows]),
        answer_done=np.array([r[6] is not None for r in rows]),
        running=np.array([r[8] in OPEN_STATUSES and r[9] is None and r[7] is None for r in rows]),
        old_ack_due=_to_utc64([r[12] for r in rows]),
        old_answer_due=_to_utc64([r[13] for r in rows]),
    )


def deadlines_for_arrays(organisation, calendar, **arrays) -> dict[str, np.ndarray]:
    """Deadlines for rows not saved yet (imports): arrays in, arrays out.

    Keyword arrays (same length): ``channel`` (str), ``reason_id`` (int, None or 0 for none),
    ``received`` (UTC datetime64[us]), ``ack_done``, ``answer_done``, ``running`` (bool);
    optionally ``book``, a :class:`PolicyBook` reused between calls (one query less each).
    Returns UTC datetime64[us] arrays ``ack_due_at``, ``answer_due_at``, ``due_at``,
    ``warn_at`` (NaT = empty), to be written with the rows.
    """
    book = arrays.get("book") or PolicyBook(organisation)
    channels = np.asarray(arrays["channel"], dtype=object).astype(str)
    reasons = np.asarray(arrays["reason_id"])
    if reasons.dtype == object:
        reasons = np.array([r or 0 for r in reasons.tolist()], dtype=np.int64)
    size = len(channels)
    # One policy per distinct (channel, reason): a handful for a whole file.
    names, channel_codes = np.unique(channels, return_inverse=True)
    span = int(reasons.max()) + 1 if size else 1
    keys, codes = np.unique(channel_codes * span + reasons, return_inverse=True)
    policies = [
        book.resolve(str(names[key // span]), int(key % span) or None) for key in keys.tolist()
    ]

    def column(values, dtype):
        return np.array(values, dtype=dtype)[codes] if policies else np.zeros(0, dtype=dtype)

    cols = _Columns(
        ids=np.arange(size),
        received=np.asarray(arrays["received"], dtype="datetime64[us]"),
        ack_delay=column([-1 if p.ack_delay is None else p.ack_delay for p in policies], np.int64),
        ack_hours=column([p.ack_unit == DelayUnit.HOURS for p in policies], bool),
        answer_delay=column(
            [-1 if p.answer_delay is None else p.answer_delay for p in policies], np.int64
        ),
        answer_hours=column([p.answer_unit == DelayUnit.HOURS for p in policies], bool),
        warn_hours=column([p.warn_before_hours for p in policies], np.int64),
        paused_days=np.zeros(size, dtype=np.int64),
        paused_secs=np.zeros(size, dtype=np.int64),
        ack_done=np.asarray(arrays["ack_done"], dtype=bool),
        answer_done=np.asarray(arrays["answer_done"], dtype=bool),
        running=np.asarray(arrays["running"], dtype=bool),
    )
    return _compute_columns(cols, workdays.calendar_of(calendar))


def _sql_values(array: np.ndarray) -> list:
    """datetime64[us] UTC → values the database driver takes (None for NaT)."""
    text = np.datetime_as_string(array, unit="us")
    if connection.vendor == "postgresql":
        return [None if t == "NaT" else t + "+00:00" for t in text]
    # Django's SQLite format: "YYYY-MM-DD HH:MM:SS[.ffffff]", no fraction when it is zero.
    return [None if t == "NaT" else t.replace("T", " ").removesuffix(".000000") for t in text]


def _db_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)


def write_deadlines(ids: np.ndarray, values: dict[str, np.ndarray], *, chunk: int = 5000) -> int:
    """Save computed deadline columns for *ids* in set-based UPDATEs."""
    table = Contact._meta.db_table
    names = ["ack_due_at", "answer_due_at", "due_at", "warn_at"]
    columns = [_sql_values(values[name]) for name in names]
    rows = [(int(i), *vals) for i, *vals in zip(ids, *columns, strict=True)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for start in range(0, len(rows), chunk):
                part = rows[start : start + chunk]
                placeholders = ",".join(
                    ["(%s::bigint,%s::timestamptz,%s::timestamptz,%s::timestamptz,%s::timestamptz)"]
                    * len(part)
                )
                cursor.execute(
                    f"UPDATE {table} AS c SET ack_due_at = v.a, answer_due_at = v.r, "
                    f"due_at = v.d, warn_at = v.w FROM (VALUES {placeholders}) "
                    "AS v(id, a, r, d, w) WHERE c.id = v.id",
                    [x for row in part for x in row],
                )
        else:
            cursor.executemany(
                f"UPDATE {table} SET ack_due_at = %s, answer_due_at = %s, due_at = %s, "
                "warn_at = %s WHERE id = %s",
                [(*row[1:], row[0]) for row in rows],
            )
    return len(rows)


# ----- sweep -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    warned: int = 0
    breached: int = 0
    notices: list[int] = field(default_factory=list)
    # Seconds spent per phase (candidates, insert, flag, commit with the e-mails queued):
    # for benchmarks.
    timings: dict = field(default_factory=dict)

    def clock(self, phase, started):
        self.timings[phase] = self.timings.get(phase, 0.0) + perf_counter() - started

    def __str__(self):
        return f"{self.warned} avertissement(s), {self.breached} dépassement(s) signalé(s)"


def _max_warn_hours() -> int:
    from django.db.models import Max

    stored = ClockPolicy.objects.aggregate(m=Max("warn_before_hours"))["m"] or 0
    return max(stored, DEFAULT_WARN_BEFORE_HOURS)


def _candidate_ids(where: str, params: list) -> list[int]:
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE {where} ORDER BY id", params)
        return [row[0] for row in cursor.fetchall()]


def _insert_notices(kind: str, where: str, params: list, now) -> list[tuple[int, int, int]]:
    """Insert one notice per matching contact unless it exists; return the rows inserted."""
    contact = Contact._meta.db_table
    notice = ClockNotice._meta.db_table
    step = (
        "CASE WHEN c.acknowledged_at IS NULL AND c.first_answer_at IS NULL "
        "AND c.ack_due_at = c.due_at THEN %s ELSE %s END"
    )
    sql = (
        f"INSERT INTO {notice} (contact_id, kind, step, due_at, recipient_id, created_at) "
        f"SELECT c.id, %s, {step}, c.due_at, c.assignee_id, %s FROM {contact} AS c "
        f"WHERE {where} "
        "ON CONFLICT (contact_id, kind, step, due_at) DO NOTHING "
        "RETURNING id, contact_id, recipient_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [kind, ClockNotice.Step.ACK, ClockNotice.Step.ANSWER, _db_datetime(now), *params],
        )
        return cursor.fetchall()


def sweep(now=None, batch: int = 50000) -> SweepReport:
    """Warn assignees of deadlines coming up and flag the missed ones (each notice once).

    Contacts are taken by id ranges of at most *batch* candidates, each range in its own
    transaction: a notice row is inserted, and the e-mail queued on commit, only by the
    sweeper whose INSERT created it.
    """
    now = now or timezone.now()
    report = SweepReport()
    contact = Contact._meta.db_table
    window = _db_datetime(now + timedelta(hours=_max_warn_hours()))
    at = _db_datetime(now)
    cases = [
        (
            ClockNotice.Kind.BREACH,
            "c.due_at IS NOT NULL AND c.due_at <= %s "
            "AND (c.breached_at IS NULL OR c.breached_at < c.due_at)",
            [at],
        ),
        (
            ClockNotice.Kind.WARNING,
            "c.due_at > %s AND c.due_at <= %s AND c.warn_at <= %s",
            [at, window, at],
        ),
    ]
    for kind, where, params in cases:
        started = perf_counter()
        ids = _candidate_ids(where.replace("c.", ""), params)
        report.clock("candidates", started)
        for start in range(0, len(ids), batch):
            low, high = ids[start], ids[min(start + batch, len(ids)) - 1]
            ranged = f"{where} AND c.id BETWEEN %s AND %s"
            started = perf_counter()
            with transaction.atomic():
                inserted = _insert_notices(kind, ranged, [*params, low, high], now)
                report.clock("insert", started)
                started = perf_counter()
                if kind == ClockNotice.Kind.BREACH:
                    with connection.cursor() as cursor:
                        cursor.execute(
                            f"UPDATE {contact} SET breached_at = %s WHERE id BETWEEN %s AND %s "
                            "AND due_at IS NOT NULL AND due_at <= %s "
                            "AND (breached_at IS NULL OR breached_at < due_at)",
                            [at, low, high, at],
                        )
                    report.breached += len(inserted)
                else:
                    report.warned += len(inserted)
                report.clock("flag", started)
                started = perf_counter()
                to_send = [row[0] for row in inserted if row[2] is not None]
                report.notices.extend(row[0] for row in inserted)
                if to_send:
                    transaction.on_commit(lambda ids=to_send: _enqueue_notices(ids))
            report.clock("commit", started)
    return report


def _enqueue_notices(notice_ids: list[int]) -> None:
    from .tasks import send_clock_notices

    send_clock_notices.enqueue(notice_ids)
