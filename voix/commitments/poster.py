"""The A4 poster of a site's published results (HTML template → PDF with WeasyPrint).

The poster reads the same frozen snapshot as the public page. WeasyPrint may only read
local files: anything else (http, https, data from elsewhere) is refused, so rendering
never reaches the network.
"""

from django.template.loader import render_to_string
from django.urls import reverse

from . import periods
from . import publication as service


def local_only_fetcher():
    """A WeasyPrint fetcher that reads local files only: http, https, ftp, data are refused."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"file"}, timeout=1, allow_redirects=False)


def poster_html(request, publication, site) -> str:
    organisation = publication.organisation
    opinion_url = request.build_absolute_uri(
        reverse("core:site_public", args=[organisation.slug, site.slug])
    )
    return render_to_string(
        "commitments/poster.html",
        {
            "organisation": organisation,
            "site": site,
            "publication": publication,
            "label": periods.label(publication.period_kind, publication.period_start),
            "rows": service.display_rows(publication, site=site),
            "opinion_url": opinion_url,
        },
    )


def render_poster(request, publication, site) -> bytes:
    """The poster as PDF bytes."""
    from weasyprint import HTML

    html = poster_html(request, publication, site)
    return HTML(string=html, url_fetcher=local_only_fetcher()).write_pdf()
