"""Create the demo organisation « Caf de la Mayenne (démo) » — idempotent, through services.

Addresses, phone numbers and people are fictitious; communes and INSEE codes are real.
"""

import importlib
from datetime import date, time, timedelta

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from voix.core import services, workdays
from voix.core.models import Membership, Organisation, Role, User

DEMO_PASSWORD = "voix-demo-2026"

# Morning and afternoon, Monday to Friday unless a day is listed in `closed`.
MORNING = (time(8, 30), time(12, 0))
AFTERNOON = (time(13, 30), time(16, 30))


def weekly(morning=MORNING, afternoon=AFTERNOON, *, days=range(5), closed_afternoons=()):
    intervals = []
    for day in days:
        if morning:
            intervals.append((day, *morning))
        if afternoon and day not in closed_afternoons:
            intervals.append((day, *afternoon))
    return intervals


CAF_SITES = [
    # slug, name, kind, address, postcode, commune, insee, hours
    (
        "laval-siege",
        "Caf de la Mayenne — siège de Laval",
        "siege",
        "12 rue de la Démonstration",
        "53000",
        "Laval",
        "53130",
        weekly(closed_afternoons=(3,)),
    ),
    (
        "chateau-gontier",
        "Antenne de Château-Gontier-sur-Mayenne",
        "antenne",
        "3 place de l'Exemple",
        "53200",
        "Château-Gontier-sur-Mayenne",
        "53062",
        weekly(days=(0, 1, 3, 4), closed_afternoons=(4,)),
    ),
    (
        "mayenne",
        "Antenne de Mayenne",
        "antenne",
        "8 quai de l'Exemple",
        "53100",
        "Mayenne",
        "53147",
        weekly(days=(0, 1, 2, 4)),
    ),
    (
        "evron-permanence",
        "Permanence d'Évron",
        "permanence",
        "Mairie, place de l'Exemple",
        "53600",
        "Évron",
        "53097",
        [(2, time(9, 0), time(12, 0))],
    ),
    (
        "craon-permanence",
        "Permanence de Craon",
        "permanence",
        "Maison des services, rue de l'Exemple",
        "53400",
        "Craon",
        "53084",
        [(1, time(9, 0), time(12, 0))],
    ),
]

FS_HOURS = weekly((time(9, 0), time(12, 30)), (time(14, 0), time(17, 0)), closed_afternoons=(2,))
RELAYS = [
    ("ernee", "Ernée", "53500", "53096"),
    ("evron", "Évron", "53600", "53097"),
    ("craon", "Craon", "53400", "53084"),
    ("gorron", "Gorron", "53120", "53107"),
    ("lassay-les-chateaux", "Lassay-les-Châteaux", "53110", "53128"),
    ("landivy", "Landivy", "53190", "53125"),
    ("meslay-du-maine", "Meslay-du-Maine", "53170", "53152"),
    ("villaines-la-juhel", "Villaines-la-Juhel", "53700", "53271"),
    ("pre-en-pail-saint-samson", "Pré-en-Pail-Saint-Samson", "53140", "53185"),
    ("cosse-le-vivien", "Cossé-le-Vivien", "53230", "53077"),
    ("renaze", "Renazé", "53800", "53188"),
]

PEOPLE = [
    # e-mail, name, role, site slug (None: the whole Caf)
    ("admin@demo.voix.localhost", "Alice Administratrice", Role.ADMIN, None),
    ("agent@demo.voix.localhost", "Arthur Agent", Role.AGENT, "laval-siege"),
    ("manager@demo.voix.localhost", "Maud Manager", Role.MANAGER, "laval-siege"),
    ("qualite@demo.voix.localhost", "Quentin Qualité", Role.QUALITE, None),
    ("mediateur@demo.voix.localhost", "Mina Médiatrice", Role.MEDIATEUR, None),
    ("partenaire@demo.voix.localhost", "Paul Partenaire", Role.PARTENAIRE, "france-services-evron"),
]


class Command(BaseCommand):
    help = "Crée (ou complète) l'organisme de démonstration « Caf de la Mayenne (démo) »."

    @transaction.atomic
    def handle(self, *args, **options):
        network = self.organisation(
            slug="branche-famille-demo", name="Branche Famille (démo)", kind="reseau"
        )
        caf = self.organisation(
            slug="caf-mayenne-demo",
            name="Caf de la Mayenne (démo)",
            kind="organisme",
            parent=network,
            departement="53",
            phone="32 30",
            description="Caisse d’allocations familiales de la Mayenne (démonstration).",
        )
        for slug, name, kind, address, postcode, commune, insee, hours in CAF_SITES:
            self.site(caf, slug, name, kind, address, postcode, commune, insee, hours)
        for slug, commune, postcode, insee in RELAYS:
            self.site(
                caf,
                f"france-services-{slug}",
                f"France Services {commune}",
                "france_services",
                "Espace France Services, rue de l'Exemple",
                postcode,
                commune,
                insee,
                FS_HOURS,
            )
        if not caf.closures.exists():
            year = date.today().year
            services.add_closure(
                None,
                caf,
                start_date=date(year, 12, 24),
                end_date=date(year, 12, 24),
                label="Fermeture exceptionnelle de la veille de Noël",
            )
            ascension = next(
                day
                for day, name in workdays.public_holidays("metropole", year + 1).items()
                if "Ascension" in name
            )
            bridge = ascension + timedelta(days=1)  # the Friday after Ascension Thursday
            services.add_closure(
                None, caf, start_date=bridge, end_date=bridge, label="Pont de l'Ascension"
            )

        outsider = self.organisation(
            slug="cpam-moselle-demo",
            name="Cpam de la Moselle (démo)",
            kind="organisme",
            departement="57",
            description="Sans lien avec la Caf de la Mayenne : montre le cloisonnement.",
        )
        self.site(
            outsider,
            "metz",
            "Cpam de la Moselle — accueil de Metz",
            "siege",
            "1 avenue de l'Exemple",
            "57000",
            "Metz",
            "57463",
            weekly(),
        )

        for email, name, role, site_slug in PEOPLE:
            site = caf.sites.get(slug=site_slug) if site_slug else None
            self.person(email, name, caf, role, site)
        self.person("autre@demo.voix.localhost", "Odile Ailleurs", outsider, Role.ADMIN, None)
        self.person("sans-role@demo.voix.localhost", "Simon Sansrôle", None, None, None)
        # Each app may add its own demo data: a `demo.seed(stdout)` function, run in app order.
        for config in apps.get_app_configs():
            if config.name.startswith("voix.") and config.name != "voix.core":
                try:
                    module = importlib.import_module(f"{config.name}.demo")
                except ModuleNotFoundError as missing:
                    if missing.name != f"{config.name}.demo":
                        raise
                    continue
                module.seed(self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"Démo prête : {caf.sites.count()} sites pour {caf}, "
                f"{User.objects.filter(email__endswith='@demo.voix.localhost').count()} comptes "
                f"(mot de passe : {DEMO_PASSWORD})."
            )
        )

    def organisation(self, *, slug, **fields):
        existing = Organisation.objects.filter(slug=slug).first()
        return existing or services.create_organisation(None, slug=slug, **fields)

    def site(self, organisation, slug, name, kind, address, postcode, commune, insee, hours):
        site = organisation.sites.filter(slug=slug).first()
        if site is None:
            site = services.create_site(
                None,
                organisation,
                slug=slug,
                name=name,
                kind=kind,
                address=address,
                postcode=postcode,
                commune=commune,
                insee_code=insee,
                phone="02 43 00 00 00" if organisation.departement == "53" else "03 87 00 00 00",
                accessibility="Accès de plain-pied pour les personnes en fauteuil roulant. "
                "Boucle magnétique à l'accueil.",
                access_info="Stationnement gratuit à proximité.",
            )
        if not site.opening_hours.exists():
            services.set_opening_hours(None, site, hours)
        return site

    def person(self, email, name, organisation, role, site):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = services.create_person(
                None, email=email, full_name=name, password=DEMO_PASSWORD, organisation=organisation
            )
        if (
            role
            and not Membership.objects.filter(
                user=user, organisation=organisation, role=role, site=site
            ).exists()
        ):
            services.add_membership(None, user, organisation, role, site=site)
        return user
