"""Demo complaints of the « Caf de la Mayenne (démo) » (called by `manage.py seed_demo`).

About 150 cases over the past year, all through the services with the time injected: the
themes and root causes, intake by every channel (the public form, e-mail, letters, phone,
the counter, the France Services relay), assignment, tagging, a few pauses for missing
documents, answers mostly in time and some late, closings, the requesters' satisfaction,
a few mediations with their decisions, suggestions answered and compliments. People are
fictitious (addresses @example.org); no message is sent. Idempotent: nothing is added
once the Caf has complaints. The complaints' indicators are then computed for the year.
"""

import random
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from voix.core.models import RELAY_KINDS, Organisation, User

from . import services
from .models import AnswerVia, Complaint, Decision, Intake, Kind, Status

SLUG = "caf-mayenne-demo"
COUNT = 150
SEED = "voix-demo-reclamations"

THEMES = [
    "Délais de traitement",
    "Paiement des prestations",
    "Accueil et joignabilité",
    "Information et courriers",
    "Calcul des droits",
    "Indus et recouvrement",
    "Démarches en ligne",
]
CAUSES = [
    "Pièce justificative manquante",
    "Erreur de saisie",
    "Stock de dossiers en retard",
    "Information incomplète donnée",
    "Changement de situation non pris en compte",
    "Anomalie informatique",
    "Courrier peu clair",
]
SUBJECTS = {
    "Délais de traitement": [
        "Dossier en attente depuis plusieurs semaines",
        "Toujours pas de réponse à ma demande d'aide au logement",
    ],
    "Paiement des prestations": [
        "Allocation non versée ce mois-ci",
        "Montant versé inférieur à celui annoncé",
    ],
    "Accueil et joignabilité": [
        "Impossible de joindre un conseiller par téléphone",
        "Attente trop longue à l'accueil",
    ],
    "Information et courriers": [
        "Courrier incompréhensible",
        "Informations contradictoires reçues",
    ],
    "Calcul des droits": [
        "Prime d'activité mal calculée",
        "Mes ressources n'ont pas été mises à jour",
    ],
    "Indus et recouvrement": [
        "Je conteste un trop-perçu",
        "Retenue sur mes prestations sans explication",
    ],
    "Démarches en ligne": [
        "Mon espace en ligne affiche une erreur",
        "Impossible de déposer mes justificatifs en ligne",
    ],
}
SUGGESTIONS = [
    "Proposer des rendez-vous le samedi matin",
    "Envoyer un SMS quand le dossier est complet",
    "Ajouter un plan d'accès sur les courriers",
]
COMPLIMENTS = [
    "Merci à la conseillère de l'accueil de Laval",
    "Rendez-vous très utile, merci",
]
FIRST_NAMES = ["Camille", "Dominique", "Alex", "Claude", "Sacha", "Morgan", "Lou", "Charlie"]
LAST_NAMES = ["Martin", "Durand", "Lefèvre", "Moreau", "Fournier", "Girard", "Bonnet", "Roux"]
# intake, weight
INTAKES = [
    (Intake.FORM, 45),
    (Intake.EMAIL, 15),
    (Intake.LETTER, 12),
    (Intake.PHONE, 12),
    (Intake.COUNTER, 8),
    (Intake.RELAY, 8),
]
PEOPLE = {
    "agent": "agent@demo.voix.localhost",
    "manager": "manager@demo.voix.localhost",
    "qualite": "qualite@demo.voix.localhost",
    "mediateur": "mediateur@demo.voix.localhost",
    "partenaire": "partenaire@demo.voix.localhost",
}
ANSWERS = {
    Kind.COMPLAINT: (
        "Nous avons réexaminé votre dossier. {detail} Nous vous prions de nous excuser pour "
        "la gêne occasionnée."
    ),
    Kind.SUGGESTION: (
        "Merci pour votre suggestion : elle a été transmise au comité des usagers, qui "
        "l'étudiera lors de sa prochaine réunion."
    ),
}
DETAILS = [
    "Votre dossier est désormais complet et le versement interviendra le 5 du mois.",
    "Le calcul de vos droits a été corrigé à partir de vos dernières ressources.",
    "Le montant réclamé est confirmé : il résulte d'un changement de situation déclaré tard.",
    "Un conseiller vous rappellera pour convenir d'un rendez-vous.",
]


def ensure_tags(caf, actor):
    themes = {t.label: t for t in caf.complaint_themes.all()}
    for label in THEMES:
        if label not in themes:
            themes[label] = services.save_theme(actor, caf, label=label)
    causes = {c.label: c for c in caf.root_causes.all()}
    for label in CAUSES:
        if label not in causes:
            causes[label] = services.save_root_cause(actor, caf, label=label)
    return themes, causes


def _moment(rng, day: date) -> datetime:
    hour = rng.choice([8, 9, 10, 11, 14, 15, 16, 18, 21])
    return timezone.make_aware(datetime.combine(day, time(hour, rng.randrange(60))))


def _person(rng, n):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    slug = f"{first}.{last}".lower().replace("è", "e").replace("é", "e")
    return f"{first} {last}", f"{slug}.{n}@example.org"


def _pick_intake(rng):
    return rng.choices([i for i, _ in INTAKES], weights=[w for _, w in INTAKES])[0]


def _file_one(caf, rng, n, received, sites, relay, people, themes):
    kind = rng.choices([Kind.COMPLAINT, Kind.SUGGESTION, Kind.COMPLIMENT], weights=[85, 9, 6])[0]
    intake = _pick_intake(rng) if relay else rng.choice([Intake.FORM, Intake.EMAIL])
    if intake == Intake.RELAY and relay is None:
        intake = Intake.FORM
    theme = rng.choice(THEMES)
    if kind == Kind.COMPLAINT:
        subject = rng.choice(SUBJECTS[theme])
    elif kind == Kind.SUGGESTION:
        subject = rng.choice(SUGGESTIONS)
    else:
        subject = rng.choice(COMPLIMENTS)
    name, email = _person(rng, n)
    by_post = intake == Intake.LETTER or rng.random() < 0.08
    actor = {
        Intake.FORM: None,
        Intake.RELAY: people["partenaire"],
    }.get(intake, people["agent"])
    c = services.file_complaint(
        actor,
        caf,
        kind=kind,
        intake=intake,
        subject=subject,
        body=(
            f"{subject}. Texte de démonstration : aucune donnée réelle. Dossier fictif "
            f"n° {n}, pour montrer le traitement d'une {kind}."
        ),
        full_name=name,
        email="" if by_post else email,
        phone=f"06 00 00 {n // 100:02d} {n % 100:02d}" if rng.random() < 0.3 else "",
        postal_address=f"{n} rue de l'Exemple\n53000 Laval" if by_post else "",
        site=rng.choice(sites),
        relay=relay if intake == Intake.RELAY else None,
        consent=True,
        now=received,
    )
    return c, theme


def _process(c, theme, rng, now, people, themes, causes):
    """Take one case through its life, each step at its own (past) time."""
    handler = rng.choice([people["agent"], people["manager"], people["qualite"]])
    qualite = people["qualite"]
    at = c.received_at
    if c.status == Status.CLOSED:  # a compliment
        return
    at += timedelta(hours=rng.randrange(2, 48))
    if at >= now:
        return
    c = services.assign_complaint(people["manager"], c, handler)
    if c.status == Status.RECEIVED:  # by post: the acknowledgement letter, mostly in time
        at += timedelta(days=rng.choice([1, 2, 3, 5, 8, 16]))
        if at >= now:
            return
        c = services.acknowledge_complaint(handler, c, now=at)
        if c.status == Status.CLOSED:
            return
    services.tag_complaint(
        qualite,
        c,
        theme=themes[theme],
        root_causes=rng.sample(list(causes.values()), rng.choice([1, 1, 2])),
    )
    if rng.random() < 0.12:
        at += timedelta(days=rng.randrange(1, 6))
        if at >= now:
            return
        c = services.pause_complaint(handler, c, note="Justificatif demandé", now=at)
        at += timedelta(days=rng.randrange(3, 12))
        if at >= now:
            return
        c = services.resume_complaint(handler, c, now=at)
    # Most answers within the 21 working days (about 29 calendar days); some late.
    delay = (
        rng.choice([3, 6, 9, 12, 15, 19, 24, 27]) if rng.random() < 0.82 else rng.randrange(32, 55)
    )
    at = max(at, c.received_at + timedelta(days=delay)) + timedelta(hours=1)
    if at >= now:
        return
    text = ANSWERS[c.kind].format(detail=rng.choice(DETAILS))
    via = AnswerVia.EMAIL if c.email else AnswerVia.LETTER
    c = services.send_answer(handler, c, text=text, via=via, now=at)
    if rng.random() < 0.45 and at + timedelta(days=2) < now:
        services.record_satisfaction(
            c, rng.choices([1, 2, 3, 4], weights=[2, 2, 3, 4])[0], now=at + timedelta(days=2)
        )
    if c.kind == Kind.COMPLAINT and rng.random() < 0.06:
        _mediate(c, at, rng, now, people)
        return
    at += timedelta(days=rng.randrange(1, 10))
    if at < now and rng.random() < 0.85:
        services.close_complaint(handler, c, now=at)


def _mediate(c, answered_at, rng, now, people):
    at = answered_at + timedelta(days=rng.randrange(3, 40))
    if at >= now:
        return
    m = services.escalate_to_mediation(
        None, c, reason="Je ne suis pas d'accord avec la réponse reçue (démonstration).", now=at
    )
    at += timedelta(days=rng.randrange(1, 5))
    if at >= now:
        return
    m = services.take_mediation(people["mediateur"], m)
    at += timedelta(days=rng.randrange(10, 60))
    if at >= now:
        return
    services.decide_mediation(
        people["mediateur"],
        m,
        decision=rng.choice([Decision.UPHELD, Decision.UPHELD, Decision.PARTIAL, Decision.REVISED]),
        text="Après réexamen du dossier et échange avec le service, le médiateur décide "
        "ainsi (texte de démonstration).",
        now=at,
    )


def _recompute_indicators(caf, first: date, today: date) -> None:
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator, Measurement

    from . import indicators

    # The commitments demo gave every indicator made-up results: those of the indicators
    # computed here are replaced by the computation.
    Measurement.objects.filter(
        organisation=caf,
        indicator__source__in=list(indicators.SOURCES),
        provenance="imported",
        source_ref="démonstration",
    ).delete()
    starts, month = [], periods.period_start("month", first)
    while month <= today:
        starts.append(month)
        month = periods.period_end("month", month)
    for indicator in Indicator.objects.filter(
        organisation__isnull=True, source__startswith="complaints."
    ):
        measures.recompute(indicator, caf, "month", starts)


def seed(stdout, *, count: int = COUNT) -> None:
    """Demo hook called by `seed_demo` (idempotent)."""
    caf = Organisation.objects.filter(slug=SLUG).first()
    if caf is None:
        return
    people = {key: User.objects.filter(email=email).first() for key, email in PEOPLE.items()}
    if any(person is None for person in people.values()):
        return
    themes, causes = ensure_tags(caf, people["qualite"])
    if Complaint.objects.filter(organisation=caf).exists():
        return
    sites = list(caf.sites.filter(is_active=True).exclude(kind__in=RELAY_KINDS))
    relay = caf.sites.filter(kind__in=RELAY_KINDS, memberships__user=people["partenaire"]).first()
    if not sites:
        return
    rng = random.Random(SEED)
    now = timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=365)
    days = sorted(first + timedelta(days=rng.randrange(365)) for _ in range(count))
    mediations = 0
    with services.without_messages():
        for n, day in enumerate(days, start=1):
            received = _moment(rng, day)
            if received >= now:
                received = now - timedelta(hours=1)
            c, theme = _file_one(caf, rng, n, received, sites, relay, people, themes)
            _process(c, theme, rng, now, people, themes, causes)
    cases = Complaint.objects.filter(organisation=caf)
    mediations = cases.filter(mediation__isnull=False).count()
    _recompute_indicators(caf, first, today)
    stdout.write(
        f"Réclamations de démonstration : {cases.count()} dossiers depuis le "
        f"{first:%d/%m/%Y} ({cases.filter(answered_at__isnull=False).count()} répondus, "
        f"{mediations} médiations), {len(themes)} thèmes, {len(causes)} causes.\n"
    )
