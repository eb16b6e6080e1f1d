"""Pages of the reception app for the page matrix (tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Page, everyone

WRONG_TOKEN = "jeton-inconnu"
UNAUTHORIZED = 401


def staff(allowed, *, answer=OK, partner=NOT_FOUND, outsider=NOT_FOUND):
    """A page about the Caf's siège: *allowed* roles get *answer*, other Caf roles 403,
    the partner (its relay only) and the other organisation's admin 404."""
    others = ["agent", "manager", "qualite", "mediateur", "admin"]
    return {
        "anonyme": LOGIN,
        **{p: answer if p in allowed else FORBIDDEN for p in others},
        "partenaire": partner,
        "outsider": outsider,
        "sans_role": FORBIDDEN,
    }


COUNTER = ["agent", "manager", "admin"]
FIGURES = ["manager", "qualite", "admin"]
SETTINGS = ["manager", "admin"]

PAGES = [
    Page(
        "reception:index",
        expect={
            "anonyme": LOGIN,
            **{p: OK for p in ["agent", "manager", "qualite", "partenaire", "admin", "outsider"]},
            "mediateur": FORBIDDEN,
            "sans_role": FORBIDDEN,
        },
    ),
    Page("reception:kiosk", lambda w: {"token": w.reception.kiosk_token}, everyone(OK)),
    Page("reception:kiosk", lambda w: {"token": WRONG_TOKEN}, everyone(NOT_FOUND)),
    Page(
        "reception:kiosk",
        lambda w: {"token": w.reception.display_token},  # the display's link is not the kiosk's
        everyone(NOT_FOUND),
    ),
    Page(
        "reception:kiosk_ticket",
        lambda w: {"token": w.reception.kiosk_token, "pk": w.ticket.pk},
        everyone(OK),
    ),
    Page(
        "reception:kiosk_ticket",
        lambda w: {"token": w.other_reception.kiosk_token, "pk": w.ticket.pk},
        everyone(NOT_FOUND),
    ),
    Page("reception:display", lambda w: {"token": w.reception.display_token}, everyone(OK)),
    Page("reception:display", lambda w: {"token": WRONG_TOKEN}, everyone(NOT_FOUND)),
    Page("reception:counter", lambda w: {"pk": w.counter.pk}, staff(COUNTER)),
    Page(
        "reception:counter",
        lambda w: {"pk": w.relay_counter.pk},
        staff(COUNTER, partner=OK),
    ),
    Page(
        "reception:counter_action",
        lambda w: {"pk": w.counter.pk, "action": "appeler"},
        staff(COUNTER, answer=REDIRECT),
        method="post",
    ),
    Page(
        "reception:counter_edit", lambda w: {"pk": w.counter.pk}, staff(SETTINGS, partner=FORBIDDEN)
    ),
    Page("reception:figures", lambda w: {"pk": w.site.pk}, staff(FIGURES)),
    Page("reception:figures", lambda w: {"pk": w.relay.pk}, staff(FIGURES, partner=OK)),
    Page("reception:settings", lambda w: {"pk": w.site.pk}, staff(SETTINGS, partner=FORBIDDEN)),
    Page(
        "reception:settings_edit", lambda w: {"pk": w.site.pk}, staff(SETTINGS, partner=FORBIDDEN)
    ),
    Page(
        "reception:tokens_regenerate",
        lambda w: {"pk": w.site.pk},
        staff(SETTINGS, partner=FORBIDDEN),
    ),
    Page(
        "reception:tokens_regenerate",
        lambda w: {"pk": w.site.pk},
        staff(SETTINGS, answer=REDIRECT, partner=FORBIDDEN),
        method="post",
    ),
    Page("reception:queue_create", lambda w: {"pk": w.site.pk}, staff(SETTINGS, partner=FORBIDDEN)),
    Page("reception:queue_edit", lambda w: {"pk": w.queue.pk}, staff(SETTINGS, partner=FORBIDDEN)),
    Page(
        "reception:counter_create", lambda w: {"pk": w.site.pk}, staff(SETTINGS, partner=FORBIDDEN)
    ),
    # The API answers 401 without a token (tokens are tested in test_api.py).
    Page("api:api_reception_tickets", expect=everyone(UNAUTHORIZED)),
    Page("api:api_reception_ticket_upsert", expect=everyone(UNAUTHORIZED), method="post"),
]
