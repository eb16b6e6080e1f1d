"""Field reports of the demo Caf (used by `seed_demo`): three months of reports from the
agents of the siège and the France Services relays, most of them triaged (accepted,
merged duplicates, declined with a reason), a few still new. Idempotent: nothing is added
when the demo Caf already has reports. The random generator is seeded (same data every run).
"""

import random
from datetime import timedelta

from django.utils import timezone

from voix.core.models import Organisation, User

from . import services
from .models import Affected, FieldReport, Urgency

SITUATIONS = [
    (
        "Délais de traitement des dossiers",
        "Plusieurs allocataires reviennent parce que leur dossier de prime d'activité est "
        "en attente depuis plus d'un mois.",
        "Un message d'attente avec un délai indicatif dans l'espace personnel.",
    ),
    (
        "Services en ligne et application",
        "Le téléversement des justificatifs échoue sur téléphone avec les photos prises "
        "directement depuis l'application.",
        "Accepter les photos au format HEIC ou les convertir.",
    ),
    (
        "Courriers et notifications",
        "Le courrier de demande de pièces ne dit pas quelle pièce manque : les personnes "
        "viennent au relais pour le savoir.",
        "Lister la pièce attendue dans le courrier.",
    ),
    (
        "Accueil et orientation",
        "Les personnes venues sans rendez-vous le lundi matin attendent plus d'une heure.",
        "Ouvrir un créneau de rendez-vous supplémentaire le lundi.",
    ),
    (
        "Téléphone et joignabilité",
        "Le serveur vocal coupe l'appel après dix minutes d'attente.",
        "",
    ),
    (
        "Pièces justificatives et démarches",
        "L'attestation de loyer est demandée deux fois pour le même déménagement.",
        "Réutiliser l'attestation déjà transmise.",
    ),
    (
        "Relations avec les partenaires",
        "Le relais n'a pas de contact direct pour les situations urgentes (rupture de droits).",
        "Une ligne ou une adresse dédiée aux conseillers France Services.",
    ),
]
DECLINE_REASONS = [
    "Hors du champ de la relation usager : transmis aux services généraux.",
    "Déjà traité : la correction a été déployée le mois dernier.",
]


def seed(stdout=None):
    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None or FieldReport.objects.filter(organisation=caf).exists():
        return
    demo_people = User.objects.filter(email__endswith="@demo.voix.localhost")
    people = {user.email.split("@")[0]: user for user in demo_people}
    filers = [people[p] for p in ("agent", "manager", "partenaire") if p in people]
    qualite = people.get("qualite")
    if not filers or qualite is None:
        return
    themes = {t.label: t for t in services.themes_for(caf)}
    relays = list(caf.sites.filter(kind="france_services").order_by("name"))
    siege = caf.sites.filter(kind="siege").first()
    rng = random.Random(2026)
    now = timezone.now()
    reports = []
    for index in range(36):
        theme_label, description, suggestion = SITUATIONS[index % len(SITUATIONS)]
        filer = rng.choice(filers)
        site = None
        if services.relay_of(filer) is None:
            site = rng.choice([siege, *relays[:4]]) if siege else None
        affected = rng.choice(Affected.values)
        reports.append(
            services.file_report(
                filer,
                caf,
                description=description,
                theme=themes[theme_label],
                users_affected=affected,
                users_affected_count=rng.randint(5, 120) if affected == Affected.COUNT else None,
                urgency=rng.choice([Urgency.LOW, Urgency.MEDIUM, Urgency.MEDIUM, Urgency.HIGH]),
                suggestion=suggestion,
                site=site,
                now=now - timedelta(days=90 - index * 2.4, hours=rng.randint(0, 6)),
            )
        )
    carriers = {}
    for index, report in enumerate(reports[:-6]):  # the last ones are still to triage
        when = report.created_at + timedelta(days=rng.randint(1, 4))
        carrier = carriers.get(report.theme_id)
        if index % 6 == 5:
            reason = DECLINE_REASONS[index % len(DECLINE_REASONS)]
            services.decline_report(qualite, report, reason=reason, now=when)
        elif carrier is not None and rng.random() < 0.4:
            services.merge_report(qualite, report, into=carrier, now=when)
        else:
            services.accept_report(qualite, report, now=when)
            carriers.setdefault(report.theme_id, report)
    if stdout is not None:
        stdout.write(f"Remontées de terrain : {len(reports)} pour {caf}.")
