"""Public complaint pages (no account) for the page matrix (tests/pages.py)."""

from tests.pages import NOT_FOUND, OK, Page, everyone


def answered_by_letter(w):
    """The world's complaint, answered by letter (so its requester can download it)."""
    from voix.complaints import services
    from voix.complaints.models import AnswerVia

    with services.without_messages():
        services.send_answer(
            w.people["qualite"],
            w.complaint,
            text="Votre allocation a été versée le 5 : nous vous prions de nous excuser.",
            via=AnswerVia.LETTER,
        )
    return {"token": w.complaint.token}


PAGES = [
    Page("complaints:public_form", lambda w: {"slug": w.caf.slug}, everyone(OK)),
    Page("complaints:public_form", lambda w: {"slug": "organisme-inconnu"}, everyone(NOT_FOUND)),
    Page("complaints:tracking", lambda w: {"token": w.complaint.token}, everyone(OK)),
    Page("complaints:tracking", lambda w: {"token": "jeton-inconnu"}, everyone(NOT_FOUND)),
    Page("complaints:tracking_letter", answered_by_letter, everyone(OK), method="head"),
    # not answered (by letter or at all): no letter to download
    Page(
        "complaints:tracking_letter",
        lambda w: {"token": w.relay_complaint.token},
        everyone(NOT_FOUND),
        method="head",
    ),
]
