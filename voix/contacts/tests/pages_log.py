"""Pages of the contact log, worklists and settings for the page matrix (tests/pages.py)."""

from tests.pages import FORBIDDEN, LOGIN, NOT_FOUND, OK, REDIRECT, Page

HANDLERS = ["agent", "manager", "qualite", "mediateur", "admin"]


def answers(default, **overrides):
    """Anonymous → login page; sans_role → 403; every other persona *default*."""
    others = ["agent", "manager", "qualite", "mediateur", "partenaire", "admin", "outsider"]
    return {"anonyme": LOGIN, "sans_role": FORBIDDEN, **dict.fromkeys(others, default), **overrides}


def log_pages():
    """Anyone with a role (a partner: its relay's contacts; the outsider: its own)."""
    return answers(OK)


def caf_contact(ok=OK):
    """One contact of the Caf's siège: its agents; the relay partner and the outsider 404."""
    return answers(ok, partenaire=NOT_FOUND, outsider=NOT_FOUND)


def supervisors(ok=OK):
    """Managers and administrators (the outsider in its own organisation)."""
    return answers(FORBIDDEN, manager=ok, admin=ok, outsider=ok)


def settings_readers():
    return answers(FORBIDDEN, manager=OK, admin=OK, qualite=OK, outsider=OK)


def caf_setting():
    """A reason, team or policy of the Caf: its managers and admins edit, qualité 403."""
    return answers(FORBIDDEN, manager=OK, admin=OK, outsider=NOT_FOUND)


PAGES = [
    Page("contacts:list", expect=log_pages()),
    Page("contacts:create", expect=log_pages()),
    Page("contacts:my_worklist", expect=log_pages()),
    Page("contacts:contact", lambda w: {"pk": w.contact.pk}, caf_contact()),
    Page(
        "contacts:contact_action",
        # Resuming a contact that is not on hold: refused with a message, nothing changes.
        lambda w: {"pk": w.contact.pk, "action": "reprendre"},
        caf_contact(REDIRECT),
        method="post",
    ),
    Page("contacts:team_worklist", expect=supervisors()),
    Page("contacts:bulk_assign", expect=supervisors(REDIRECT), method="post"),
    Page("contacts:settings", expect=settings_readers()),
    Page("contacts:reason_create", expect=supervisors()),
    Page("contacts:reason_edit", lambda w: {"pk": w.reason.pk}, caf_setting()),
    Page("contacts:team_create", expect=supervisors()),
    Page("contacts:team_edit", lambda w: {"pk": w.team.pk}, caf_setting()),
    Page("contacts:policy_create", expect=supervisors()),
    Page("contacts:policy_edit", lambda w: {"pk": w.policy.pk}, caf_setting()),
    Page("contacts:policies_defaults", expect=supervisors(REDIRECT), method="post"),
]
