"""Indicator sources of the complaints app, registered with the commitments registry
(voix.commitments.measures.register_source, see docs/measurements.md).

Each source returns rows ``(site, label, numerator, denominator, sample)``: per site (the
site the case is about; a case without a site counts for the organisation only) and for
the organisation (site None); the label is empty for the headline figure. Only
réclamations count (suggestions and compliments are left out), and only their first
answer (a mediation's decision is not an answer of the service).

- ``complaints.answer_in_time``: complaints answered in the period within their answer
  deadline (the contact-log clock: the reason's policy, pushed back by the pauses for
  missing documents) ÷ complaints answered in the period;
- ``complaints.answer_delay``: mean working days (the site's calendar, else the
  organisation's) from receipt to answer, pauses deducted, over the complaints answered
  in the period;
- ``complaints.volume_by_theme``: complaints received in the period, in all (headline)
  and per theme (label = the theme, « Sans thème » for untagged cases);
- ``complaints.mediation_rate``: mediations requested in the period ÷ complaints answered
  in the period.

Complaints are few (hundreds a month for a departmental body): read directly, bounded on
(organisation, received_at / answered_at).
"""

from collections import defaultdict
from datetime import datetime, time

from voix.core import workdays

from .models import Complaint, Kind, Mediation

ALL = ""
NO_THEME = "Sans thème"
LABEL_LENGTH = 30  # Measurement.channel


def _bounds(organisation, start, end):
    region = workdays.region_for_departement(organisation.departement or "")
    tz = workdays.WorkCalendar(region=region).tz
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def _complaints(organisation, site, start, end, field):
    low, high = _bounds(organisation, start, end)
    rows = Complaint.objects.filter(
        organisation=organisation,
        kind=Kind.COMPLAINT,
        **{f"{field}__gte": low, f"{field}__lt": high},
    )
    if site is not None:
        rows = rows.filter(site=site)
    return rows.order_by()


def _label(text: str) -> str:
    return text if len(text) <= LABEL_LENGTH else text[: LABEL_LENGTH - 1] + "…"


def _rows(organisation, site, totals, *, count=False):
    """{(site_id or None, label): [numerator, denominator]} → rows: each site (headline then
    labels), then the organisation (headline then labels); only the asked site when asked."""
    sites = {s.pk: s for s in organisation.sites.all()}
    whole = defaultdict(lambda: [0, 0])
    per_site = defaultdict(lambda: [0, 0])
    for (site_id, label), (numerator, denominator) in totals.items():
        targets = [whole[label]]
        if site_id in sites:
            targets.append(per_site[(site_id, label)])
        for bucket in targets:
            bucket[0] += numerator
            bucket[1] += denominator

    def row(target, label, numerator, denominator):
        if count:
            return (target, label, numerator, None, numerator)
        return (target, label, numerator, denominator, None)

    rows = [
        row(sites[site_id], label, n, d)
        for (site_id, label), (n, d) in sorted(
            per_site.items(),
            key=lambda item: (sites[item[0][0]].name, item[0][0], item[0][1] != ALL, item[0][1]),
        )
    ]
    if site is not None:
        rows = [r for r in rows if r[0].pk == site.pk]
    else:
        rows.extend(
            row(None, label, n, d)
            for label, (n, d) in sorted(whole.items(), key=lambda i: (i[0] != ALL, i[0]))
        )
    return [r for r in rows if (r[2] if count else r[3])]


def answer_in_time(organisation, site, period_kind, period_start, period_end):
    """Complaints answered within their deadline ÷ complaints answered, in the period."""
    totals = defaultdict(lambda: [0, 0])
    rows = _complaints(organisation, site, period_start, period_end, "answered_at").values_list(
        "site_id", "answered_at", "contact__answer_due_at"
    )
    for site_id, answered_at, due in rows:
        bucket = totals[(site_id, ALL)]
        bucket[0] += 1 if due is None or answered_at <= due else 0
        bucket[1] += 1
    return _rows(organisation, site, totals)


def answer_delay(organisation, site, period_kind, period_start, period_end):
    """Mean working days from receipt to answer (pauses deducted), in the period."""
    calendars = {}
    sites = {s.pk: s for s in organisation.sites.all()}
    totals = defaultdict(lambda: [0, 0])
    rows = _complaints(organisation, site, period_start, period_end, "answered_at").values_list(
        "site_id", "received_at", "answered_at", "contact__paused_days"
    )
    for site_id, received_at, answered_at, paused_days in rows:
        key = site_id if site_id in sites else None
        if key not in calendars:
            calendars[key] = workdays.calendar_of(sites[key] if key else organisation)
        days = workdays.working_days_between(received_at, answered_at, calendars[key])
        bucket = totals[(site_id, ALL)]
        bucket[0] += max(days - (paused_days or 0), 0)
        bucket[1] += 1
    return _rows(organisation, site, totals)


def volume_by_theme(organisation, site, period_kind, period_start, period_end):
    """Complaints received in the period: in all and per theme."""
    totals = defaultdict(lambda: [0, 0])
    rows = _complaints(organisation, site, period_start, period_end, "received_at").values_list(
        "site_id", "theme__label"
    )
    for site_id, theme in rows:
        for label in (ALL, _label(theme or NO_THEME)):
            totals[(site_id, label)][0] += 1
    return _rows(organisation, site, totals, count=True)


def mediation_rate(organisation, site, period_kind, period_start, period_end):
    """Mediations requested in the period ÷ complaints answered in the period."""
    totals = defaultdict(lambda: [0, 0])
    answered = _complaints(organisation, site, period_start, period_end, "answered_at")
    for (site_id,) in answered.values_list("site_id"):
        totals[(site_id, ALL)][1] += 1
    low, high = _bounds(organisation, period_start, period_end)
    mediations = Mediation.objects.filter(
        complaint__organisation=organisation, requested_at__gte=low, requested_at__lt=high
    )
    if site is not None:
        mediations = mediations.filter(complaint__site=site)
    for (site_id,) in mediations.order_by().values_list("complaint__site_id"):
        totals[(site_id, ALL)][0] += 1
    return _rows(organisation, site, totals)


SOURCES = {
    "complaints.answer_in_time": answer_in_time,
    "complaints.answer_delay": answer_delay,
    "complaints.volume_by_theme": volume_by_theme,
    "complaints.mediation_rate": mediation_rate,
}


def register() -> None:
    """Plug every source of this module into the commitments registry (AppConfig.ready)."""
    from voix.commitments.measures import register_source

    for key, function in SOURCES.items():
        register_source(key, function)
