"""The answer letter (HTML template complaints/letter.html → PDF with WeasyPrint).

A4, one column: the organisation's header and return address (the site concerned, else
its siège), the requester's name and postal address in the window position, the
reference and date, the subject, the answer, a signature, and at the foot the private
tracking link (where the person can say if the answer satisfies them, and ask for the
médiateur within 2 months). WeasyPrint reads local files only (see commitments.poster).
"""

from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format

from voix.commitments.poster import local_only_fetcher
from voix.core.models import SiteKind

from .models import Kind


def _sender_site(c):
    if c.site_id and c.site.kind not in (SiteKind.FRANCE_SERVICES, SiteKind.RELAY_POINT):
        return c.site
    sites = c.organisation.sites.filter(is_active=True)
    return sites.filter(kind=SiteKind.HEADQUARTERS).first() or sites.first()


def letter_html(c, text=None) -> str:
    from .services import MEDIATION_WINDOW_MONTHS, tracking_url

    with translation.override("fr"):
        day = date_format(timezone.localtime(c.answered_at or timezone.now()), "j F Y")
        received = date_format(timezone.localtime(c.received_at), "j F Y")
    answer = (text if text is not None else c.answer) or ""
    return render_to_string(
        "complaints/letter.html",
        {
            "c": c,
            "organisation": c.organisation,
            "sender": _sender_site(c),
            "date": day,
            "received": received,
            "paragraphs": [p.strip() for p in answer.replace("\r\n", "\n").split("\n\n")],
            "tracking_url": tracking_url(c),
            "mediation": c.kind == Kind.COMPLAINT,
            "mediation_months": MEDIATION_WINDOW_MONTHS,
            "draft": text is not None,
        },
    )


def letter_pdf(c, text=None) -> bytes:
    """The letter as PDF bytes (*text*: a draft answer instead of the one sent)."""
    from weasyprint import HTML

    return HTML(string=letter_html(c, text), url_fetcher=local_only_fetcher()).write_pdf()
