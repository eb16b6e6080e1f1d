"""Pages of the appointments app (partner booking and configuration) for the page matrix
(tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Page


def partner_only(answer=OK, *, partner=None):
    """A relay page: the partner only; every other role 403 (staff use the agenda)."""
    return {
        "anonyme": LOGIN,
        **{
            p: FORBIDDEN
            for p in ["agent", "manager", "qualite", "mediateur", "admin", "outsider", "sans_role"]
        },
        "partenaire": partner if partner is not None else answer,
    }


def editors(answer=OK, *, outsider=None):
    """A configuration page: managers and administrators of the organisation; other roles
    403; another organisation's administrator gets its own organisation (list pages) or 404
    (the Caf's objects)."""
    return {
        "anonyme": LOGIN,
        **{p: FORBIDDEN for p in ["agent", "qualite", "mediateur", "partenaire", "sans_role"]},
        "manager": answer,
        "admin": answer,
        "outsider": answer if outsider is None else outsider,
    }


def first_slot(w):
    return w.advisor.opening_slots.order_by("weekday", "starts").first()


def absence(w):
    """An absence of the Caf's advisor (made here: the world has none)."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    from voix.appointments import services

    starts = timezone.make_aware(datetime(2030, 3, 4, 8))
    return services.add_absence(
        None, w.advisor, w.caf, starts_at=starts, ends_at=starts + timedelta(hours=10)
    )


PAGES = [
    # ----- partner booking
    Page("appointments:relay_index", expect=partner_only()),
    Page("appointments:relay_export", expect=partner_only(), method="head"),
    Page("appointments:relay_book", expect=partner_only()),
    Page("appointments:relay_detail", lambda w: {"pk": w.partner_appointment.pk}, partner_only()),
    # a booking that is not the relay's: never shown, not even to the partner
    Page(
        "appointments:relay_detail",
        lambda w: {"pk": w.appointment.pk},
        partner_only(partner=NOT_FOUND),
    ),
    # ----- configuration
    Page("appointments:settings", expect=editors()),
    Page("appointments:settings_edit", expect=editors()),
    Page("appointments:reason_create", expect=editors()),
    Page(
        "appointments:reason_edit",
        lambda w: {"pk": w.rdv_reason.pk},
        editors(outsider=NOT_FOUND),
    ),
    Page(
        "appointments:reason_edit",
        lambda w: {"pk": w.other_reason.pk},
        {**editors(NOT_FOUND), "outsider": OK},
    ),
    Page("appointments:slot_create", expect=editors()),
    Page(
        "appointments:slot_edit",
        lambda w: {"pk": first_slot(w).pk},
        editors(outsider=NOT_FOUND),
    ),
    Page(
        "appointments:slot_delete",
        lambda w: {"pk": first_slot(w).pk},
        editors(outsider=NOT_FOUND),
    ),
    Page(
        "appointments:slot_delete",
        lambda w: {"pk": first_slot(w).pk},
        editors(REDIRECT, outsider=NOT_FOUND),
        method="post",
    ),
    Page(
        "appointments:slot_exception_create",
        lambda w: {"pk": first_slot(w).pk},
        editors(outsider=NOT_FOUND),
    ),
    Page("appointments:absence_create", expect=editors()),
    Page(
        "appointments:absence_delete",
        lambda w: {"pk": absence(w).pk},
        editors(outsider=NOT_FOUND),
    ),
    Page(
        "appointments:absence_delete",
        lambda w: {"pk": absence(w).pk},
        editors(REDIRECT, outsider=NOT_FOUND),
        method="post",
    ),
]


# The appointments API: without a token, every route answers 401 (tokens, roles and
# scoping are tested in test_api.py).
UNAUTHORIZED = 401
API_ANSWER = {persona: UNAUTHORIZED for persona in partner_only()}
PAGES += [
    Page("api:api_appointment_reasons", expect=API_ANSWER),
    Page("api:api_appointment_availability", expect=API_ANSWER),
    Page("api:api_appointment_book", expect=API_ANSWER, method="post"),
    Page("api:api_appointments", expect=API_ANSWER),
    Page(
        "api:api_appointment",
        lambda w: {"reference": w.appointment.reference},
        API_ANSWER,
    ),
]
