"""Indicator sources of the appointments app, registered with the commitments registry
(voix.commitments.measures.register_source, see docs/measurements.md).

Each source returns rows ``(site, label, numerator, denominator, sample)``: per site and for
the organisation as a whole (site None), with the label (the measurement's « canal »
column) empty for the headline figure and set for a breakdown (a reason, a mode).

- ``appointments.delay``: mean number of working days (jours ouvrés, the site's calendar)
  between the day of a daily availability snapshot and the first free slot it found, over
  the snapshots of the period (AvailabilitySnapshot, taken by ``manage.py
  snapshot_availability``). Per site, per site and reason, for the organisation and per
  reason. A snapshot that found no slot within the booking horizon is left out of the mean
  (it has no delay to average); see docs/appointments.md.
- ``appointments.no_show``: no-shows ÷ (honoured + no-shows), for appointments that started
  in the period. Per site, for the organisation and per mode.
- ``appointments.mode.<mode>`` / ``appointments.channel.<channel>``: share of the
  appointments of the period held in that mode / booked through that channel (cancelled
  and excused ones left out: they took no advisor time).
- ``appointments.referrals``: appointments booked with a partner relay (relay set), per
  relay (the measurement's site is the relay) and for the organisation; cancelled and
  excused ones left out.

Appointments are read directly with aggregate queries (GROUP BY), bounded on
(organisation, starts_at), which the ``appointment_org_start`` index serves: a month is a
few thousand rows at most for a departmental body, so no daily roll-up table is needed —
unlike the contacts log or the reception queue, which count hundreds of thousands of rows.
"""

from collections import defaultdict
from datetime import datetime, time

from django.db.models import Count

from voix.core import workdays

from .models import Appointment, AvailabilitySnapshot, Channel, Mode, Reason, Status

ALL = ""
LABEL_LENGTH = 30  # Measurement.channel
# Appointments that did not take place by the book: not counted in the shares.
NOT_HELD = (Status.CANCELLED, Status.EXCUSED)


def _bounds(organisation, start, end):
    """The period [start, end) as aware datetimes in the organisation's time zone."""
    region = workdays.region_for_departement(organisation.departement or "")
    tz = workdays.WorkCalendar(region=region).tz
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def _appointments(organisation, site, start, end, *, site_field="site"):
    low, high = _bounds(organisation, start, end)
    rows = Appointment.objects.filter(
        organisation=organisation, starts_at__gte=low, starts_at__lt=high
    )
    if site is not None:
        rows = rows.filter(**{site_field: site})
    return rows.order_by()


def _sites(organisation):
    return {site.pk: site for site in organisation.sites.all()}


def reason_labels(organisation) -> dict[int, str]:
    """Each reason's label as a measurement label: 30 characters at most, unique."""
    labels, used = {}, set()
    for pk, label in Reason.objects.filter(organisation=organisation).values_list("pk", "label"):
        text = label if len(label) <= LABEL_LENGTH else label[: LABEL_LENGTH - 1] + "…"
        if text in used:
            suffix = f" n°{pk}"
            text = label[: LABEL_LENGTH - len(suffix) - 1] + "…" + suffix
        used.add(text)
        labels[pk] = text
    return labels


def _rows(organisation, site, totals, *, labels=None):
    """Turn {(site_id, label): [numerator, denominator]} into the registry's rows: each site
    (headline, then its breakdown), the organisation (headline, then breakdown), stable order;
    only the asked site when one is asked. A scope with nothing measured gives no row."""
    sites = _sites(organisation)
    by_site = defaultdict(lambda: [0, 0])
    whole = defaultdict(lambda: [0, 0])
    for (site_id, label), (numerator, denominator) in totals.items():
        for bucket in (by_site[(site_id, label)], whole[label]):
            bucket[0] += numerator
            bucket[1] += denominator
    rows = []
    for (site_id, label), (numerator, denominator) in sorted(
        by_site.items(), key=lambda item: (sites[item[0][0]].name, item[0][0], item[0][1])
    ):
        rows.append((sites[site_id], label, numerator, denominator, None))
    if site is not None:
        rows = [row for row in rows if row[0].pk == site.pk]
    else:
        rows.extend(
            (None, label, numerator, denominator, None)
            for label, (numerator, denominator) in sorted(whole.items())
        )
    return [row for row in rows if row[3]]


def _with_headline(totals):
    """Add, per site, the headline (all labels) to per-(site, label) totals."""
    result = defaultdict(lambda: [0, 0])
    for (site_id, label), (numerator, denominator) in totals.items():
        for key in ((site_id, ALL), (site_id, label)):
            result[key][0] += numerator
            result[key][1] += denominator
    return dict(result)


# ----- délai d'obtention d'un rendez-vous ------------------------------------------------


def delay(organisation, site, period_kind, period_start, period_end):
    """Mean working days from a snapshot to the first free slot, over the period's daily
    snapshots that found one: per site and reason, per site, per reason, overall."""
    snapshots = AvailabilitySnapshot.objects.filter(
        organisation=organisation,
        day__gte=period_start,
        day__lt=period_end,
        first_available_at__isnull=False,
    )
    if site is not None:
        snapshots = snapshots.filter(site=site)
    labels = reason_labels(organisation)
    sites = _sites(organisation)
    calendars = {}  # site id -> working-day calendar, read once per site
    totals = defaultdict(lambda: [0, 0])
    rows = snapshots.order_by().values_list("site_id", "reason_id", "day", "first_available_at")
    for site_id, reason_id, day, first_at in rows:
        if site_id not in sites:
            continue
        if site_id not in calendars:
            calendars[site_id] = sites[site_id].calendar()
        calendar = calendars[site_id]
        first_day = first_at.astimezone(calendar.tz).date()
        bucket = totals[(site_id, labels.get(reason_id, f"motif n°{reason_id}"))]
        bucket[0] += max(workdays.working_days_between(day, first_day, calendar), 0)
        bucket[1] += 1
    return _rows(organisation, site, _with_headline(totals))


# ----- rendez-vous non honorés -----------------------------------------------------------


def no_show(organisation, site, period_kind, period_start, period_end):
    """No-shows ÷ (honoured + no-shows) among the appointments that started in the period:
    per site, overall and, for the organisation, per mode."""
    grouped = (
        _appointments(organisation, site, period_start, period_end)
        .filter(status__in=[Status.HONOURED, Status.NO_SHOW])
        .values("site_id", "mode", "status")
        .annotate(n=Count("pk"))
    )
    per_site = defaultdict(lambda: [0, 0])
    per_mode = defaultdict(lambda: [0, 0])
    mode_labels = dict(Mode.choices)
    for row in grouped:
        absent = row["n"] if row["status"] == Status.NO_SHOW else 0
        for bucket in (per_site[(row["site_id"], ALL)], per_mode[mode_labels[row["mode"]]]):
            bucket[0] += absent
            bucket[1] += row["n"]
    rows = _rows(organisation, site, per_site)
    if site is None:
        rows.extend(
            (None, label, numerator, denominator, None)
            for label, (numerator, denominator) in sorted(per_mode.items())
            if denominator
        )
    return rows


# ----- parts par mode et par canal de réservation ---------------------------------------


def _share_source(field, value):
    """Share of the period's held (or planned) appointments whose *field* is *value*."""

    def source(organisation, site, period_kind, period_start, period_end):
        grouped = (
            _appointments(organisation, site, period_start, period_end)
            .exclude(status__in=NOT_HELD)
            .values("site_id", field)
            .annotate(n=Count("pk"))
        )
        totals = defaultdict(lambda: [0, 0])
        for row in grouped:
            bucket = totals[(row["site_id"], ALL)]
            bucket[0] += row["n"] if row[field] == value else 0
            bucket[1] += row["n"]
        return _rows(organisation, site, totals)

    source.__name__ = f"share_{field}_{value}"
    source.__doc__ = f"Share of the period's appointments with {field} = {value}."
    return source


# ----- orientations par les relais partenaires ------------------------------------------


def referrals(organisation, site, period_kind, period_start, period_end):
    """Appointments of the period booked with a partner relay, per relay (the row's site is
    the relay) and overall; the sample is the count itself."""
    grouped = (
        _appointments(organisation, site, period_start, period_end, site_field="relay")
        .filter(relay__isnull=False, relay__organisation=organisation)
        .exclude(status__in=NOT_HELD)
        .values("relay_id")
        .annotate(n=Count("pk"))
    )
    sites = _sites(organisation)
    rows = [
        (sites[row["relay_id"]], ALL, row["n"], None, row["n"])
        for row in sorted(grouped, key=lambda r: (sites[r["relay_id"]].name, r["relay_id"]))
        if row["n"]
    ]
    if site is None:
        total = sum(row[2] for row in rows)
        if total:
            rows.append((None, ALL, total, None, total))
    return rows


SOURCES = {
    "appointments.delay": delay,
    "appointments.no_show": no_show,
    "appointments.referrals": referrals,
    **{f"appointments.mode.{mode}": _share_source("mode", mode) for mode in Mode.values},
    **{
        f"appointments.channel.{channel}": _share_source("channel", channel)
        for channel in Channel.values
    },
}


def register() -> None:
    """Plug every source of this module into the commitments registry (AppConfig.ready)."""
    from voix.commitments.measures import register_source

    for key, function in SOURCES.items():
        register_source(key, function)
