"""« Votre commune ou code postal »: the sites of a reason, the nearest first.

The commune is looked up in the gazetteer (core.Commune, loaded with `load_communes`) by
postcode or by name without accents; distances are as the crow flies (haversine) to the
sites' coordinates. Sites without coordinates come after the others, alphabetically.
"""

import math
from dataclasses import dataclass

from voix.core.management.commands.load_communes import commune_search_name
from voix.core.models import Commune, Site

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres between two points in decimal degrees."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def find_commune(query: str) -> Commune | None:
    """The commune a person typed: a 5-digit postcode, or a name (accents, case and
    hyphens ignored; an exact name first, then the first name that starts with it)."""
    query = (query or "").strip()
    if not query:
        return None
    compact = query.replace(" ", "")
    if compact.isdigit():
        if len(compact) != 5:
            return None
        return Commune.objects.filter(postcode=compact).order_by("name").first()
    name = commune_search_name(query)
    if not name:
        return None
    return (
        Commune.objects.filter(search_name=name).order_by("name").first()
        or Commune.objects.filter(search_name__startswith=name).order_by("name").first()
    )


@dataclass
class NearbySite:
    site: Site
    distance_km: float | None

    @property
    def distance_label(self) -> str:
        if self.distance_km is None:
            return ""
        if self.distance_km < 1:
            return "à moins d'1 km"
        return f"à environ {round(self.distance_km)} km"


def sort_sites(sites, query: str = "") -> tuple[list[NearbySite], Commune | None]:
    """(*sites* the nearest to the commune of *query* first, the commune found).

    Without a query or a match: alphabetical order and no commune (the page says so)."""
    sites = sorted(sites, key=lambda site: site.name.lower())
    commune = find_commune(query) if query else None
    if commune is None:
        return [NearbySite(site, None) for site in sites], None
    located, elsewhere = [], []
    for site in sites:
        if site.latitude is None or site.longitude is None:
            elsewhere.append(NearbySite(site, None))
        else:
            distance = haversine_km(
                commune.latitude, commune.longitude, site.latitude, site.longitude
            )
            located.append(NearbySite(site, distance))
    located.sort(key=lambda item: item.distance_km)
    return located + elsewhere, commune
