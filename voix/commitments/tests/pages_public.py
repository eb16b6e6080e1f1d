"""Pages of the public part for the page matrix (tests/pages.py).

Files (CSV, JSON, PDF, OpenAPI) are checked with HEAD: their status is in the matrix, but
they are not HTML pages, so the browser's accessibility run leaves them out.
"""

from datetime import date

from conftest import PERSONAS
from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, Page, everyone

UNAUTHORIZED = 401


def publisher_list():
    """The publication desk: quality leads and administrators (of any organisation)."""
    return {
        "anonyme": LOGIN,
        **{p: FORBIDDEN for p in PERSONAS if p != "anonyme"},
        "qualite": OK,
        "admin": OK,
        "outsider": OK,
    }


def publisher_object():
    """A publication of the Caf: its quality lead and administrator; the outsider gets 404."""
    return {**publisher_list(), "outsider": NOT_FOUND}


def draft(w):
    """A draft for the first quarter of 2025 (prepared once per world)."""
    if not hasattr(w, "draft_publication"):
        from voix.commitments import publication

        w.draft_publication = publication.prepare_publication(
            w.people["qualite"], w.caf, "quarter", date(2025, 1, 1)
        )
    return w.draft_publication


def published(w):
    """The Caf's results of the year 2025, published (once per world)."""
    if not hasattr(w, "published_publication"):
        from voix.commitments import publication

        prepared = publication.prepare_publication(
            w.people["qualite"], w.caf, "year", date(2025, 1, 1)
        )
        w.published_publication = publication.publish(w.people["qualite"], prepared)
    return w.published_publication


def caf(w):
    published(w)
    return {"slug": w.caf.slug}


def caf_site(w):
    published(w)
    return {"slug": w.caf.slug, "site_slug": w.site.slug}


PAGES = [
    Page("commitments:publications", expect=publisher_list()),
    Page("commitments:publication_detail", lambda w: {"pk": draft(w).pk}, publisher_object()),
    Page("commitments:publication_publish", lambda w: {"pk": draft(w).pk}, publisher_object()),
    Page(
        "commitments:publication_withdraw",
        lambda w: {"pk": published(w).pk},
        publisher_object(),
    ),
    Page("commitments:results_organisation", caf, everyone(OK)),
    Page("commitments:results_site", caf_site, everyone(OK)),
    Page("commitments:results_poster", caf_site, everyone(OK), method="head"),
    Page("commitments:results_csv", caf, everyone(OK), method="head"),
    Page("commitments:results_json", caf, everyone(OK), method="head"),
    # The API answers with its token only: a browser session is not enough.
    Page("api:api_indicators", expect=everyone(UNAUTHORIZED)),
    Page("api:api_measurements", expect=everyone(UNAUTHORIZED)),
    Page("api:api_results", expect=everyone(UNAUTHORIZED)),
    Page("api:api-root", expect=everyone(NOT_FOUND)),
    Page("api:openapi-json", expect=everyone(OK), method="head"),
    Page("api:openapi-view", expect=everyone(OK)),
]
