"""Shared fixtures: a small organisation built through services, and one person per persona."""

from datetime import time

import pytest

from voix.core import audit_guard, services
from voix.core.models import Role

PASSWORD = "mot-de-passe-des-tests-2026"

PERSONAS = [
    "anonyme",
    "agent",
    "manager",
    "qualite",
    "mediateur",
    "partenaire",
    "admin",
    "outsider",
    "sans_role",
]


@pytest.fixture(autouse=True)
def _audit_guards(request):
    """Keep the audit-log triggers on, except around tests that empty the database.

    Transactional tests (and the live server) flush every table afterwards, which the
    triggers would refuse, and pytest-django may flush after this fixture's teardown. So
    the guards are lifted before such a test and put back before the next test that uses
    the ordinary rolled-back database, where the guards themselves are tested.
    """
    names = set(request.fixturenames)
    if not names & {"db", "transactional_db", "live_server"}:
        return
    from django.db import connection

    request.getfixturevalue("django_db_setup")
    with request.getfixturevalue("django_db_blocker").unblock():
        audit_guard.remove_guards(connection)
        if not names & {"transactional_db", "live_server"}:
            audit_guard.install_guards(connection)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Hashing cost is a security setting, not behaviour under test: keep the suite quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path_factory):
    """Uploaded files (complaint attachments) go to a temporary folder, never to ./media/."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (rate-limit counters, cached pages)."""
    from django.core.cache import cache

    from voix.surveys.views.public import forget_cached_pages

    cache.clear()
    forget_cached_pages()
    yield
    cache.clear()
    forget_cached_pages()


class World:
    """The organisations, sites and people every test can rely on."""


def build_world() -> World:
    w = World()
    w.network = services.create_organisation(
        None, name="Réseau test", slug="reseau-test", kind="reseau"
    )
    w.caf = services.create_organisation(
        None, name="Caf test", slug="caf-test", kind="organisme", parent=w.network, departement="53"
    )
    w.other = services.create_organisation(
        None, name="Autre organisme", slug="autre", kind="organisme", departement="57"
    )
    site_fields = dict(address="1 rue A", postcode="53000", commune="Laval", insee_code="53130")
    w.site = services.create_site(
        None, w.caf, name="Siège test", slug="siege", kind="siege", **site_fields
    )
    w.relay = services.create_site(
        None, w.caf, name="France Services test", slug="fs", kind="france_services", **site_fields
    )
    w.other_relay = services.create_site(
        None,
        w.caf,
        name="France Services voisin",
        slug="fs2",
        kind="france_services",
        **site_fields,
    )
    w.other_site = services.create_site(
        None,
        w.other,
        name="Accueil Metz",
        slug="metz",
        kind="siege",
        address="1 rue B",
        postcode="57000",
        commune="Metz",
        insee_code="57463",
    )
    for site in (w.site, w.relay, w.other_site):
        services.set_opening_hours(
            None,
            site,
            [(d, time(8, 30), time(12)) for d in range(5)]
            + [(d, time(13, 30), time(16, 30)) for d in range(5)],
        )
    w.closure = services.add_closure(
        None, w.caf, start_date="2030-01-02", end_date="2030-01-03", label="Inventaire"
    )
    w.people = {}
    roles = {
        "agent": (w.caf, Role.AGENT, w.site),
        "manager": (w.caf, Role.MANAGER, w.site),
        "qualite": (w.caf, Role.QUALITE, None),
        "mediateur": (w.caf, Role.MEDIATEUR, None),
        "partenaire": (w.caf, Role.PARTENAIRE, w.relay),
        "admin": (w.caf, Role.ADMIN, None),
        "outsider": (w.other, Role.ADMIN, None),
    }
    for persona, (organisation, role, site) in roles.items():
        user = services.create_person(
            None,
            email=f"{persona}@test.localhost",
            full_name=f"{persona.capitalize()} Test",
            password=PASSWORD,
        )
        services.add_membership(None, user, organisation, role, site=site)
        w.people[persona] = user
    w.people["sans_role"] = services.create_person(
        None, email="sans-role@test.localhost", full_name="Sans Rôle", password=PASSWORD
    )
    w.people["anonyme"] = None
    from voix.appointments.tests import world as appointments_world
    from voix.commitments.tests import world as commitments_world
    from voix.complaints.tests import world as complaints_world
    from voix.contacts.tests import world as contacts_world
    from voix.field_reports.tests import world as field_reports_world
    from voix.reception.tests import world as reception_world
    from voix.surveys.tests import world as surveys_world

    for app_world in (
        commitments_world,
        contacts_world,
        reception_world,
        appointments_world,
        surveys_world,
        complaints_world,
        field_reports_world,
    ):
        w = app_world.extend_world(w)
    # What the world sent while being built (acknowledgements, invitations: sent at once in
    # transactional tests) is not what a test sends.
    from django.core import mail

    from voix.core import sms

    if hasattr(mail, "outbox"):
        mail.outbox.clear()
    sms.outbox.clear()
    return w


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def client_for(client, world):
    """client_for("agent") → the test client logged in as that persona (anonymous: as is)."""

    def make(persona):
        client.logout()
        user = world.people[persona]
        if user is not None:
            client.force_login(user)
        return client

    return make
