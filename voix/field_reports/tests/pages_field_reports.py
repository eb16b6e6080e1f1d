"""Rows of the page matrix (tests/pages.py) for the field reports and the retention page."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, STAFF, Page, admin_list

BAD_REQUEST = 400


def answers(default, **overrides):
    """Anonymous → login page; every other persona *default* unless overridden."""
    return {"anonyme": LOGIN, **dict.fromkeys(STAFF, default), **overrides}


def filers(ok=OK):
    """Filing and « mes remontées »: every role but the médiateur (and people without one)."""
    return answers(ok, mediateur=FORBIDDEN, sans_role=FORBIDDEN)


def triagers(ok=OK):
    """Triage and counts: quality staff, managers, administrators (the outsider: its own)."""
    return answers(FORBIDDEN, manager=ok, qualite=ok, admin=ok, outsider=ok)


def report_of(owner, **overrides):
    """One report of the Caf: the triagers and *owner*; anyone else 404 (never revealed)."""
    return answers(NOT_FOUND, manager=OK, qualite=OK, admin=OK, **{owner: OK}, **overrides)


PAGES = [
    Page("field_reports:index", expect=filers()),
    Page("field_reports:create", expect=filers()),
    Page("field_reports:detail", lambda w: {"pk": w.field_report.pk}, report_of("agent")),
    Page("field_reports:detail", lambda w: {"pk": w.relay_report.pk}, report_of("partenaire")),
    Page("field_reports:triage", expect=triagers()),
    Page(
        "field_reports:decide",
        # An empty decision: the detail page again with « Choisissez une décision » (400).
        lambda w: {"pk": w.field_report.pk},
        {**triagers(BAD_REQUEST), "outsider": NOT_FOUND},
        method="post",
    ),
    Page("field_reports:summary", expect=triagers()),
    Page("field_reports:export", expect=triagers(), method="head"),
    Page("core:retention", expect=admin_list()),
]
