"""Read-only API of the commitments app: indicators, measurements, published results.

Every query goes through the token holder's scope: a token of another organisation's
person sees none of this one's rows (empty lists, 404 on one object).
"""

from datetime import date
from decimal import Decimal
from typing import Annotated

from django.db.models import Q
from ninja import Query, Router, Schema

from voix.core.scoping import scope_for, scoped

from . import periods
from . import publication as service
from .models import Indicator, Measurement, Publication, PublishedResult

router = Router(tags=["Indicateurs et résultats"])


class IndicatorOut(Schema):
    code: str
    libelle: str
    definition: str
    unite: str
    sens: str
    calcul: str
    effectif_minimal: int
    national: bool


class MeasurementOut(Schema):
    indicateur: str
    organisme: str
    site_id: int | None
    site: str | None
    canal: str
    periode_type: str
    periode_debut: date
    valeur: Decimal
    numerateur: Decimal | None
    denominateur: Decimal | None
    effectif: int
    significatif: bool
    provenance: str


class ResultOut(Schema):
    organisme: str
    site_id: int | None
    site: str | None
    code_insee: str | None
    indicateur: str
    libelle: str
    unite: str
    periode_type: str
    periode_debut: date
    periode_libelle: str
    valeur: Decimal | None
    effectif: int
    significatif: bool
    cible: Decimal | None
    etat: str
    date_donnees: date | None
    publication_id: int


def _visible_indicators(user):
    scope = scope_for(user)
    rows = Indicator.objects.all()
    if scope.everything:
        return rows
    return rows.filter(Q(organisation__isnull=True) | Q(organisation__in=scope.organisation_ids))


@router.get("/indicators", response=list[IndicatorOut], url_name="api_indicators")
def indicators(request):
    """Les indicateurs du catalogue national et ceux de vos organismes."""
    return [
        IndicatorOut(
            code=i.code,
            libelle=i.label,
            definition=i.definition,
            unite=service.unit_text(i),
            sens=i.direction,
            calcul=i.computation,
            effectif_minimal=i.min_sample,
            national=i.organisation_id is None,
        )
        for i in _visible_indicators(request.auth)
    ]


@router.get("/measurements", response=list[MeasurementOut], url_name="api_measurements")
def measurements(
    request,
    indicator: str | None = None,
    site: int | None = None,
    period_kind: str | None = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
):
    """Les mesures de vos organismes (et de votre relais), filtrables.

    `indicator` : code de l'indicateur ; `site` : identifiant du lieu ; `period_kind` : day,
    month, quarter ou year ; `from` et `to` : bornes (incluses) du début de période.
    """
    rows = scoped(
        Measurement.objects.select_related("indicator", "organisation", "site"), request.auth
    )
    if indicator:
        rows = rows.filter(indicator__code=indicator)
    if site is not None:
        rows = rows.filter(site_id=site)
    if period_kind:
        rows = rows.filter(period_kind=period_kind)
    if from_:
        rows = rows.filter(period_start__gte=from_)
    if to:
        rows = rows.filter(period_start__lte=to)
    return [
        MeasurementOut(
            indicateur=m.indicator.code,
            organisme=m.organisation.name,
            site_id=m.site_id,
            site=m.site.name if m.site else None,
            canal=m.channel,
            periode_type=m.period_kind,
            periode_debut=m.period_start,
            valeur=m.value,
            numerateur=m.numerator,
            denominateur=m.denominator,
            effectif=m.sample,
            significatif=m.significant,
            provenance=m.provenance,
        )
        for m in rows.order_by("indicator__code", "site_id", "period_kind", "period_start")[:5000]
    ]


@router.get("/results", response=list[ResultOut], url_name="api_results")
def results(request):
    """Les résultats publiés (en ligne) de vos organismes : les chiffres du public."""
    rows = scoped(
        PublishedResult.objects.filter(publication__status=Publication.Status.PUBLISHED),
        request.auth,
        organisation="publication__organisation",
    ).select_related("publication__organisation", "indicator", "site")
    return [
        ResultOut(
            organisme=r.publication.organisation.name,
            site_id=r.site_id,
            site=r.site.name if r.site else None,
            code_insee=r.site.insee_code if r.site else None,
            indicateur=r.indicator.code,
            libelle=r.indicator.label,
            unite=service.unit_text(r.indicator),
            periode_type=r.publication.period_kind,
            periode_debut=r.publication.period_start,
            periode_libelle=periods.label(r.publication.period_kind, r.publication.period_start),
            valeur=r.value if r.significant else None,
            effectif=r.sample,
            significatif=r.significant,
            cible=r.target,
            etat=service.state_of(r),
            date_donnees=r.publication.data_date,
            publication_id=r.publication_id,
        )
        for r in rows.order_by("-publication__period_start", "site_id", "indicator__code")
    ]
