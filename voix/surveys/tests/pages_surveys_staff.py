"""Staff pages of the surveys app for the page matrix (tests/pages.py): the list, the
builder, the links page, results, verbatims, exports and settings."""

from tests.pages import FORBIDDEN, LOGIN, NOT_ALLOWED, NOT_FOUND, OK, Page


def answers(default=FORBIDDEN, **overrides):
    """Anonymous → login page; every other persona *default* unless overridden."""
    staff = [
        "agent",
        "manager",
        "qualite",
        "mediateur",
        "partenaire",
        "admin",
        "outsider",
        "sans_role",
    ]
    return {"anonyme": LOGIN, **dict.fromkeys(staff, default), **overrides}


def editors(ok=OK, outsider=NOT_FOUND):
    """Quality leads and administrators of the Caf (the outsider: 404 on a Caf object)."""
    return answers(qualite=ok, admin=ok, outsider=outsider)


def readers(ok=OK):
    """Results: quality leads, managers and administrators of the Caf."""
    return answers(qualite=ok, manager=ok, admin=ok, outsider=NOT_FOUND)


def link_viewers():
    """The links page of an open questionnaire: everyone who hands links out (read-only)."""
    return answers(OK, mediateur=FORBIDDEN, sans_role=FORBIDDEN, outsider=NOT_FOUND)


def survey(w):
    return {"pk": w.survey.pk}


def question(w):
    return {"pk": w.survey.pk, "qpk": w.survey.questions.order_by("position").first().pk}


PAGES = [
    Page(
        "surveys:index",
        expect=answers(OK, mediateur=FORBIDDEN, sans_role=FORBIDDEN),
    ),
    Page("surveys:create", expect=editors(outsider=OK)),
    Page("surveys:settings", expect=editors(outsider=OK)),
    Page("surveys:edit", survey, editors()),
    Page("surveys:question_add", survey, editors()),
    Page("surveys:question_edit", question, editors()),
    Page("surveys:question_delete", question, editors()),
    # POST-only actions: a GET is refused once the role is checked.
    Page("surveys:question_move", question, editors(NOT_ALLOWED, outsider=NOT_ALLOWED)),
    Page("surveys:status", survey, editors(NOT_ALLOWED, outsider=NOT_ALLOWED)),
    Page("surveys:links", survey, link_viewers()),
    Page("surveys:results", survey, readers()),
    Page("surveys:verbatims", survey, readers()),
    Page(
        "surveys:export",
        lambda w: {"pk": w.survey.pk, "fmt": "csv"},
        readers(),
        method="head",
    ),
]
