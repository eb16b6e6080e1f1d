"""Pages of the appointments app (public) for the page matrix (tests/pages.py): the booking
steps and the manage-link pages answer everyone alike (no account is needed)."""

from tests.pages import NOT_FOUND, OK, Page, everyone

WRONG_TOKEN = "jeton-inconnu"


def _org(w):
    return {"org_slug": w.caf.slug}


def _reason(w):
    return {**_org(w), "reason_pk": w.rdv_reason.pk}


def _mode(w):
    return {**_reason(w), "mode": "sur_place"}


def _site(w):
    return {**_mode(w), "site_slug": w.site.slug}


def _slot(w):
    from voix.appointments import services
    from voix.appointments.views.public import slot_param

    slot = services.first_available(w.rdv_reason, w.site, mode="sur_place")
    return {**_site(w), "debut": slot_param(slot.starts_at)}


def _manage(w):
    from voix.appointments import links

    return {"token": links.manage_token(w.appointment)}


def _waitlist_entry(w):
    if not hasattr(w, "waitlist_entry"):
        from voix.appointments import waitlist

        w.waitlist_entry = waitlist.subscribe(
            reason=w.appointment.reason,
            site=w.appointment.site,
            mode=w.appointment.mode,
            before=w.appointment.starts_at,
            email=w.appointment.email,
            phone=w.appointment.phone,
            appointment=w.appointment,
        )
    return {"token": w.waitlist_entry.token}


PAGES = [
    Page("appointments:public_start", _org, everyone(OK)),
    Page("appointments:public_start", lambda w: {"org_slug": "inconnu"}, everyone(NOT_FOUND)),
    Page("appointments:public_mode", _reason, everyone(OK)),
    # A reason for partners only is not offered online.
    Page(
        "appointments:public_mode",
        lambda w: {**_org(w), "reason_pk": w.rdd_reason.pk},
        everyone(NOT_FOUND),
    ),
    # Another organisation's reason under the Caf's address.
    Page(
        "appointments:public_mode",
        lambda w: {**_org(w), "reason_pk": w.other_reason.pk},
        everyone(NOT_FOUND),
    ),
    Page("appointments:public_site", _mode, everyone(OK)),
    Page(
        "appointments:public_site", lambda w: {**_reason(w), "mode": "pigeon"}, everyone(NOT_FOUND)
    ),
    Page("appointments:public_slots", _site, everyone(OK)),
    Page(
        "appointments:public_slots",
        lambda w: {**_mode(w), "site_slug": w.relay.slug},  # the reason is not offered there
        everyone(NOT_FOUND),
    ),
    Page("appointments:public_waitlist", _site, everyone(OK)),
    Page("appointments:public_details", _slot, everyone(OK)),
    Page(
        "appointments:public_details",
        lambda w: {**_site(w), "debut": "demain-matin"},
        everyone(NOT_FOUND),
    ),
    Page("appointments:manage", _manage, everyone(OK)),
    Page("appointments:manage", lambda w: {"token": WRONG_TOKEN}, everyone(NOT_FOUND)),
    Page("appointments:manage_ics", _manage, everyone(OK), method="head"),
    Page("appointments:manage_ics", lambda w: {"token": WRONG_TOKEN}, everyone(NOT_FOUND)),
    Page("appointments:manage_cancel", _manage, everyone(OK)),
    Page("appointments:manage_move", _manage, everyone(OK)),
    Page("appointments:manage_waitlist", _manage, everyone(OK)),
    Page("appointments:waitlist_unsubscribe", _waitlist_entry, everyone(OK)),
    Page(
        "appointments:waitlist_unsubscribe", lambda w: {"token": WRONG_TOKEN}, everyone(NOT_FOUND)
    ),
]
