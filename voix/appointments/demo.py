"""Appointments for the demo Caf (used by `seed_demo`, after the reception demo).

Seven advisors at the Caf's three main sites (Arthur Agent, the demo agent, and six more),
three reasons — « Question sur mon dossier » (20 min, every mode, online), « Rendez-vous
des droits » (60 min, on site or by video, booked by the relays and the agents) and
« Accompagnement après une séparation » (45 min) — with their weekly opening slots; the
demo sites get their coordinates from the demo gazetteer (core/data/communes-demo.csv).

Then the last three weeks are replayed day by day through the ordinary services, each
call with ``now`` set to its moment: each morning the availability snapshot (what
`snapshot_availability` does), then the day's bookings — online by the public, by the
France Services relays with a note on the situation, by the agents — each on one of the
first free slots from the day the person has in mind (soon, or up to three weeks later).
So the coming weeks are partly booked; past appointments get realistic outcomes (about
89 % honoured, 11 % no-shows) and about 7 % of the bookings are cancelled. Finally the
appointments' indicators are computed for this month (and last month when the three weeks
cover it wholly).

No message is sent for these fictitious people: the notification hook is switched off
while the demo books (so are repeated calendar reads, see _demo_mode). Seeded random
generator; idempotent (nothing is booked again once the demo Caf has appointments). About
110 bookings, a few seconds.
"""

import io
import random
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from voix.core import services as core_services
from voix.core.models import Commune, Membership, Organisation, Role, User

from . import services
from .management.commands.snapshot_availability import take_snapshots
from .models import Appointment, Audience, Channel, Mode, OpeningSlot, Reason, Status

COMMUNES_FILE = Path(__file__).resolve().parent.parent / "core" / "data" / "communes-demo.csv"
SITES = ["laval-siege", "chateau-gontier", "mayenne"]
MON, TUE, WED, THU, FRI = range(5)
MORNING, AFTERNOON = (time(9, 0), time(12, 0)), (time(13, 30), time(16, 30))
LATE = (time(14, 0), time(16, 30))
REMOTE = {"on_site": False, "phone": True, "video": True}

# e-mail, name, site, [(weekdays, (start, end), modes)]
ADVISORS = [
    (
        "agent@demo.voix.localhost",
        "Arthur Agent",
        "laval-siege",
        [((MON, TUE, WED, THU, FRI), MORNING, {})],
    ),
    (
        "claire.dubois@demo.voix.localhost",
        "Claire Dubois",
        "laval-siege",
        [((MON, TUE, WED, FRI), AFTERNOON, {}), ((TUE, THU), MORNING, {})],
    ),
    (
        "karim.benali@demo.voix.localhost",
        "Karim Benali",
        "laval-siege",
        [((MON, TUE, THU, FRI), MORNING, {}), ((MON, TUE), LATE, REMOTE)],
    ),
    (
        "sophie.lemoine@demo.voix.localhost",
        "Sophie Lemoine",
        "laval-siege",
        [((WED, FRI), MORNING, {}), ((WED,), AFTERNOON, REMOTE)],
    ),
    (
        "julien.moreau@demo.voix.localhost",
        "Julien Moreau",
        "chateau-gontier",
        [((MON, TUE), MORNING, {}), ((MON, TUE, THU), LATE, {})],
    ),
    (
        "nadia.ferreira@demo.voix.localhost",
        "Nadia Ferreira",
        "chateau-gontier",
        [((THU, FRI), MORNING, {})],
    ),
    (
        "thomas.leroy@demo.voix.localhost",
        "Thomas Leroy",
        "mayenne",
        [((MON, WED, FRI), MORNING, {}), ((TUE,), LATE, {})],
    ),
]

REASONS = [
    dict(
        label="Question sur mon dossier",
        description=(
            "Une question sur vos droits, un paiement ou un courrier : un conseiller vous "
            "répond. Ayez votre numéro d'allocataire sous la main."
        ),
        duration_minutes=20,
        on_site=True,
        phone=True,
        video=True,
        audience=Audience.PUBLIC,
        min_notice_hours=2,
        max_horizon_days=30,
        position=1,
        sites=["laval-siege", "chateau-gontier", "mayenne"],
    ),
    dict(
        label="Rendez-vous des droits",
        description=(
            "Un examen complet de vos droits (prestations familiales, logement, solidarité) "
            "avec un conseiller, sur orientation d'un relais France Services ou d'un agent. "
            "Apportez votre dernier avis d'imposition et vos justificatifs de ressources."
        ),
        duration_minutes=60,
        on_site=True,
        phone=False,
        video=True,
        audience=Audience.PARTNER,
        min_notice_hours=24,
        max_horizon_days=45,
        position=2,
        sites=["laval-siege", "mayenne"],
    ),
    dict(
        label="Accompagnement après une séparation",
        description=(
            "Pension alimentaire, résidence des enfants, logement : faire le point sur vos "
            "droits et vos démarches après une séparation."
        ),
        duration_minutes=45,
        on_site=True,
        phone=True,
        video=False,
        audience=Audience.PUBLIC,
        min_notice_hours=24,
        max_horizon_days=30,
        position=3,
        sites=["laval-siege", "chateau-gontier"],
    ),
]

RELAYS = [
    "france-services-evron",
    "france-services-ernee",
    "france-services-craon",
    "france-services-gorron",
    "france-services-meslay-du-maine",
]
REFERRAL_NOTES = [
    "Séparation récente, revenus en baisse : vérifier l'aide au logement et l'ASF.",
    "Perte d'emploi en début de mois, pas encore de droits ouverts au RSA.",
    "Naissance attendue en juin, ne sait pas quelles aides demander.",
    "Personne peu à l'aise avec le numérique, courrier de trop-perçu non compris.",
    "Jeune de 24 ans, premier logement autonome, demande d'aide au logement à accompagner.",
    "Changement de situation non déclaré depuis trois mois, inquiète d'un rappel.",
    "Parent isolé, pension alimentaire non versée depuis deux mois.",
    "Retour en France après deux ans à l'étranger, dossier à réactiver.",
]
USER_NOTES = [
    "",
    "",
    "",
    "Je travaille le matin, l'après-midi me convient mieux.",
    "J'ai reçu un courrier que je ne comprends pas.",
    "Besoin d'un interprète en arabe si possible.",
]
FIRST_NAMES = [
    "Camille",
    "Léa",
    "Manon",
    "Inès",
    "Chloé",
    "Sarah",
    "Emma",
    "Yasmine",
    "Julie",
    "Océane",
    "Lucas",
    "Hugo",
    "Nathan",
    "Mehdi",
    "Louis",
    "Enzo",
    "Kevin",
    "Thomas",
    "Rayan",
    "Maxime",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Michel",
    "Garcia",
    "Roux",
    "Fournier",
    "Girard",
    "Bonnet",
    "Mercier",
    "Diallo",
    "Haddad",
    "Nguyen",
]
# Booking channel weights on a working day; reasons per channel; modes.
CHANNELS = [(Channel.PUBLIC, 50), (Channel.PARTNER, 20), (Channel.AGENT, 30)]
REASONS_BY_CHANNEL = {
    Channel.PUBLIC: [("Question sur mon dossier", 75), ("Accompagnement après une séparation", 25)],
    Channel.PARTNER: [("Rendez-vous des droits", 70), ("Question sur mon dossier", 30)],
    Channel.AGENT: [
        ("Question sur mon dossier", 50),
        ("Rendez-vous des droits", 25),
        ("Accompagnement après une séparation", 25),
    ],
}
MODE_WEIGHTS = {Mode.ON_SITE: 60, Mode.PHONE: 28, Mode.VIDEO: 12}
NO_SHOW = {Mode.ON_SITE: 0.10, Mode.PHONE: 0.09, Mode.VIDEO: 0.16}
CANCELLED = 0.07
HISTORY_DAYS = 21
LEAD_DAYS = [0, 1, 1, 2, 3, 4, 6, 8, 11, 15, 20]


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


# ----- configuration ---------------------------------------------------------------------


def load_gazetteer(caf) -> int:
    """The demo communes (if missing) and the coordinates of the demo sites that have none;
    returns the number of sites placed."""
    if COMMUNES_FILE.exists():
        wanted = set(caf.sites.values_list("insee_code", flat=True))
        if Commune.objects.filter(insee_code__in=wanted).count() < len(wanted):
            call_command("load_communes", str(COMMUNES_FILE), stdout=io.StringIO())
    places = {
        c.insee_code: c
        for c in Commune.objects.filter(insee_code__in=caf.sites.values("insee_code"))
    }
    placed = 0
    for site in caf.sites.filter(latitude__isnull=True).order_by("pk"):
        commune = places.get(site.insee_code)
        if commune is not None:
            core_services.update_site(
                None, site, latitude=commune.latitude, longitude=commune.longitude
            )
            placed += 1
    return placed


def ensure_advisors(caf, sites, since: date) -> list[User]:
    """The advisors, their agent role at their site and their weekly opening slots."""
    from voix.core.management.commands.seed_demo import DEMO_PASSWORD

    advisors = []
    for email, name, slug, pattern in ADVISORS:
        site = sites[slug]
        user = User.objects.filter(email=email).first()
        if user is None:
            user = core_services.create_person(
                None, email=email, full_name=name, password=DEMO_PASSWORD, organisation=caf
            )
        if not Membership.objects.filter(
            user=user, organisation=caf, role__in=services.ADVISOR_ROLES
        ).exists():
            core_services.add_membership(None, user, caf, Role.AGENT, site=site)
        if not OpeningSlot.objects.filter(advisor=user, site=site).exists():
            for weekdays, (starts, ends), modes in pattern:
                for weekday in weekdays:
                    services.save_opening_slot(
                        None,
                        user,
                        site,
                        weekday=weekday,
                        starts=starts,
                        ends=ends,
                        valid_from=since,
                        **{"on_site": True, "phone": True, "video": True, **modes},
                    )
        advisors.append(user)
    return advisors


def ensure_reasons(caf, sites) -> dict[str, Reason]:
    reasons = {}
    for fields in REASONS:
        fields = dict(fields)
        reason_sites = [sites[slug] for slug in fields.pop("sites")]
        reason = Reason.objects.filter(organisation=caf, label=fields["label"]).first()
        if reason is None:
            reason = services.save_reason(None, caf, sites=reason_sites, **fields)
        reasons[reason.label] = reason
    return reasons


# ----- history -----------------------------------------------------------------------------


def _person(rng):
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    plain = f"{first}.{last}".lower().translate(str.maketrans("éèëï", "eeei"))
    phone = "0" + rng.choice("67") + "".join(str(rng.randint(0, 9)) for _ in range(8))
    return f"{first} {last}", phone, f"{plain}@example.org"


def _book_one(rng, moment, caf, reasons, sites, relays, partners, agents) -> Appointment | None:
    """One booking made at *moment* on one of the first free slots, or None."""
    weekend = moment.weekday() >= 5
    channel = Channel.PUBLIC if weekend else _weighted(rng, CHANNELS)
    reason = reasons[_weighted(rng, REASONS_BY_CHANNEL[channel])]
    site_ids = {s.pk for s in reason.sites.all()}
    site = rng.choice([s for s in sites.values() if s.pk in site_ids])
    if sites["laval-siege"].pk in site_ids and rng.random() < 0.4:
        site = sites["laval-siege"]  # the siège receives the most
    mode = _weighted(rng, [(m, w) for m, w in MODE_WEIGHTS.items() if m in reason.modes()])
    # People take one of the first free slots from the day they have in mind: soon, or in
    # a week or three (looking at four days only keeps the demo quick).
    wanted = timezone.localdate(moment) + timedelta(days=rng.choice(LEAD_DAYS))
    slots = services.available_slots(
        reason, site, mode=mode, channel=channel, now=moment, start=wanted, days=4, limit=8
    )
    if not slots:
        return None
    slot = rng.choice(slots)
    full_name, phone, email = _person(rng)
    relay, actor, note = None, None, ""
    if channel == Channel.PARTNER:
        relay = rng.choice(relays)
        actor = partners.get(relay.pk)
        note = rng.choice(REFERRAL_NOTES)
    elif channel == Channel.AGENT:
        actor = rng.choice(agents)
    try:
        return services.book(
            actor,
            reason,
            site=site,
            mode=mode,
            starts_at=slot.starts_at,
            channel=channel,
            full_name=full_name,
            phone=phone,
            email=email if channel != Channel.AGENT or rng.random() < 0.5 else "",
            consent=True,
            relay=relay,
            referral_note=note,
            note=rng.choice(USER_NOTES) if channel == Channel.PUBLIC else "",
            now=moment,
        )
    except ValidationError:
        return None


def replay_history(caf, reasons, sites, advisors, *, first: date, now: datetime, rng) -> int:
    """Snapshots and bookings of every day from *first* to today, then the outcomes."""
    tz = timezone.get_current_timezone()
    today = timezone.localdate(now)
    relays = [s for s in caf.sites.filter(slug__in=RELAYS).order_by("slug")]
    partners = {
        m.site_id: m.user
        for m in Membership.objects.filter(
            organisation=caf, role=Role.PARTENAIRE, site__in=relays
        ).select_related("user")
    }
    booked = []
    day = first
    while day <= today:
        morning = datetime.combine(day, time(7, 0), tzinfo=tz)
        if morning <= now:
            take_snapshots(now=morning, organisation=caf)
        count = rng.randint(0, 1) if day.weekday() >= 5 else rng.randint(5, 8)
        for _ in range(count):
            moment = datetime.combine(day, time(8, 30), tzinfo=tz) + timedelta(
                minutes=rng.randint(0, 9 * 60)
            )
            if moment > now:
                continue
            appointment = _book_one(rng, moment, caf, reasons, sites, relays, partners, advisors)
            if appointment is not None:
                booked.append(appointment)
        day += timedelta(days=1)
    for appointment in booked:
        if rng.random() < CANCELLED:
            services.cancel(
                None, appointment, reason_text=rng.choice(["Empêchement", "Enfant malade"])
            )
        elif appointment.starts_at < now:
            absent = rng.random() < NO_SHOW[appointment.mode]
            services.set_status(None, appointment, Status.NO_SHOW if absent else Status.HONOURED)
    return len(booked)


def _recompute_indicators(caf, first: date, today: date) -> None:
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator

    # Months wholly replayed, and the running one (a month begun before the demo's first
    # day keeps the yearly demo results of the commitments app).
    running = periods.period_start("month", today)
    first_month = periods.period_start("month", first)
    starts = sorted({running} | ({first_month} if first_month >= first else set()))
    for indicator in Indicator.objects.filter(
        organisation__isnull=True, source__startswith="appointments."
    ):
        measures.recompute(indicator, caf, "month", starts)


def seed(stdout) -> None:
    """Demo hook called by `seed_demo` (idempotent)."""
    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None:
        return
    sites = {s.slug: s for s in caf.sites.filter(slug__in=SITES)}
    if len(sites) != len(SITES):
        return
    now = timezone.now()
    today = timezone.localdate(now)
    first = today - timedelta(days=HISTORY_DAYS)
    placed = load_gazetteer(caf)
    services.ensure_settings(caf)
    with services.without_messages():
        advisors = ensure_advisors(caf, sites, since=first - timedelta(days=30))
        reasons = ensure_reasons(caf, sites)
        if Appointment.objects.filter(organisation=caf).exists():
            return
        rng = random.Random("voix-demo-rendez-vous")
        count = replay_history(caf, reasons, sites, advisors, first=first, now=now, rng=rng)
    _recompute_indicators(caf, first, today)
    stdout.write(
        f"Rendez-vous de démonstration : {len(advisors)} conseillers, {len(reasons)} motifs, "
        f"{count} réservations depuis le {first:%d/%m/%Y}"
        + (f", {placed} sites placés sur la carte" if placed else "")
        + ".\n"
    )
