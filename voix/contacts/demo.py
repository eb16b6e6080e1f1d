"""A year of contacts and calls for the demo Caf (used by `seed_demo`, after commitments).

The reasons taxonomy of a Caf, two teams, the default clock policies, then a year of
activity ending yesterday — every channel, and the telephony call log: about 160 contacts
and 320 calls per open day — with Monday peaks, the September rush, the summer dip,
nothing on public holidays and closures. Some answers are late, some contacts go back to
the requester, and a stock is still open today. The random generator is seeded (same
data every run); external ids make it idempotent.

Written in bulk (bulk_create, then clocks.apply_deadlines_bulk and rollups.rebuild, as an
import would), then the contact indicators are recomputed for the year through the
commitments registry so that the pilotage pages show computed values.
"""

from datetime import date, datetime, time, timedelta

import numpy as np
from django.utils import timezone

from voix.core import workdays
from voix.core.models import Organisation, User

from . import clocks, indicators, rollups, services
from .models import Call, CallOutcome, Channel, Contact, Outcome, Reason, Status

SOURCE = "démo"
CALL_SOURCE = "démo-téléphonie"

# Theme code, label, [(reason code, label, weight, seasonal mass)].
TAXONOMY = [
    (
        "prestations-familiales",
        "Prestations familiales",
        [
            ("allocations-familiales", "Allocations familiales", 6, False),
            ("complement-familial", "Complément familial", 2, False),
            ("garde-enfant", "Garde d'enfant (Paje, complément mode de garde)", 3, False),
        ],
    ),
    (
        "logement",
        "Logement",
        [
            ("aide-logement", "Aide au logement (APL, ALF, ALS)", 8, False),
            ("quittance-loyer", "Quittance de loyer", 0, True),
            ("demenagement", "Déménagement", 3, False),
        ],
    ),
    (
        "solidarite",
        "Solidarité et insertion",
        [
            ("rsa", "Revenu de solidarité active (RSA)", 7, False),
            ("prime-activite", "Prime d'activité", 8, False),
            ("aah", "Allocation aux adultes handicapés (AAH)", 3, False),
        ],
    ),
    (
        "vie-familiale",
        "Événements de la vie familiale",
        [
            ("naissance", "Naissance ou adoption", 3, False),
            ("separation", "Séparation", 3, False),
        ],
    ),
    (
        "paiements",
        "Paiements",
        [
            ("date-paiement", "Date ou montant d'un paiement", 6, False),
            ("indu", "Indu et remboursement", 4, False),
        ],
    ),
    (
        "dossier",
        "Dossier",
        [
            ("attestation", "Attestation de paiement ou de quotient familial", 5, False),
            ("pieces-justificatives", "Pièces justificatives du dossier", 5, False),
            ("changement-situation", "Changement de situation", 4, False),
        ],
    ),
]

# Monthly pressure on the service (same shape as the commitments demo): 1 = the rush.
SEASON = {1: 0.2, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0.2, 7: 0.6, 8: 0.8, 9: 1, 10: 0.8, 11: 0.3, 12: 0.2}
# Volume per month (summer dip, September rush) and per weekday (Monday peak).
MONTH_VOLUME = {
    1: 1.05,
    2: 0.95,
    3: 1.0,
    4: 0.95,
    5: 0.85,
    6: 0.95,
    7: 0.75,
    8: 0.6,
    9: 1.4,
    10: 1.2,
    11: 1.0,
    12: 0.85,
}
WEEKDAY_VOLUME = [1.4, 1.05, 0.95, 0.85, 0.8]

# Channel: contacts per open day across the Caf, and their share per site slug
# ("*relais*": spread over the France Services).
CHANNELS = {
    Channel.WALK_IN: (32, {"laval-siege": 0.5, "chateau-gontier": 0.2, "mayenne": 0.2,
                           "evron-permanence": 0.05, "craon-permanence": 0.05}),
    Channel.APPOINTMENT: (12, {"laval-siege": 0.6, "chateau-gontier": 0.2, "mayenne": 0.2}),
    Channel.PHONE: (38, {"laval-siege": 1.0}),
    Channel.EMAIL: (25, {"laval-siege": 0.7, "chateau-gontier": 0.15, "mayenne": 0.15}),
    Channel.MESSAGING: (20, {"laval-siege": 1.0}),
    Channel.LETTER: (20, {"laval-siege": 1.0}),
    Channel.VIDEO: (3, {"chateau-gontier": 0.5, "mayenne": 0.5}),
    Channel.RELAY: (9, {"*relais*": 1.0}),
}  # fmt: skip
FACE_TO_FACE = {Channel.WALK_IN, Channel.APPOINTMENT, Channel.PHONE, Channel.VIDEO}
CALLS_PER_DAY = 320


FACE_OUTCOMES = [Outcome.RESOLVED_FIRST, Outcome.ORIENTED, Outcome.APPOINTMENT, Outcome.FILE_OPENED]
FACE_OUTCOME_WEIGHTS = [0.62, 0.14, 0.1, 0.14]
RETURN_WEIGHTS = [0.85, 0.12, 0.03]  # no return, one, two


def _draw(rng, weights) -> int:
    """Index drawn with these weights (cheaper than rng.choice for one value)."""
    return min(
        int(np.searchsorted(np.cumsum(weights), rng.random(), side="right")), len(weights) - 1
    )


def _taxonomy(caf) -> tuple[list[Reason], list[float], Reason]:
    reasons, weights, seasonal = [], [], None
    for theme_code, theme_label, items in TAXONOMY:
        theme = Reason.objects.filter(organisation=caf, code=theme_code).first()
        theme = theme or services.save_reason(None, caf, code=theme_code, label=theme_label)
        for code, label, weight, mass in items:
            reason = Reason.objects.filter(organisation=caf, code=code).first()
            reason = reason or services.save_reason(
                None, caf, code=code, label=label, parent=theme, seasonal_mass=mass
            )
            if mass:
                seasonal = reason
            else:
                reasons.append(reason)
                weights.append(weight)
    total = sum(weights)
    return reasons, [w / total for w in weights], seasonal


def _teams(caf):
    agents = list(User.objects.filter(email__in=["agent@demo.voix.localhost"]))
    managers = list(User.objects.filter(email__in=["manager@demo.voix.localhost"]))
    siege = caf.sites.filter(slug="laval-siege").first()
    teams = {}
    for name in ("Pôle courrier et courriels", "Accueil et téléphone"):
        team = caf.teams.filter(name=name).first()
        teams[name] = team or services.save_team(
            None, caf, name=name, site=siege, members=agents + managers
        )
    return teams


def _open_days(cal, first: date, last: date) -> list[date]:
    days, day = [], first
    while day <= last:
        if workdays.is_working_day(day, cal):
            days.append(day)
        day += timedelta(days=1)
    return days


def _at(day: date, minutes: int, tz) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz) + timedelta(minutes=int(minutes))


def _working_days_later(cal, days: list[date], delays) -> list[date]:
    if not days:
        return []
    result = workdays.add_working_days_bulk(
        np.array(days, dtype="datetime64[D]"), np.asarray(delays, dtype=np.int64), cal
    )
    return result.astype(date).tolist()


def generate_contacts(caf, first: date, last: date, *, rng, reasons, weights, seasonal, teams):
    """Build (unsaved) contacts received from *first* to *last*, processed up to *last*."""
    tz = workdays.calendar_of(caf).tz
    sites = {site.slug: site for site in caf.sites.all()}
    relays = [site for site in sites.values() if site.kind == "france_services"]
    calendars = {slug: workdays.calendar_of(site) for slug, site in sites.items()}
    hours = {slug: site.weekly_hours() for slug, site in sites.items()}
    agent = User.objects.filter(email="agent@demo.voix.localhost").first()
    written_team = teams["Pôle courrier et courriels"]
    front_team = teams["Accueil et téléphone"]
    contacts, pending = [], []  # pending: (contact, site slug, received day, delays…)
    for day in _open_days(workdays.calendar_of(caf), first, last):
        volume = MONTH_VOLUME[day.month] * WEEKDAY_VOLUME[day.weekday()]
        pressure = SEASON[day.month]
        for channel, (rate, shares) in CHANNELS.items():
            for slug, share in shares.items():
                if slug == "*relais*":
                    targets = [(site.slug, share / len(relays)) for site in relays]
                else:
                    targets = [(slug, share)]
                for target, part in targets:
                    site = sites.get(target)
                    if site is None or not workdays.is_working_day(day, calendars[target]):
                        continue
                    opening = hours[target][day.weekday()]
                    if channel in FACE_TO_FACE and not opening:
                        continue
                    for _ in range(rng.poisson(rate * part * volume)):
                        contacts.append(
                            _one_contact(
                                caf, site, channel, day, tz, rng, pressure, opening,
                                reasons, weights, seasonal, pending,
                            )
                        )  # fmt: skip
    # Written contacts: acknowledgement and answer days, on each site's calendar.
    by_site = {}
    for item in pending:
        by_site.setdefault(item["site"], []).append(item)
    for slug, items in by_site.items():
        cal = calendars[slug]
        days = [i["day"] for i in items]
        answer_days = _working_days_later(cal, days, [i["answer_delay"] for i in items])
        ack_days = _working_days_later(cal, days, [i["ack_delay"] for i in items])
        close_days = _working_days_later(cal, answer_days, [i["close_delay"] for i in items])
        for item, answer_day, ack_day, close_day in zip(
            items, answer_days, ack_days, close_days, strict=True
        ):
            _process(item, answer_day, ack_day, close_day, last, tz, rng, agent)
            contact = item["contact"]
            contact.team = written_team
    for number, contact in enumerate(contacts, 1):
        contact.external_id = f"{timezone.localtime(contact.received_at, tz):%Y%m%d}-{number:06d}"
        if contact.team_id is None and contact.channel in FACE_TO_FACE:
            contact.team = front_team
    return contacts


def _one_contact(
    caf, site, channel, day, tz, rng, pressure, opening, reasons, weights, seasonal, pending
):
    if channel == Channel.LETTER and day.month >= 9 and rng.random() < 0.35:
        reason = seasonal  # rent receipts, September to December
    else:
        reason = reasons[_draw(rng, weights)]
    if opening:
        start, end = opening[0][0], opening[-1][1]
        low, high = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    else:
        low, high = 8 * 60, 17 * 60
    if channel in (Channel.EMAIL, Channel.MESSAGING):
        low, high = 7 * 60, 22 * 60
    if channel == Channel.LETTER:
        low, high = 9 * 60, 10 * 60
    received = _at(day, rng.integers(low, high), tz)
    contact = Contact(
        organisation=caf,
        site=site,
        channel=channel,
        reason=reason,
        source=SOURCE,
        requester_ref=f"ALLOC-{rng.integers(100000, 999999)}",
        received_at=received,
    )
    if channel in FACE_TO_FACE:
        done = received + timedelta(minutes=int(rng.integers(3, 25)))
        contact.first_answer_at = contact.closed_at = done
        contact.status = Status.CLOSED
        contact.outcome = FACE_OUTCOMES[_draw(rng, FACE_OUTCOME_WEIGHTS)]
        return contact
    # Written and relayed requests: slower in the rush, rent receipts slower still.
    scale = (10 if reason.seasonal_mass else 2.6 + 4.5 * pressure) * (
        0.6 if channel == Channel.RELAY else 1
    )
    returns = _draw(rng, RETURN_WEIGHTS)
    paused = int(rng.integers(3, 10)) * returns
    contact.returns = returns
    contact.paused_days = paused
    pending.append(
        {
            "contact": contact,
            "site": site.slug,
            "day": day,
            "answer_delay": int(rng.gamma(2.0, scale)) + paused,
            "ack_delay": int(rng.integers(0, 7 if channel != Channel.LETTER else 12)),
            "close_delay": 0 if rng.random() < 0.85 else int(rng.integers(1, 6)),
        }
    )
    return contact


def _process(item, answer_day, ack_day, close_day, last, tz, rng, agent):
    contact = item["contact"]
    work = lambda day: _at(day, rng.integers(9 * 60, 16 * 60 + 30), tz)  # noqa: E731
    if ack_day < answer_day and ack_day <= last and contact.channel != Channel.RELAY:
        contact.acknowledged_at = max(work(ack_day), contact.received_at)
    if answer_day <= last:
        contact.first_answer_at = max(work(answer_day), contact.received_at)
        contact.status = Status.ANSWERED
        if close_day <= last:
            contact.closed_at = (
                contact.first_answer_at if close_day == answer_day else work(close_day)
            )
            contact.closed_at = max(contact.closed_at, contact.first_answer_at)
            contact.status = Status.CLOSED
            contact.outcome = Outcome.ANSWERED
        return
    # Still open today: waiting for documents, in progress, or just arrived.
    if contact.returns:
        contact.status = Status.WAITING
        contact.paused_at = contact.received_at + timedelta(days=1)
        contact.paused_days = 0
    elif contact.acknowledged_at:
        contact.status = Status.ACKNOWLEDGED if rng.random() < 0.5 else Status.IN_PROGRESS
    else:
        contact.status = Status.NEW
    if agent is not None and contact.site.slug == "laval-siege" and rng.random() < 0.3:
        contact.assignee = agent


def generate_calls(caf, first: date, last: date, *, rng) -> list[Call]:
    tz = workdays.calendar_of(caf).tz
    siege = caf.sites.filter(slug="laval-siege").first()
    calls = []
    for day in _open_days(workdays.calendar_of(caf), first, last):
        pressure = SEASON[day.month]
        count = rng.poisson(CALLS_PER_DAY * MONTH_VOLUME[day.month] * WEEKDAY_VOLUME[day.weekday()])
        agent_share = 0.86 - 0.14 * pressure
        outcomes = rng.choice(
            [CallOutcome.AGENT, CallOutcome.IVR, CallOutcome.ABANDONED],
            size=count,
            p=[agent_share, 0.07, 0.93 - agent_share],
        )
        after_hours = rng.random(count) < 0.04
        minutes = np.where(
            after_hours, rng.integers(17 * 60, 19 * 60, count), rng.integers(510, 990, count)
        )
        waits = rng.exponential(50 + 250 * pressure, count).astype(int)
        for index in range(count):
            outcome = CallOutcome.ABANDONED if after_hours[index] else outcomes[index]
            calls.append(
                Call(
                    organisation=caf,
                    site=siege,
                    source=CALL_SOURCE,
                    external_id=f"{day:%Y%m%d}-{index:04d}",
                    started_at=_at(day, minutes[index], tz),
                    outcome=outcome,
                    wait_seconds=None if outcome == CallOutcome.IVR else int(waits[index]),
                    needs_agent=not after_hours[index] and outcome != CallOutcome.IVR,
                    line="Plateforme 32 30",
                )
            )
    return calls


def recompute_year(caf, first: date, today: date):
    """Recompute the contact indicators month by month, newest first (so that only the
    latest month's results can raise a below-target alert, not the whole past year)."""
    from voix.commitments import measures, periods
    from voix.commitments.models import Indicator

    starts = []
    month = periods.period_start("month", first)
    while month <= today:
        starts.append(month)
        month = periods.period_end("month", month)
    total = measures.RecomputeReport()
    for indicator in Indicator.objects.filter(
        organisation__isnull=True, source__in=list(indicators.SOURCES)
    ).order_by("code"):
        report = measures.recompute(indicator, caf, "month", list(reversed(starts)))
        for name in ("created", "updated", "unchanged", "skipped"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
    return total


def seed(stdout) -> None:
    from voix.commitments.models import Measurement

    caf = Organisation.objects.filter(slug="caf-mayenne-demo").first()
    if caf is None:
        return
    reasons, weights, seasonal = _taxonomy(caf)
    teams = _teams(caf)
    clocks.ensure_default_policies(caf)
    if Contact.objects.filter(organisation=caf, source=SOURCE).exists():
        return
    today = timezone.localdate()
    # Twelve whole months before the current one, and the current month up to yesterday.
    first = date(today.year - 1, today.month, 1)
    last = today - timedelta(days=1)
    rng = np.random.default_rng(53)
    contacts = generate_contacts(
        caf, first, last, rng=rng, reasons=reasons, weights=weights, seasonal=seasonal, teams=teams
    )
    Contact.objects.bulk_create(contacts, batch_size=2000, ignore_conflicts=True)
    ids = list(Contact.objects.filter(organisation=caf, source=SOURCE).values_list("pk", flat=True))
    clocks.apply_deadlines_bulk(caf, ids)
    calls = generate_calls(caf, first, last, rng=rng)
    Call.objects.bulk_create(calls, batch_size=5000, ignore_conflicts=True)
    contact_rows, call_rows = rollups.rebuild(caf, first, today)
    # The commitments demo gave every indicator made-up results: those of the indicators
    # computed here are replaced by the computation (sites without activity keep none).
    Measurement.objects.filter(
        organisation=caf,
        indicator__source__in=list(indicators.SOURCES),
        provenance="imported",
        source_ref="démonstration",
    ).delete()
    report = recompute_year(caf, first, today)
    stdout.write(
        f"Activité de démonstration : {len(ids)} contacts et {len(calls)} appels du "
        f"{first:%d/%m/%Y} au {last:%d/%m/%Y} ({contact_rows + call_rows} lignes de cumuls "
        f"quotidiens) ; indicateurs recalculés : {report.created} créé(s), "
        f"{report.updated} modifié(s).\n"
    )
