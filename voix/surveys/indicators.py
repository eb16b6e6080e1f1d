"""Indicator sources of the surveys app, registered with the commitments registry
(voix.commitments.measures.register_source, see docs/measurements.md).

Each source returns rows ``(site, label, numerator, denominator, sample)``: one per site,
one for the organisation as a whole (site None) and, for the organisation, one per
distribution channel (the label, stored in the measurement's « canal » column). The sample
is the number of answers the figure is computed on (the denominator), so the catalogue's
``min_sample: 100`` hides a figure built on fewer than 100 answers (REFERENCE §2).

- ``surveys.overall_satisfaction``: answers 4 or 5 (« satisfait », « très satisfait ») to
  the overall CSAT question ÷ answers to it (percent).
- ``surveys.net_satisfaction``: mean of +100 per satisfied answer (4–5), 0 per neutral
  one (3) and −100 per dissatisfied one (1–2) = % satisfied − % dissatisfied, in points.
- ``surveys.jdma_satisfaction``: mean /10 of « De façon générale, comment ça s'est
  passé ? » (0 / 5 / 10).
- ``surveys.jdma_clarity``: mean /10 of the clarity question (0 / 2,5 / 5 / 7,5 / 10).
- ``surveys.jdma_help_reached``: people who reached the help they looked for ÷ people who
  answered whether they reached it (only those who looked for help are asked; percent).
- ``surveys.jdma_help_quality``: mean /10 of the satisfaction with the help received.

Answers of every questionnaire of the organisation count, each in the period it was
submitted (the organisation's local time). The scored columns of Response make each source
one GROUP BY (site, channel) over the ``response_org_time`` index.
"""

from collections import defaultdict
from datetime import datetime, time
from decimal import Decimal

from django.db.models import Count, Q, Sum

from voix.core import workdays

from .models import LinkChannel, Response

ALL = ""


def local_bounds(organisation, start, end):
    """The dates [start, end) as aware datetimes in the organisation's time zone."""
    region = workdays.region_for_departement(organisation.departement or "")
    tz = workdays.WorkCalendar(region=region).tz
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(end, time.min, tzinfo=tz)


def _responses(organisation, site, start, end):
    low, high = local_bounds(organisation, start, end)
    rows = Response.objects.filter(
        organisation=organisation, submitted_at__gte=low, submitted_at__lt=high
    )
    if site is not None:
        rows = rows.filter(site=site)
    return rows.order_by()


# Each measure: the aggregates to compute per (site, channel), and how they make
# (numerator, denominator).
SATISFIED = Q(overall__gte=4)
DISSATISFIED = Q(overall__lte=2)
# Whoever answered « Avez-vous réussi à obtenir de l'aide ? » looked for help (the answer
# is dropped for « je n'ai pas eu besoin d'aide », see services.clean_answers).
TRIED_AND_ANSWERED = Q(jdma_help_reached__isnull=False)

MEASURES = {
    "surveys.overall_satisfaction": (
        {"satisfied": Count("pk", filter=SATISFIED), "answered": Count("overall")},
        lambda a: (a["satisfied"], a["answered"]),
    ),
    "surveys.net_satisfaction": (
        {
            "satisfied": Count("pk", filter=SATISFIED),
            "dissatisfied": Count("pk", filter=DISSATISFIED),
            "answered": Count("overall"),
        },
        lambda a: (100 * (a["satisfied"] - a["dissatisfied"]), a["answered"]),
    ),
    "surveys.jdma_satisfaction": (
        {"total": Sum("jdma_satisfaction"), "answered": Count("jdma_satisfaction")},
        lambda a: (a["total"] or 0, a["answered"]),
    ),
    "surveys.jdma_clarity": (
        {"total": Sum("jdma_clarity"), "answered": Count("jdma_clarity")},
        lambda a: (a["total"] or 0, a["answered"]),
    ),
    "surveys.jdma_help_reached": (
        {
            "reached": Count("pk", filter=TRIED_AND_ANSWERED & Q(jdma_help_reached=True)),
            "tried": Count("pk", filter=TRIED_AND_ANSWERED),
        },
        lambda a: (a["reached"], a["tried"]),
    ),
    "surveys.jdma_help_quality": (
        {"total": Sum("jdma_help_score"), "answered": Count("jdma_help_score")},
        lambda a: (a["total"] or 0, a["answered"]),
    ),
}


def _number(value):
    return Decimal(str(value)) if not isinstance(value, int) else value


def _source(key):
    annotations, counts = MEASURES[key]

    def source(organisation, site, period_kind, period_start, period_end):
        grouped = (
            _responses(organisation, site, period_start, period_end)
            .values("site_id", "channel")
            .annotate(**annotations)
        )
        sites = {s.pk: s for s in organisation.sites.all()}
        per_site = defaultdict(lambda: [0, 0])
        per_channel = defaultdict(lambda: [0, 0])
        whole = [0, 0]
        for row in grouped:
            numerator, denominator = (_number(v) for v in counts(row))
            buckets = [per_channel[row["channel"]], whole]
            if row["site_id"] in sites:
                buckets.append(per_site[row["site_id"]])
            for bucket in buckets:
                bucket[0] += numerator
                bucket[1] += denominator
        rows = [
            (sites[site_id], ALL, numerator, denominator, denominator)
            for site_id, (numerator, denominator) in sorted(
                per_site.items(), key=lambda item: (sites[item[0]].name, item[0])
            )
        ]
        if site is None:
            rows.append((None, ALL, whole[0], whole[1], whole[1]))
            labels = dict(LinkChannel.choices)
            rows.extend(
                (None, labels.get(channel, channel)[:30], numerator, denominator, denominator)
                for channel, (numerator, denominator) in sorted(per_channel.items())
            )
        return [row for row in rows if row[3]]

    source.__name__ = key.replace(".", "_")
    source.__doc__ = f"Source « {key} » (see the module docstring)."
    return source


SOURCES = {key: _source(key) for key in MEASURES}


def register() -> None:
    """Plug every source of this module into the commitments registry (AppConfig.ready)."""
    from voix.commitments.measures import register_source

    for key, function in SOURCES.items():
        register_source(key, function)
