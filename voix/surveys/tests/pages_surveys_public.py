"""Pages of the surveys app (public) for the page matrix (tests/pages.py): answering needs no
account, so every persona gets the same answer."""

from tests.pages import NOT_FOUND, OK, Page, everyone

WRONG_TOKEN = "jeton-inconnu"


def _link(w):
    return {"token": w.survey_link.token}


def _kiosk(w):
    return {"token": w.kiosk_link.token}


def _invitation(w):
    return {"token": w.invitation.token}


def _wrong(w):
    return {"token": WRONG_TOKEN}


PAGES = [
    Page("surveys:answer", _link, everyone(OK)),
    Page("surveys:answer", _kiosk, everyone(OK)),
    Page("surveys:answer", _invitation, everyone(OK)),
    Page("surveys:answer", _wrong, everyone(NOT_FOUND)),
    Page("surveys:thanks", _link, everyone(OK)),
    Page("surveys:thanks", _kiosk, everyone(OK)),
    Page("surveys:thanks", _wrong, everyone(NOT_FOUND)),
    Page("surveys:qr", _link, everyone(OK), method="head"),
    Page("surveys:qr", _wrong, everyone(NOT_FOUND)),
    Page("surveys:button", _link, everyone(OK), method="head"),
    Page("surveys:button", _wrong, everyone(NOT_FOUND)),
]
