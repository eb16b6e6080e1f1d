"""Indicator sources of the contacts app, registered with the commitments registry
(voix.commitments.measures.register_source, see docs/measurements.md).

They read only the daily roll-ups (ContactDay, CallDay), never the contacts themselves.
Each returns rows ``(site, channel, numerator, denominator, sample)``: per site and for the
organisation as a whole (site None), all channels (``""``), and — where the indicator is
not already about one channel — the organisation per channel. Computations:
docs/contacts-indicators.md.
"""

from collections import defaultdict

from django.db.models import F, Max, Sum
from django.utils import timezone

from .models import CallDay, Channel, ContactDay

ALL = ""


def _sites(organisation):
    return {site.pk: site for site in organisation.sites.all()}


def _rows(organisation, site, totals, *, per_channel: bool):
    """Turn {(site_id, channel): [numerator, denominator]} into the registry's rows: each
    site (all channels), the organisation (all channels) and, with *per_channel*, the
    organisation per channel — in a stable order. Per site and channel, the roll-ups keep
    the detail; measurements do not, to keep a year's recomputation small (51 sites × 8
    channels × 12 months would multiply the rows by five)."""
    sites = _sites(organisation)
    by_site = defaultdict(lambda: [0, 0])
    by_channel = defaultdict(lambda: [0, 0])
    whole = [0, 0]
    for (site_id, channel), (numerator, denominator) in totals.items():
        for bucket in (by_site[(site_id, ALL)], by_channel[channel], whole):
            bucket[0] += numerator
            bucket[1] += denominator
    rows = []
    for (site_id, channel), (numerator, denominator) in sorted(
        by_site.items(), key=lambda item: (item[0][0] or 0, item[0][1])
    ):
        if site_id is None or site_id not in sites:
            continue  # contacts without a site count for the organisation only
        rows.append((sites[site_id], channel, numerator, denominator, None))
    if site is not None:
        rows = [row for row in rows if row[0].pk == site.pk]
    else:
        rows.append((None, ALL, whole[0], whole[1], None))
        if per_channel:
            for channel, (numerator, denominator) in sorted(by_channel.items()):
                rows.append((None, channel, numerator, denominator, None))
    # Nothing measured (e.g. letters received but none answered yet): no row.
    return [row for row in rows if row[3]]


def _contact_totals(organisation, site, start, end, numerator, denominator, *, channels=None):
    days = ContactDay.objects.filter(organisation=organisation, day__gte=start, day__lt=end)
    if site is not None:
        days = days.filter(site=site)
    if channels is not None:
        days = days.filter(channel__in=channels)
    grouped = (
        days.order_by().values("site_id", "channel").annotate(n=Sum(numerator), d=Sum(denominator))
    )
    return {(r["site_id"], r["channel"]): [r["n"] or 0, r["d"] or 0] for r in grouped}


def _flow_source(numerator, denominator, *, channels=None, per_channel=True):
    def source(organisation, site, period_kind, period_start, period_end):
        totals = _contact_totals(
            organisation, site, period_start, period_end, numerator, denominator, channels=channels
        )
        return _rows(organisation, site, totals, per_channel=per_channel)

    return source


# ----- the sources -----------------------------------------------------------------------

# Answers given within the committed delay ÷ answers given in the period.
answer_in_time = _flow_source("answered_in_time", "answered")
email_answer = _flow_source(
    "answered_in_time", "answered", channels=[Channel.EMAIL], per_channel=False
)
letter_answer = _flow_source(
    "answered_in_time", "answered", channels=[Channel.LETTER], per_channel=False
)
# Mean working days from receipt to first answer.
answer_delay = _flow_source("answer_days_total", "answered")
# Acknowledgements sent by their deadline ÷ acknowledgements due in the period.
acknowledgement = _flow_source("ack_in_time", "ack_due")
# Closed contacts that went back to the requester ÷ closed contacts.
returns = _flow_source("returned", "processed")


def stock_age(organisation, site, period_kind, period_start, period_end):
    """Stock received 15 working days ago or less ÷ stock, at the end of the period's last
    rolled-up day (today for the running period); seasonal mass items already excluded."""
    last_day = min(period_end - timezone.timedelta(days=1), timezone.localdate())
    days = ContactDay.objects.filter(
        organisation=organisation, day__gte=period_start, day__lte=last_day
    )
    last = days.aggregate(last=Max("day"))["last"]
    if last is None:
        return []
    totals = _contact_totals(
        organisation, site, last, last + timezone.timedelta(days=1), "pending_within_15", "pending"
    )
    return _rows(organisation, site, totals, per_channel=True)


def _call_source(numerator, denominator):
    def source(organisation, site, period_kind, period_start, period_end):
        days = CallDay.objects.filter(
            organisation=organisation, day__gte=period_start, day__lt=period_end
        )
        if site is not None:
            days = days.filter(site=site)
        grouped = days.order_by().values("site_id").annotate(n=Sum(numerator), d=Sum(denominator))
        totals = {(r["site_id"], ALL): [r["n"] or 0, r["d"] or 0] for r in grouped}
        return _rows(organisation, site, totals, per_channel=False)

    return source


# Calls answered by an agent ÷ calls needing an agent.
calls_agent = _call_source("answered_agent", "needing_agent")
# Calls handled by an agent or the voice server ÷ calls offered.
calls_all = _call_source(F("answered_agent") + F("answered_ivr"), "offered")

SOURCES = {
    "telephony.calls_agent": calls_agent,
    "telephony.calls_all": calls_all,
    "contacts.answer_in_time": answer_in_time,
    "contacts.email_answer": email_answer,
    "contacts.letter_answer": letter_answer,
    "contacts.answer_delay": answer_delay,
    "contacts.acknowledgement": acknowledgement,
    "contacts.stock_age": stock_age,
    "contacts.returns": returns,
}


def register() -> None:
    """Plug every source of this module into the commitments registry (AppConfig.ready)."""
    from voix.commitments.measures import register_source

    for key, function in SOURCES.items():
        register_source(key, function)
