"""Pages of the appointments app (staff: agenda, booking for someone, an appointment and
its actions) for the page matrix (tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Page

HOLDERS = ["agent", "manager", "admin"]


def agenda_page(answer=OK):
    """The agenda and the booking page: agents, managers, administrators of any organisation
    (the other organisation's admin sees its own); every other role 403."""
    return {
        "anonyme": LOGIN,
        **{p: answer for p in [*HOLDERS, "outsider"]},
        **{p: FORBIDDEN for p in ["qualite", "mediateur", "partenaire", "sans_role"]},
    }


def appointment_page(answer=OK):
    """One appointment of the Caf: its agents, managers, administrators; quality and
    mediation 403; the partner (even for its own referral) and the other organisation
    404."""
    return {
        "anonyme": LOGIN,
        **{p: answer for p in HOLDERS},
        "qualite": FORBIDDEN,
        "mediateur": FORBIDDEN,
        "sans_role": FORBIDDEN,
        "partenaire": NOT_FOUND,
        "outsider": NOT_FOUND,
    }


PAGES = [
    Page("appointments:agenda", expect=agenda_page()),
    Page("appointments:book", expect=agenda_page()),
    Page("appointments:detail", lambda w: {"pk": w.appointment.pk}, appointment_page()),
    Page("appointments:detail", lambda w: {"pk": w.partner_appointment.pk}, appointment_page()),
    Page("appointments:move", lambda w: {"pk": w.appointment.pk}, appointment_page()),
    Page("appointments:cancel", lambda w: {"pk": w.appointment.pk}, appointment_page()),
    # Without a status, the action says so and goes back to the appointment.
    Page(
        "appointments:set_status",
        lambda w: {"pk": w.appointment.pk},
        appointment_page(REDIRECT),
        method="post",
    ),
    # Not today: the action refuses with a message and goes back to the appointment.
    Page(
        "appointments:check_in",
        lambda w: {"pk": w.appointment.pk},
        appointment_page(REDIRECT),
        method="post",
    ),
]
