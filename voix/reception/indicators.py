"""The « attente ≤ 20 minutes » indicator source (key ``reception.wait``), read from the
daily roll-up VisitDay — never from the raw tickets."""

from django.db.models import Sum

from .models import VisitDay


def visits_within_20_minutes(organisation, site, period_kind, period_start, period_end):
    """Visits whose wait (entry → call) lasted 20 minutes or less ÷ visits, per site with
    visits in the period, and for the whole organisation (unless one site is asked)."""
    days = VisitDay.objects.filter(
        organisation=organisation, day__gte=period_start, day__lt=period_end
    )
    if site is not None:
        days = days.filter(site=site)
    per_site = (
        days.values("site").annotate(within=Sum("within_20"), visits=Sum("visits")).order_by("site")
    )
    sites = {s.pk: s for s in organisation.sites.all()}
    rows = [
        (sites[row["site"]], "", row["within"], row["visits"], None)
        for row in per_site
        if row["visits"]
    ]
    if site is None:
        within = sum(row[2] for row in rows)
        visits = sum(row[3] for row in rows)
        if visits:
            rows.append((None, "", within, visits, None))
    return rows
