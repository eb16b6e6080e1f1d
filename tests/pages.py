"""The page matrix: every named URL, how to fill it, and what each persona gets.

A new named URL that is missing here makes `test_every_named_url_is_in_the_matrix` fail,
so every page is checked for every persona (status code here, accessibility in the browser).
"""

from dataclasses import dataclass, field

from django.urls import get_resolver

from conftest import PERSONAS

OK, LOGIN, FORBIDDEN, NOT_FOUND, REDIRECT, NOT_ALLOWED = 200, "login", 403, 404, 302, 405
STAFF = ["agent", "manager", "qualite", "mediateur", "partenaire", "admin", "outsider", "sans_role"]


@dataclass
class Page:
    name: str
    kwargs: callable = None  # world -> kwargs
    expect: dict = field(default_factory=dict)  # persona -> expected answer
    method: str = "get"

    def args(self, world):
        return self.kwargs(world) if self.kwargs else {}


def everyone(answer):
    return {persona: answer for persona in PERSONAS}


def admin_list():
    """Administration list pages: administrators of any organisation, 403 for other staff."""
    return {"anonyme": LOGIN, **{p: FORBIDDEN for p in STAFF}, "admin": OK, "outsider": OK}


def admin_object():
    """An object of the Caf: its administrator only; another organisation's admin gets 404."""
    return {**admin_list(), "outsider": NOT_FOUND}


def logged_in(answer=OK):
    return {"anonyme": LOGIN, **{p: answer for p in STAFF}}


PAGES = [
    Page("core:public_index", expect=everyone(OK)),
    Page("core:organisation_public", lambda w: {"slug": w.caf.slug}, everyone(OK)),
    Page(
        "core:site_public",
        lambda w: {"slug": w.caf.slug, "site_slug": w.site.slug},
        everyone(OK),
    ),
    Page("core:accessibility", expect=everyone(OK)),
    Page("core:legal", expect=everyone(OK)),
    Page("core:personal_data", expect=everyone(OK)),
    Page("core:login", expect={"anonyme": OK, **{p: REDIRECT for p in STAFF}}),
    Page("core:logout", expect=everyone(REDIRECT), method="post"),
    Page("core:password_reset", expect=everyone(OK)),
    Page("core:password_reset_done", expect=everyone(OK)),
    Page(
        "core:password_reset_confirm",
        lambda w: {"uidb64": "MQ", "token": "jeton-invalide"},
        everyone(OK),
    ),
    Page("core:password_reset_complete", expect=everyone(OK)),
    Page("core:password_change", expect=logged_in()),
    Page("core:home", expect=logged_in()),
    Page("core:admin_index", expect=admin_list()),
    Page("core:admin_organisations", expect=admin_list()),
    Page("core:admin_organisation_create", expect=admin_list()),
    Page("core:admin_organisation_edit", lambda w: {"pk": w.caf.pk}, admin_object()),
    Page("core:admin_site_create", lambda w: {"pk": w.caf.pk}, admin_object()),
    Page("core:admin_closure_create", lambda w: {"pk": w.caf.pk}, admin_object()),
    Page("core:admin_site_edit", lambda w: {"pk": w.site.pk}, admin_object()),
    Page("core:admin_site_hours", lambda w: {"pk": w.site.pk}, admin_object()),
    Page("core:admin_closure_delete", lambda w: {"pk": w.closure.pk}, admin_object()),
    Page("core:admin_people", expect=admin_list()),
    Page("core:admin_person_create", expect=admin_list()),
    Page("core:admin_person_edit", lambda w: {"pk": w.people["agent"].pk}, admin_object()),
    Page(
        "core:admin_person_invite",
        lambda w: {"pk": w.people["agent"].pk},
        {**admin_object(), "admin": REDIRECT},
        method="post",
    ),
    Page(
        "core:admin_membership_delete",
        lambda w: {"pk": w.people["agent"].memberships.get().pk},
        admin_object(),
    ),
    Page("core:audit_log", expect=admin_list()),
]


def _app_pages():
    from voix.appointments.tests import (
        pages_appointments_partner,
        pages_appointments_public,
        pages_appointments_staff,
    )
    from voix.commitments.tests import pages_frameworks, pages_pilotage, pages_public
    from voix.complaints.tests import pages_complaints_public, pages_complaints_staff
    from voix.contacts.tests import pages_contacts
    from voix.field_reports.tests import pages_field_reports
    from voix.reception.tests import pages_reception
    from voix.surveys.tests import pages_surveys_public, pages_surveys_staff

    return [
        *pages_frameworks.PAGES,
        *pages_pilotage.PAGES,
        *pages_public.PAGES,
        *pages_contacts.PAGES,
        *pages_reception.PAGES,
        *pages_appointments_public.PAGES,
        *pages_appointments_staff.PAGES,
        *pages_appointments_partner.PAGES,
        *pages_surveys_public.PAGES,
        *pages_surveys_staff.PAGES,
        *pages_complaints_public.PAGES,
        *pages_complaints_staff.PAGES,
        *pages_field_reports.PAGES,
    ]


PAGES += _app_pages()


def named_urls() -> set[str]:
    """Every named URL of Voix's own apps (Django's technical admin excluded)."""
    names = set()

    def walk(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                if pattern.namespace == "admin":
                    continue
                prefix = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern, prefix)
            elif pattern.name:
                names.add(namespace + pattern.name)

    walk(get_resolver())
    return names


def visible_pages(persona):
    """(page, world→kwargs) pairs a persona can open with GET (for the browser checks)."""
    return [page for page in PAGES if page.method == "get" and page.expect.get(persona) == OK]
