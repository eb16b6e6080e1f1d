"""Pages of the frameworks part for the page matrix (tests/pages.py).

The shipped référentiels are loaded on demand, and the Caf adopts Services Publics+ so that
the matrix can open a référentiel (and a commitment) the Caf owns: the outsider gets 404.
"""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, Page

SPP = "services-publics-plus-2023"


def quality(**overrides):
    """Quality leads and administrators (the outsider: of its own organisation); other
    staff 403."""
    answers = {
        "anonyme": LOGIN,
        **{p: FORBIDDEN for p in ["agent", "manager", "mediateur", "partenaire", "sans_role"]},
        "qualite": OK,
        "admin": OK,
        "outsider": OK,
    }
    return {**answers, **overrides}


def shipped(code=SPP):
    """The national référentiel *code*, loading the shipped data first if needed."""
    from voix.commitments.catalogue import load_shipped
    from voix.commitments.models import Framework

    framework = Framework.objects.filter(organisation=None, code=code).first()
    if framework is None:
        load_shipped()
        framework = Framework.objects.get(organisation=None, code=code)
    return framework


def caf_copy(w, code=SPP):
    """The Caf's own copy of a shipped référentiel (adopted on first use)."""
    from voix.commitments.frameworks import adopt_framework
    from voix.commitments.models import Framework

    copy = Framework.objects.filter(organisation=w.caf, code=code).first()
    return copy or adopt_framework(None, shipped(code), w.caf)


PAGES = [
    Page("commitments:frameworks", expect=quality()),
    Page("commitments:framework_import", expect=quality()),
    Page("commitments:local_commitment_add", expect=quality()),
    Page("commitments:framework_detail", lambda w: {"pk": shipped().pk}, quality()),
    Page(
        "commitments:framework_detail",
        lambda w: {"pk": caf_copy(w).pk},
        quality(outsider=NOT_FOUND),
    ),
    Page("commitments:framework_adopt", lambda w: {"pk": shipped("marianne-2016").pk}, quality()),
    # A download, not a page: HEAD keeps it out of the browser's accessibility run.
    Page(
        "commitments:framework_export",
        lambda w: {"pk": caf_copy(w).pk},
        quality(outsider=NOT_FOUND),
        method="head",
    ),
    Page(
        "commitments:commitment_edit",
        lambda w: {"pk": caf_copy(w).commitments.get(number="8").pk},
        quality(outsider=NOT_FOUND),
    ),
]
