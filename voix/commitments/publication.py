"""Publication of results: a frozen snapshot the public page, the poster and open data share.

Reads (latest published publication, rows for open data) live here too, so the three
outputs cannot disagree on what « published » means.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from voix.core.services import record_event

from . import measures, periods
from .models import (
    Indicator,
    Measurement,
    PeriodKind,
    Publication,
    PublishedResult,
    Target,
)

PUBLISHABLE_KINDS = (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR)


round_half_up = measures.round_value


@dataclass
class Figure:
    value: Decimal | None
    sample: int


def period_figure(indicator, organisation, site, period_kind, start) -> Figure | None:
    """The value of one indicator for one period and scope (all channels), or None.

    Computed exactly as the pilotage dashboard does (measures.aggregate): the measurement
    of that very period wins; a quarter or a year without one is rebuilt from its months.
    """
    rows = Measurement.objects.filter(
        indicator=indicator,
        organisation=organisation,
        site=site,
        channel="",
        period_start__gte=start,
        period_start__lt=periods.period_end(period_kind, start),
    )
    result = measures.aggregate(indicator, period_kind, start, list(rows))
    if result.value is None:
        return None
    return Figure(round_half_up(result.value), result.sample)


def _scopes(organisation, period_kind, start):
    """(indicator, site) pairs with measurements in the period, organisation level included."""
    end = periods.period_end(period_kind, start)
    pairs = (
        Measurement.objects.filter(
            organisation=organisation,
            channel="",
            period_start__gte=start,
            period_start__lt=end,
        )
        .filter(period_kind__in=[period_kind, PeriodKind.MONTH])
        .values_list("indicator_id", "site_id")
        .distinct()
    )
    return sorted(set(pairs), key=lambda pair: (pair[1] or 0, pair[0]))


def data_date(period_kind, start):
    """The last day the published figures cover."""
    return periods.period_end(period_kind, start) - timedelta(days=1)


@transaction.atomic
def prepare_publication(actor, organisation, period_kind, period_start) -> Publication:
    """Freeze the organisation's and its sites' figures for one period in a DRAFT publication.

    A figure whose sample is below the indicator's minimum is kept as « non significatif »
    with no value, so no later output can show it.
    """
    if period_kind not in PUBLISHABLE_KINDS:
        raise ValidationError(
            {"period": "On publie les résultats d'un mois, d'un trimestre ou d'une année."}
        )
    start = periods.period_start(period_kind, period_start)
    label = periods.label(period_kind, start)
    last_day = data_date(period_kind, start)
    indicators = {i.pk: i for i in Indicator.objects.all()}
    rows = []
    for indicator_id, site_id in _scopes(organisation, period_kind, start):
        indicator = indicators[indicator_id]
        site = organisation.sites.get(pk=site_id) if site_id else None
        figure = period_figure(indicator, organisation, site, period_kind, start)
        if figure is None:
            continue
        significant = figure.sample >= indicator.min_sample
        value = figure.value if significant else None
        target = Target.objects.in_force(indicator, organisation, site, on=last_day)
        rows.append(
            PublishedResult(
                indicator=indicator,
                site=site,
                value=value,
                sample=figure.sample,
                significant=significant,
                target=target.value if target else None,
                colour=indicator.colour(value),
            )
        )
    if not rows:
        raise ValidationError({"period": f"Aucune mesure pour {label} : rien à publier."})
    publication = Publication.objects.create(
        organisation=organisation,
        period_kind=period_kind,
        period_start=start,
        data_date=last_day,
    )
    for row in rows:
        row.publication = publication
    PublishedResult.objects.bulk_create(rows)
    record_event(
        actor,
        "publication.préparée",
        publication,
        changes={"période": label, "résultats": len(rows)},
    )
    return publication


@transaction.atomic
def publish(actor, publication: Publication) -> Publication:
    """Make a draft public; an earlier publication of the same period is withdrawn (kept)."""
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.status != Publication.Status.DRAFT:
        raise ValidationError("Seul un brouillon peut être publié.")
    replaced = list(
        Publication.objects.filter(
            organisation=publication.organisation,
            period_kind=publication.period_kind,
            period_start=publication.period_start,
            status=Publication.Status.PUBLISHED,
        ).values_list("pk", flat=True)
    )
    Publication.objects.filter(pk__in=replaced).update(status=Publication.Status.WITHDRAWN)
    publication.status = Publication.Status.PUBLISHED
    publication.published_at = timezone.now()
    publication.published_by = actor if getattr(actor, "pk", None) else None
    publication.data_date = data_date(publication.period_kind, publication.period_start)
    publication.save()
    record_event(
        actor,
        "publication.publiée",
        publication,
        changes={"remplace": replaced, "date_des_données": publication.data_date},
    )
    return publication


@transaction.atomic
def withdraw(actor, publication: Publication) -> Publication:
    """Take a published publication off the public pages and open data (history kept)."""
    publication = Publication.objects.select_for_update().get(pk=publication.pk)
    if publication.status != Publication.Status.PUBLISHED:
        raise ValidationError("Seule une publication en ligne peut être retirée.")
    publication.status = Publication.Status.WITHDRAWN
    publication.save(update_fields=["status"])
    record_event(actor, "publication.retirée", publication)
    return publication


# ----- reads ------------------------------------------------------------------------------


def published(organisation):
    """The organisation's publications that are public now, most recent period first."""
    return Publication.objects.filter(
        organisation=organisation, status=Publication.Status.PUBLISHED
    ).order_by("-period_start", "-published_at")


def published_with_site(organisation, site):
    """Public publications that hold at least one figure of *site*."""
    return published(organisation).filter(results__site=site).distinct()


def has_published_results(organisation, site=None) -> bool:
    """Should the public pages link to a results page?"""
    rows = published(organisation) if site is None else published_with_site(organisation, site)
    return rows.exists()


STATE_WORDS = {
    "atteinte": "objectif atteint",
    "manquée": "objectif non atteint",
    "sans_cible": "pas d'objectif fixé",
    "non_significatif": "résultat non significatif",
}


def state_of(result: PublishedResult) -> str:
    """In words: « objectif atteint », « objectif non atteint », … (as in the CSV)."""
    if not result.significant or result.value is None:
        return STATE_WORDS["non_significatif"]
    if result.target is None:
        return STATE_WORDS["sans_cible"]
    if result.indicator.is_better(result.value, result.target):
        return STATE_WORDS["atteinte"]
    return STATE_WORDS["manquée"]


def unit_text(indicator) -> str:
    return indicator.get_unit_display()


def with_unit(value, indicator, *, keep_decimal: bool = True) -> str:
    """« 86,7 % », « 13,5 minutes » (empty without a value)."""
    return measures.format_value(value, indicator.unit, keep_decimal=keep_decimal, empty="")


def display_rows(publication, site="all"):
    """Result rows enriched for the pages and the poster (site=None: organisation level)."""
    results = publication.results.select_related("indicator", "site")
    if site != "all":
        results = results.filter(site=site)
    rows = []
    for result in results:
        indicator = result.indicator
        rows.append(
            {
                "result": result,
                "indicator": indicator,
                "site": result.site,
                "value_text": with_unit(result.value, indicator),
                "target_text": with_unit(result.target, indicator, keep_decimal=False),
                "state": state_of(result),
                "not_significant_text": f"résultat non significatif (n < {indicator.min_sample})",
            }
        )
    return rows


OPEN_DATA_COLUMNS = [
    "organisme",
    "site",
    "code_insee",
    "indicateur",
    "libelle",
    "unite",
    "periode_type",
    "periode_debut",
    "periode_libelle",
    "valeur",
    "effectif",
    "significatif",
    "cible",
    "etat",
    "date_donnees",
    "date_publication",
]


def open_data_rows(organisation) -> list[dict]:
    """Every figure of every publication online now, typed (None where the CSV is empty)."""
    results = (
        PublishedResult.objects.filter(
            publication__organisation=organisation,
            publication__status=Publication.Status.PUBLISHED,
        )
        .select_related("publication", "indicator", "site")
        .order_by("-publication__period_start", "site__name", "indicator__code")
    )
    rows = []
    for result in results:
        publication, indicator, site = result.publication, result.indicator, result.site
        rows.append(
            {
                "organisme": organisation.name,
                "site": site.name if site else "",
                "code_insee": site.insee_code if site else "",
                "indicateur": indicator.code,
                "libelle": indicator.label,
                "unite": unit_text(indicator),
                "periode_type": publication.get_period_kind_display(),
                "periode_debut": publication.period_start,
                "periode_libelle": periods.label(publication.period_kind, publication.period_start),
                "valeur": result.value if result.significant else None,
                "effectif": result.sample,
                "significatif": result.significant,
                "cible": result.target,
                "etat": state_of(result),
                "date_donnees": publication.data_date,
                "date_publication": timezone.localdate(publication.published_at),
            }
        )
    return rows


def figures_for_site(organisation, site):
    """Latest public publication holding *site*'s figures, with those rows (or None, [])."""
    publication = published_with_site(organisation, site).first()
    if publication is None:
        return None, []
    return publication, display_rows(publication, site=site)
