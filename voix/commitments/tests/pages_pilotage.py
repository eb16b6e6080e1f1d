"""Pages of the pilotage part for the page matrix (tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Page

READERS = ["agent", "manager", "qualite", "mediateur", "admin"]


def readers(**overrides):
    """Staff with a role in the Caf (and the outsider in its own organisation) read."""
    answers = {
        "anonyme": LOGIN,
        **{persona: OK for persona in READERS},
        "partenaire": OK,
        "outsider": OK,
        "sans_role": FORBIDDEN,
    }
    return {**answers, **overrides}


def editors():
    """Quality leads and administrators (the outsider: of its own organisation)."""
    return {
        "anonyme": LOGIN,
        **{persona: FORBIDDEN for persona in ["agent", "manager", "mediateur", "partenaire"]},
        "qualite": OK,
        "admin": OK,
        "outsider": OK,
        "sans_role": FORBIDDEN,
    }


def _qualite_notice(w):
    from voix.commitments.models import Notice

    notice = Notice.objects.create(user=w.people["qualite"], organisation=w.caf, text="Test")
    return {"pk": notice.pk}


PAGES = [
    Page("commitments:pilotage", expect=readers()),
    Page(
        "commitments:pilotage_site",
        lambda w: {"pk": w.site.pk},
        readers(partenaire=NOT_FOUND, outsider=NOT_FOUND),
    ),
    Page("commitments:pilotage_indicator", lambda w: {"pk": w.indicator.pk}, readers()),
    Page("commitments:pilotage_notices", expect=readers()),
    Page(
        "commitments:pilotage_notice_read",
        _qualite_notice,
        readers(
            **{p: NOT_FOUND for p in ["agent", "manager", "mediateur", "admin", "partenaire"]},
            outsider=NOT_FOUND,
            qualite=REDIRECT,
        ),
        method="post",
    ),
    Page("commitments:pilotage_entry", expect=editors()),
    Page("commitments:pilotage_import", expect=editors()),
]
