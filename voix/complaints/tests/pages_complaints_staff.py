"""Staff, mediation, relay and settings pages of the complaints app for the page matrix
(tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_ALLOWED, NOT_FOUND, OK, REDIRECT, Page, everyone

STAFF = ["agent", "manager", "qualite", "mediateur", "partenaire", "admin", "outsider", "sans_role"]


def answers(default, **overrides):
    """Anonymous → login page; every other persona *default* unless overridden."""
    return {"anonyme": LOGIN, **dict.fromkeys(STAFF, default), **overrides}


def case_list(answer=OK):
    """The case list and its export: whoever handles complaints (each sees what the rules
    let them: an agent its own, the médiateur the mediated ones, the outsider its body's);
    a partner is sent to its relay's page; no role: 403."""
    return answers(answer, partenaire=REDIRECT, sans_role=FORBIDDEN)


def intake():
    return answers(OK, mediateur=FORBIDDEN, partenaire=FORBIDDEN, sans_role=FORBIDDEN)


def caf_case(answer=OK, *, mediateur=NOT_FOUND):
    """A case of the Caf with its personal data: managers, quality, admins of the Caf (and
    the médiateur once it is in mediation); everyone else 404, even the agent who is not
    its assignee and the partner."""
    return answers(NOT_FOUND, manager=answer, qualite=answer, admin=answer, mediateur=mediateur)


def mediators(answer=OK, *, admin=OK, outsider=OK):
    return answers(FORBIDDEN, mediateur=answer, admin=admin, outsider=outsider)


def with_attachment(w):
    """A complaint filed with one PDF (the world's have none)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from voix.complaints import services
    from voix.complaints.models import Intake, Kind

    with services.without_messages():
        complaint = services.file_complaint(
            None,
            w.caf,
            kind=Kind.COMPLAINT,
            intake=Intake.FORM,
            subject="Pièce jointe",
            body="Voici le courrier reçu, que je ne comprends pas.",
            email="piece@example.org",
            consent=True,
            attachments=[
                SimpleUploadedFile("courrier.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
            ],
        )
    return {"pk": complaint.pk, "apk": complaint.attachments.get().pk}


def case(w):
    return {"pk": w.complaint.pk}


PAGES = [
    # ----- list, export, intake
    Page("complaints:index", expect=case_list()),
    Page("complaints:export", expect=case_list(), method="head"),
    Page("complaints:create", expect=intake()),
    # ----- a case
    Page("complaints:detail", case, caf_case()),
    # a relay's case: the partner sees it in its list only, never its page
    Page("complaints:detail", lambda w: {"pk": w.relay_complaint.pk}, caf_case()),
    Page(
        "complaints:detail",
        lambda w: {"pk": w.mediation.complaint_id},
        caf_case(mediateur=OK),
    ),
    Page(
        "complaints:detail",
        lambda w: {"pk": w.outsider_complaint.pk},
        answers(NOT_FOUND, outsider=OK),
    ),
    Page("complaints:answer", case, caf_case()),
    Page("complaints:close", case, caf_case()),
    Page("complaints:escalate", case, caf_case()),
    # the médiateur reads a mediated case (and its letter) but does not act on it
    Page(
        "complaints:answer",
        lambda w: {"pk": w.mediation.complaint_id},
        caf_case(mediateur=FORBIDDEN),
    ),
    Page(
        "complaints:letter",
        lambda w: {"pk": w.mediation.complaint_id},
        caf_case(mediateur=OK),
        method="head",
    ),
    # not answered yet: no letter
    Page("complaints:letter", case, caf_case(NOT_FOUND)),
    Page("complaints:attachment", with_attachment, caf_case(), method="head"),
    # POST-only actions: GET is refused to everyone
    *[
        Page(f"complaints:{name}", case, everyone(NOT_ALLOWED))
        for name in ("acknowledge", "assign", "note", "tag", "pause", "resume")
    ],
    # … and a POST without data comes back to the case with a message (others: 404)
    *[
        Page(f"complaints:{name}", case, caf_case(REDIRECT), method="post")
        for name in ("acknowledge", "assign", "note", "tag", "pause", "resume")
    ],
    # ----- mediation
    Page("complaints:mediation_index", expect=mediators()),
    Page(
        "complaints:mediation_detail",
        lambda w: {"pk": w.mediation.pk},
        mediators(outsider=NOT_FOUND),
    ),
    Page("complaints:mediation_take", lambda w: {"pk": w.mediation.pk}, everyone(NOT_ALLOWED)),
    Page(
        "complaints:mediation_take",
        lambda w: {"pk": w.mediation.pk},
        mediators(REDIRECT, admin=FORBIDDEN, outsider=NOT_FOUND),
        method="post",
    ),
    Page("complaints:mediation_decide", lambda w: {"pk": w.mediation.pk}, everyone(NOT_ALLOWED)),
    # without a decision: the page again, with the errors
    Page(
        "complaints:mediation_decide",
        lambda w: {"pk": w.mediation.pk},
        mediators(400, admin=FORBIDDEN, outsider=NOT_FOUND),
        method="post",
    ),
    # ----- relay and settings
    Page("complaints:relay_index", expect=answers(FORBIDDEN, partenaire=OK)),
    Page(
        "complaints:settings",
        expect=answers(FORBIDDEN, qualite=OK, admin=OK, outsider=OK),
    ),
]
