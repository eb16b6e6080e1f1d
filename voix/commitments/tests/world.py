"""Commitments data added to the test world (conftest.build_world): an indicator with a
target and a year of monthly measurements for the Caf and its siège."""

from datetime import date

from voix.commitments import services
from voix.commitments.models import Indicator


def extend_world(w):
    w.indicator = Indicator.objects.create(
        code="attente-20-min",
        label="Attente de 20 minutes au plus à l'accueil",
        definition="Part des visites dont l'attente a duré 20 minutes ou moins.",
        unit="percent",
        direction="higher",
        computation="share_within",
        green_threshold=80,
        amber_threshold=70,
        min_sample=100,
    )
    services.set_target(None, w.indicator, w.caf, 80, valid_from=date(2025, 1, 1))
    for month in range(1, 13):
        for site, base in ((None, 85), (w.site, 75)):
            services.record_measurement(
                w.indicator,
                w.caf,
                site=site,
                period_kind="month",
                period_start=date(2025, month, 1),
                value=base + month % 3,
                sample=150,
                numerator=150 * (base + month % 3) / 100,
                denominator=150,
            )
    return w
