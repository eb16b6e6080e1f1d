"""Satisfaction surveys for the demo Caf (used by `seed_demo`, after the other demos).

An open questionnaire « Votre avis sur notre accueil » (the State's standard questions, the
overall satisfaction question and a recommendation question 0–10), its links — a QR code
for the reception of each of the Caf's own sites, a tablet at the siège, the France
Services relays, the website — and the invitation settings. Then a year of answers: every
month (the twelve before this one and this one up to yesterday) a few hundred answers
spread over the sites and channels, with a dip at the rentrée and differences between
sites, about one in eight with a short comment in French (no personal data).

The answers are made in bulk, but each one goes through the same checks and scoring as a
public answer (``services.clean_answers``), so the scored columns are what the answering
page would have stored. Then the surveys indicators are recomputed for the year (the
commitments demo's made-up results for them are replaced) and the last complete quarter
is published again so the public page shows them. Seeded random generator; idempotent
(nothing is added once the questionnaire has answers). About 4,000 answers, a few seconds.
"""

import random
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from voix.core.models import Organisation

from . import indicators, scales, services
from .models import LinkChannel, QuestionKind, Response, Survey, SurveyStatus

TITLE = "Votre avis sur notre accueil"
PER_MONTH = 320  # answers in an ordinary month, all sites and channels together
# Monthly pressure (rentrée, summer): fewer good answers.
SEASON = {1: 0.1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0.1, 7: 0.3, 8: 0.4, 9: 0.7, 10: 0.5, 11: 0.2, 12: 0.1}
# Share of the answers and quality (−: worse) per own site; relays share the rest.
SITES = {
    "laval-siege": (0.40, 0.0),
    "chateau-gontier": (0.14, 0.1),
    "mayenne": (0.14, -0.25),
    "evron-permanence": (0.04, 0.2),
    "craon-permanence": (0.04, 0.0),
}
WEB_SHARE = 0.12  # answers through the website button (no site)
RELAY_SHARE = 0.12  # answers in the France Services relays

COMMENTS = {
    "tres_bien": [
        "Accueil très agréable, la conseillère a pris le temps de tout m'expliquer.",
        "Rendez-vous à l'heure et réponse claire à ma question. Merci !",
        "Personnel souriant et disponible, je suis reparti avec une solution.",
        "Très bonne explication sur mes droits, je ne savais pas que j'y avais droit.",
        "Rapide et efficace, rien à redire.",
        "L'agent m'a aidé à faire ma démarche en ligne, maintenant je sais faire seul.",
        "Merci pour votre patience et votre gentillesse.",
    ],
    "moyen": [
        "Bon accueil mais beaucoup d'attente avant d'être reçu.",
        "On m'a bien renseigné mais je dois revenir avec d'autres pièces.",
        "Les explications étaient correctes, le courrier reçu avant était difficile à comprendre.",
        "Difficile de trouver un rendez-vous rapidement.",
        "Correct, mais la salle d'attente est bruyante et il fait froid.",
        "Le site internet n'est pas simple, heureusement on m'a aidé au guichet.",
    ],
    "pas_bien": [
        "Une heure d'attente sans information, c'est trop long.",
        "Personne ne répond au téléphone, j'ai dû me déplacer.",
        "Je n'ai pas eu de réponse à mon courriel depuis trois semaines.",
        "On m'a donné des informations différentes au téléphone et au guichet.",
        "Je ne comprends toujours pas pourquoi mes droits ont baissé.",
        "Pas de place pour s'asseoir et pas de confidentialité au guichet.",
    ],
}
HELP_CHANNELS = ["guichet", "telephone", "courriel", "internet", "chat", "proche", "association"]
HELP_WEIGHTS = [30, 30, 12, 18, 3, 5, 2]


def ensure_survey(caf) -> Survey:
    """The demo questionnaire, open, with its recommendation question."""
    survey = Survey.objects.filter(organisation=caf, title=TITLE).first()
    if survey is None:
        survey = services.create_survey(None, caf, title=TITLE, standard=True)
        services.save_question(
            None,
            survey,
            kind=QuestionKind.NPS,
            label=scales.NPS_DEFAULT_LABEL,
            code="recommandation",
        )
        # The recommendation comes before the free comment, which stays last.
        last = survey.questions.get(code="recommandation")
        services.move_question(None, last, "up")
    if survey.status != SurveyStatus.OPEN:
        survey = services.set_survey_status(None, survey, SurveyStatus.OPEN)
    return survey


def ensure_links(caf, survey) -> dict:
    """{(site slug or None, channel): link} for the Caf's sites, relays and website."""
    links = {}
    for site in caf.sites.filter(is_active=True).order_by("name"):
        if site.is_relay:
            channels = [LinkChannel.RELAY]
        elif site.slug == "laval-siege":
            channels = [LinkChannel.RECEPTION, LinkChannel.KIOSK]
        else:
            channels = [LinkChannel.RECEPTION]
        for channel in channels:
            links[(site.slug, channel)] = services.ensure_link(
                None, survey, site=site, channel=channel
            )
    links[(None, LinkChannel.WEB)] = services.ensure_link(
        None, survey, site=None, channel=LinkChannel.WEB
    )
    return links


def _pick(rng, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def answers_for(rng: random.Random, quality: float) -> dict:
    """One person's answers (form values), better when *quality* is higher (−1…+1)."""
    good = max(0.2, min(0.9, 0.74 + 0.2 * quality))
    bad = max(0.03, min(0.4, 0.07 - 0.12 * quality))
    feeling = _pick(rng, {"tres_bien": good, "moyen": 1 - good - bad, "pas_bien": bad})
    answers = {"satisfaction": feeling}
    clarity = {"tres_bien": [1, 2, 6, 30, 61], "moyen": [3, 10, 35, 40, 12]}.get(
        feeling, [20, 30, 30, 15, 5]
    )
    if rng.random() < 0.95:
        answers["comprehension"] = str(rng.choices(range(1, 6), weights=clarity)[0])
    if rng.random() < 0.9:
        if rng.random() < 0.5:
            answers["contact_tried"] = [scales.NO_HELP]
        else:
            count = 1 if rng.random() < 0.75 else 2
            answers["contact_tried"] = list(
                dict.fromkeys(rng.choices(HELP_CHANNELS, weights=HELP_WEIGHTS, k=count))
            )
            reached = rng.random() < {"tres_bien": 0.93, "moyen": 0.8, "pas_bien": 0.55}[feeling]
            answers["contact_reached"] = "oui" if reached else "non"
            if reached:
                help_weights = {"tres_bien": [1, 2, 7, 40, 50], "moyen": [4, 10, 40, 36, 10]}
                answers["contact_satisfaction"] = str(
                    rng.choices(
                        range(1, 6), weights=help_weights.get(feeling, [25, 30, 30, 10, 5])
                    )[0]
                )
    overall = {"tres_bien": [1, 1, 3, 31, 64], "moyen": [2, 8, 30, 48, 12]}.get(
        feeling, [40, 35, 17, 6, 2]
    )
    answers[scales.OVERALL_CODE] = str(rng.choices(range(1, 6), weights=overall)[0])
    if rng.random() < 0.8:
        centre = {"tres_bien": 9, "moyen": 7, "pas_bien": 3}[feeling]
        answers["recommandation"] = str(max(0, min(10, round(rng.gauss(centre, 1.5)))))
    if rng.random() < 0.13:
        answers["verbatim"] = rng.choice(COMMENTS[feeling])
    return answers


def _moment(rng, day: date, tz) -> datetime:
    minutes = rng.randint(8 * 60 + 30, 17 * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)


def generate_responses(caf, survey, links, *, first: date, last: date, per_month: int, rng):
    """Unsaved Response rows from *first* to *last* (days), scored like public answers."""
    questions = list(survey.questions.all())
    tz = timezone.get_current_timezone()
    sites = {site.slug: site for site in caf.sites.all()}
    relay_links = [link for (slug, channel), link in links.items() if channel == LinkChannel.RELAY]
    rows = []
    month = first.replace(day=1)
    while month <= last:
        following = (month + timedelta(days=32)).replace(day=1)
        days = [
            month + timedelta(days=n)
            for n in range((following - month).days)
            if first <= month + timedelta(days=n) <= last
        ]
        share_of_month = len(days) / (following - month).days
        weekdays = [d for d in days if d.weekday() < 5] or days
        pressure = SEASON[month.month]
        count = round(per_month * share_of_month * (1 + 0.3 * pressure) * rng.uniform(0.85, 1.15))
        for _ in range(count):
            roll = rng.random()
            if roll < WEB_SHARE:
                link, quality = links[(None, LinkChannel.WEB)], -0.1
            elif roll < WEB_SHARE + RELAY_SHARE and relay_links:
                link, quality = rng.choice(relay_links), 0.15
            else:
                slug = _pick(rng, {s: share for s, (share, _q) in SITES.items() if s in sites})
                quality = SITES[slug][1]
                kiosk = links.get((slug, LinkChannel.KIOSK))
                use_kiosk = kiosk is not None and rng.random() < 0.45
                link = kiosk if use_kiosk else links[(slug, LinkChannel.RECEPTION)]
            stored, scored = services.clean_answers(questions, answers_for(rng, quality - pressure))
            rows.append(
                Response(
                    survey=survey,
                    organisation=caf,
                    link=link,
                    site_id=link.site_id,
                    channel=link.channel,
                    submitted_at=_moment(rng, rng.choice(weekdays), tz),
                    nonce=f"demo-{rng.getrandbits(96):024x}",
                    answers=stored,
                    **scored,
                )
            )
        month = following
    return rows


def recompute_year(caf, first: date, today: date):
    """The surveys indicators month by month, newest first (only the latest month's
    results may raise a below-target alert)."""
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator, Measurement

    # The commitments demo gave these indicators made-up results: the answers replace them.
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
    total = measures.RecomputeReport()
    for indicator in Indicator.objects.filter(
        organisation__isnull=True, source__in=list(indicators.SOURCES)
    ).order_by("code"):
        report = measures.recompute(indicator, caf, "month", list(reversed(starts)))
        total.created += report.created
        total.updated += report.updated
    return total


def publish_last_quarter(caf, today: date) -> str:
    """Publish the last complete quarter again, with the surveys results in it."""
    from voix.commitments import periods, publication

    quarter = periods.period_start(
        "quarter", periods.period_start("quarter", today) - timedelta(days=1)
    )
    draft = publication.prepare_publication(None, caf, "quarter", quarter)
    publication.publish(None, draft)
    return periods.label("quarter", quarter)


def seed(stdout, *, per_month: int | None = None) -> None:
    """Demo hook called by `seed_demo` (idempotent)."""
    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None:
        return
    with transaction.atomic():
        survey = ensure_survey(caf)
        links = ensure_links(caf, survey)
        current = services.settings_for(caf)
        if current.invitation_survey_id is None:
            services.save_settings(None, caf, invitation_survey=survey)
        if Response.objects.filter(survey=survey).exists():
            return
        today = timezone.localdate()
        first = date(today.year - 1, today.month, 1)
        last = today - timedelta(days=1)
        rng = random.Random("voix-demo-enquetes")
        rows = generate_responses(
            caf,
            survey,
            links,
            first=first,
            last=last,
            per_month=per_month or PER_MONTH,
            rng=rng,
        )
        Response.objects.bulk_create(rows, batch_size=1000)
        report = recompute_year(caf, first, today)
        published = publish_last_quarter(caf, today)
    stdout.write(
        f"Enquêtes de démonstration : « {survey.title} », {len(links)} liens, {len(rows)} "
        f"réponses du {first:%d/%m/%Y} au {last:%d/%m/%Y} ; indicateurs "
        f"recalculés : {report.created} créé(s), {report.updated} modifié(s) ; publié à "
        f"nouveau : {published}.\n"
    )
