"""A year of plausible results for the demo organisation (used by `seed_demo`).

Values are generated around each standard indicator's green threshold with a seeded
random generator (the same every run), with seasonal dips (September–October rush,
summer holidays) and smaller samples at small sites, so that some results are below
target and some are « non significatif ». Built through the services, idempotently.
"""

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from voix.core.models import Organisation

from . import periods, services
from .models import Computation, Direction, Indicator, Unit

# Monthly pressure on the service: > 0 makes results worse (rentrée, summer).
SEASON = {1: 0.2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0.2, 7: 0.6, 8: 0.8, 9: 1, 10: 0.8, 11: 0.3, 12: 0.2}


def _value(indicator: Indicator, rng: random.Random, pressure: float) -> Decimal:
    green, amber = float(indicator.green_threshold), float(indicator.amber_threshold)
    spread = abs(green - amber) or max(abs(green) * 0.1, 1)
    sign = 1 if indicator.direction == Direction.HIGHER else -1
    value = green + sign * spread * (rng.uniform(-0.3, 1.5) - 0.9 * pressure)
    if indicator.unit == Unit.PERCENT:
        value = min(max(value, 0), 100)
    elif indicator.unit == Unit.SCORE10:
        value = min(max(value, 0), 10)
    else:
        value = max(value, 0)
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def seed_results(organisation: Organisation, *, today: date, months: int = 12) -> int:
    """Record *months* monthly measurements (ending last month) of every standard indicator
    for the organisation and each of its own sites, and set targets. Returns the count."""
    rng = random.Random(f"voix-demo-{organisation.slug}")
    last = periods.period_start("month", today.replace(day=1) - timedelta(days=1))
    starts = periods.previous_periods("month", last, months)
    sites = list(organisation.sites.own_sites())
    count = 0
    for indicator in Indicator.objects.filter(organisation__isnull=True).order_by("code"):
        services.set_target(
            None, indicator, organisation, indicator.green_threshold, valid_from=starts[0]
        )
        for start in starts:
            for site in [None, *sites]:
                big = site is None or site.kind == "siege"
                sample = rng.randint(300, 900) if big else rng.randint(40, 220)
                value = _value(indicator, rng, SEASON[start.month])
                if indicator.computation in (Computation.SHARE_WITHIN, Computation.RATIO):
                    numerator, denominator = (value * sample / 100).quantize(Decimal("1")), sample
                    value = (Decimal(100) * numerator / denominator).quantize(
                        Decimal("0.1"), rounding=ROUND_HALF_UP
                    )
                else:
                    numerator, denominator = value * sample, sample
                services.record_measurement(
                    indicator,
                    organisation,
                    site=site,
                    period_kind="month",
                    period_start=start,
                    value=value,
                    sample=sample,
                    numerator=numerator,
                    denominator=denominator,
                    provenance="imported",
                    source_ref="démonstration",
                )
                count += 1
    return count


def seed(stdout) -> None:
    """Demo hook called by `seed_demo`: référentiels, catalogue, a year of results for the
    demo Caf, and its last complete quarter published (only once)."""
    from django.core.management import call_command

    from . import publication
    from .models import Measurement, Publication

    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None:
        return
    call_command("load_frameworks", stdout=stdout)
    today = date.today()
    if not Measurement.objects.filter(organisation=caf).exists():
        count = seed_results(caf, today=today)
        stdout.write(f"Résultats de démonstration : {count} mesures mensuelles.\n")
    if not Publication.objects.filter(organisation=caf).exists():
        quarter = periods.period_start(
            "quarter", periods.period_start("quarter", today) - timedelta(days=1)
        )
        draft = publication.prepare_publication(None, caf, "quarter", quarter)
        publication.publish(None, draft)
        stdout.write(f"Publié : {periods.label('quarter', quarter)}.\n")
