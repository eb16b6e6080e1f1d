import io

from django.core.management import call_command

from voix.core.models import AuditEvent, Membership, Organisation, Role, Site, User
from voix.core.scoping import visible_sites


def seed():
    call_command("seed_demo", stdout=io.StringIO())


def test_demo_has_a_caf_with_eleven_france_services_relays(db):
    seed()
    caf = Organisation.objects.get(slug="caf-mayenne-demo")
    assert caf.parent.slug == "branche-famille-demo"
    assert caf.sites.filter(kind="france_services").count() == 11
    assert caf.sites.get(kind="siege").commune == "Laval"
    assert {s.kind for s in caf.sites.all()} >= {
        "siege",
        "antenne",
        "permanence",
        "france_services",
    }
    assert all(site.opening_hours.exists() for site in caf.sites.all())


def test_demo_has_one_account_per_role_and_an_isolated_outsider(db):
    seed()
    roles = set(
        Membership.objects.filter(organisation__slug="caf-mayenne-demo").values_list(
            "role", flat=True
        )
    )
    assert roles == set(Role.values)
    outsider = User.objects.get(email="autre@demo.voix.localhost")
    assert not visible_sites(outsider).filter(organisation__slug="caf-mayenne-demo").exists()
    partner = User.objects.get(email="partenaire@demo.voix.localhost")
    assert [s.slug for s in visible_sites(partner)] == ["france-services-evron"]
    assert User.objects.get(email="agent@demo.voix.localhost").check_password("voix-demo-2026")


def test_seed_demo_is_idempotent(db):
    seed()
    counts = (
        Organisation.objects.count(),
        Site.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )
    seed()
    assert counts == (
        Organisation.objects.count(),
        Site.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seed_demo_goes_through_services_so_it_is_audited(db):
    seed()
    assert AuditEvent.objects.filter(action="site.créé").count() == Site.objects.count()


def test_demo_bridge_day_is_the_friday_after_ascension(db):
    seed()
    bridge = Organisation.objects.get(slug="caf-mayenne-demo").closures.get(
        label__startswith="Pont"
    )
    assert bridge.start_date.weekday() == 4
