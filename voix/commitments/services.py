"""Basic writes of the commitments app (targets, measurements). Feature modules
(frameworks.py, measures.py, publication.py) build on these."""

from decimal import Decimal

from django.db import transaction

from voix.core.services import record_event

from . import periods
from .models import Indicator, Measurement, Provenance, Target


@transaction.atomic
def set_target(actor, indicator: Indicator, organisation, value, *, valid_from, site=None):
    """Set (or change) the target of *indicator* for an organisation or one of its sites."""
    target, _ = Target.objects.update_or_create(
        indicator=indicator,
        organisation=organisation,
        site=site,
        valid_from=valid_from,
        defaults={"value": Decimal(str(value))},
    )
    record_event(
        actor,
        "cible.fixée",
        target,
        organisation=organisation,
        changes={
            "indicateur": indicator.code,
            "valeur": str(target.value),
            "site": site and site.pk,
        },
    )
    return target


def record_measurement(
    indicator: Indicator,
    organisation,
    *,
    period_kind: str,
    period_start,
    value,
    sample: int = 0,
    numerator=None,
    denominator=None,
    site=None,
    channel: str = "",
    provenance: str = Provenance.COMPUTED,
    source_ref: str = "",
) -> Measurement:
    """Insert or update the one measurement of this indicator, period and scope (idempotent).

    This is the raw write, without the below-target check: live data goes through
    `measures.save_measurement`, which calls this then alerts once per crossing. Demo and
    historical loads use it directly so that they do not alert about the past.
    """
    start = periods.period_start(period_kind, period_start)
    measurement, _ = Measurement.objects.update_or_create(
        indicator=indicator,
        organisation=organisation,
        site=site,
        channel=channel,
        period_kind=period_kind,
        period_start=start,
        defaults={
            "value": Decimal(str(value)),
            "sample": sample,
            "numerator": None if numerator is None else Decimal(str(numerator)),
            "denominator": None if denominator is None else Decimal(str(denominator)),
            "provenance": provenance,
            "source_ref": source_ref,
        },
    )
    return measurement
