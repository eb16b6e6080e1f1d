"""Results of a questionnaire: headline figures with the official scoring, by site, channel
and period, the distribution of each question's answers, and the verbatims.

The ≥ 100 answers rule (REFERENCE §2, ``scales.MIN_ANSWERS``): a figure — a mean, a share,
a distribution — is shown only when it is computed on at least 100 answers to its
question in the selected scope and period; below that, only the number of answers is shown
with « moins de 100 réponses : résultat non affiché ». The default period is the rolling
12 months (the current month and the 11 before it), the window of the JDMA rule.

Everything here is a plain aggregate over Response: the scored columns of the standard
questions (``jdma_*``, ``overall``, ``nps``) and, for the other questions, a GROUP BY on the
answer's key in the ``answers`` JSON (SQLite and PostgreSQL alike).
"""

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth

from voix.commitments import periods
from voix.core.models import Membership, Role

from . import scales
from .indicators import local_bounds
from .models import LinkChannel, QuestionKind, Response

MIN_ANSWERS = scales.MIN_ANSWERS
HIDDEN = f"moins de {MIN_ANSWERS} réponses : résultat non affiché"
ONE = Decimal("0.1")

PERIODS = {
    "12mois": "12 derniers mois",
    "mois": "Mois",
    "trimestre": "Trimestre",
    "annee": "Année",
}
PERIOD_KINDS = {"mois": "month", "trimestre": "quarter", "annee": "year"}
CHOICES_COUNT = {"mois": 24, "trimestre": 8, "annee": 5}


def rounded(value) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(ONE, rounding=ROUND_HALF_UP)


def percent(part, whole) -> Decimal | None:
    return rounded(Decimal(100) * part / whole) if whole else None


def french_number(value: Decimal) -> str:
    return f"{rounded(value):.1f}".replace(".", ",").replace("-", "−")


# ----- who reads what -------------------------------------------------------------------


def site_restriction(user, organisation) -> frozenset | None:
    """The sites whose answers *user* may read in *organisation*: None for all of them
    (quality leads and administrators, managers of the whole organisation), else the sites
    their manager memberships are narrowed to (answers without a site are then left out)."""
    if getattr(user, "is_superuser", False):
        return None
    chain = [organisation.pk, *(o.pk for o in organisation.ancestors())]
    memberships = list(
        Membership.objects.filter(
            user=user,
            organisation_id__in=chain,
            role__in=[Role.QUALITE, Role.ADMIN, Role.MANAGER],
        ).values_list("role", "site_id")
    )
    if any(role != Role.MANAGER or site_id is None for role, site_id in memberships):
        return None
    return frozenset(site_id for _role, site_id in memberships)


# ----- the selection: period, site, channel ------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """What the results are computed on: a period [start, end), optionally one site and
    one channel, within the sites the reader may see (None: every answer)."""

    period: str
    start: date
    end: date
    site: object = None
    channel: str = ""
    allowed_sites: frozenset | None = None

    @property
    def label(self) -> str:
        last = self.end - timedelta(days=1)
        if self.period == "12mois":
            return f"12 derniers mois (du {self.start:%d/%m/%Y} au {last:%d/%m/%Y})"
        return periods.label(PERIOD_KINDS[self.period], self.start)

    @property
    def months(self) -> list[date]:
        starts, month = [], self.start.replace(day=1)
        while month < self.end:
            starts.append(month)
            month = periods.period_end("month", month)
        return starts


def rolling_start(today: date) -> date:
    """First day of the rolling 12 months ending with *today*'s month."""
    month = today.replace(day=1)
    return periods.previous_periods("month", month, 12)[0]


def period_bounds(period: str, start: date | None, today: date) -> tuple[str, date, date]:
    """(period, start, end) for a period key and an optional start; unknown keys and
    missing starts fall back to the rolling 12 months / the current period."""
    if period not in PERIODS:
        period = "12mois"
    if period == "12mois":
        return period, rolling_start(today), today + timedelta(days=1)
    kind = PERIOD_KINDS[period]
    start = periods.period_start(kind, start or today)
    return period, start, periods.period_end(kind, start)


def period_options(today: date) -> list:
    """Grouped choices of one « Période » select: the rolling 12 months, then recent months,
    quarters and years (values « 12mois », « mois-2026-03-01 », « trimestre-2026-01-01 »…)."""
    options = [("12mois", PERIODS["12mois"])]
    for key, group in (("mois", "Mois"), ("trimestre", "Trimestres"), ("annee", "Années")):
        kind = PERIOD_KINDS[key]
        starts = periods.previous_periods(
            kind, periods.period_start(kind, today), CHOICES_COUNT[key]
        )
        options.append(
            (group, [(f"{key}-{s.isoformat()}", periods.label(kind, s)) for s in reversed(starts)])
        )
    return options


def parse_period(value: str, today: date) -> tuple[str, date, date]:
    """(period, start, end) from a « Période » value; anything unreadable gives the rolling
    12 months."""
    key, _, rest = (value or "").partition("-")
    try:
        start = date.fromisoformat(rest) if rest else None
    except ValueError:
        start = None
    if key not in PERIOD_KINDS or start is None:
        return period_bounds("12mois", None, today)
    return period_bounds(key, start, today)


def responses(survey, selection: Selection):
    """The survey's answers inside the selection."""
    low, high = local_bounds(survey.organisation, selection.start, selection.end)
    rows = Response.objects.filter(survey=survey, submitted_at__gte=low, submitted_at__lt=high)
    if selection.allowed_sites is not None:
        rows = rows.filter(site_id__in=selection.allowed_sites)
    if selection.site is not None:
        rows = rows.filter(site=selection.site)
    if selection.channel:
        rows = rows.filter(channel=selection.channel)
    return rows.order_by()


# ----- figures ------------------------------------------------------------------------------


@dataclass
class Figure:
    """One result with its sample; ``shown`` only from MIN_ANSWERS answers."""

    key: str
    label: str
    value: Decimal | None
    sample: int
    unit: str  # "score10", "percent", "points"

    @property
    def shown(self) -> bool:
        return self.value is not None and self.sample >= MIN_ANSWERS

    @property
    def value_text(self) -> str:
        if self.value is None:
            return "—"
        number = french_number(self.value)
        if self.unit == "score10":
            return f"{number} / 10"
        if self.unit == "percent":
            return f"{number} %"
        sign = "+" if self.value > 0 else ""
        return f"{sign}{number} points"

    @property
    def text(self) -> str:
        if self.sample == 0:
            return "aucune réponse"
        if not self.shown:
            return f"{self.sample} réponse{'s' if self.sample > 1 else ''} — {HIDDEN}"
        return self.value_text


# key, label, unit, the question kind that feeds it
HEADLINE = [
    ("jdma_satisfaction", "Satisfaction (sur 10)", "score10", QuestionKind.JDMA_SATISFACTION),
    ("jdma_clarity", "Clarté des informations (sur 10)", "score10", QuestionKind.JDMA_CLARITY),
    ("jdma_help_reached", "Aide joignable", "percent", QuestionKind.JDMA_CONTACT_REACHED),
    (
        "jdma_help_score",
        "Aide efficace (sur 10)",
        "score10",
        QuestionKind.JDMA_CONTACT_SATISFACTION,
    ),
    ("overall_satisfaction", "Satisfaction globale", "percent", "overall"),
    ("net_satisfaction", "Satisfaction nette", "points", "overall"),
    ("nps", "Recommandation (NPS)", "points", QuestionKind.NPS),
]

TRIED = Q(jdma_help_reached__isnull=False)  # see indicators.TRIED_AND_ANSWERED
AGGREGATES = {
    "answers": Count("pk"),
    "sat_mean": Avg("jdma_satisfaction"),
    "sat_n": Count("jdma_satisfaction"),
    "clarity_mean": Avg("jdma_clarity"),
    "clarity_n": Count("jdma_clarity"),
    "reached": Count("pk", filter=TRIED & Q(jdma_help_reached=True)),
    "tried": Count("pk", filter=TRIED),
    "help_mean": Avg("jdma_help_score"),
    "help_n": Count("jdma_help_score"),
    "satisfied": Count("pk", filter=Q(overall__in=sorted(scales.SATISFIED))),
    "dissatisfied": Count("pk", filter=Q(overall__in=sorted(scales.DISSATISFIED))),
    "overall_n": Count("overall"),
    "promoters": Count("pk", filter=Q(nps__in=sorted(scales.PROMOTERS))),
    "detractors": Count("pk", filter=Q(nps__in=sorted(scales.DETRACTORS))),
    "nps_n": Count("nps"),
}


def _figures_from(row: dict, keys) -> list[Figure]:
    def mean(name):
        return rounded(row[f"{name}_mean"]) if row[f"{name}_n"] else None

    overall_n = row["overall_n"]
    values = {
        "jdma_satisfaction": (mean("sat"), row["sat_n"]),
        "jdma_clarity": (mean("clarity"), row["clarity_n"]),
        "jdma_help_reached": (percent(row["reached"], row["tried"]), row["tried"]),
        "jdma_help_score": (mean("help"), row["help_n"]),
        "overall_satisfaction": (percent(row["satisfied"], overall_n), overall_n),
        "net_satisfaction": (
            percent(row["satisfied"] - row["dissatisfied"], overall_n),
            overall_n,
        ),
        "nps": (percent(row["promoters"] - row["detractors"], row["nps_n"]), row["nps_n"]),
    }
    labels = {key: (label, unit) for key, label, unit, _kind in HEADLINE}
    return [Figure(key, labels[key][0], *values[key], labels[key][1]) for key in keys]


def figure_keys(survey) -> list[str]:
    """The headline figures this questionnaire feeds (from its questions)."""
    kinds = set(survey.questions.values_list("kind", flat=True))
    if survey.questions.filter(overall=True).exists():
        kinds.add("overall")
    return [key for key, _label, _unit, kind in HEADLINE if kind in kinds]


@dataclass
class Summary:
    answers: int
    figures: list[Figure]


def summary(queryset, keys) -> Summary:
    """The headline figures of the answers in *queryset* (one aggregate query)."""
    row = queryset.aggregate(**AGGREGATES)
    return Summary(row["answers"], _figures_from(row, keys))


@dataclass
class Group:
    """The figures of one site, channel or month."""

    key: object
    label: str
    answers: int
    figures: list[Figure]


def by_site(queryset, keys, organisation) -> list[Group]:
    """Figures per site (answers without a site last, as « sans site »)."""
    names = dict(organisation.sites.values_list("pk", "name"))
    groups = []
    for row in queryset.values("site_id").annotate(**AGGREGATES):
        groups.append(
            Group(
                row["site_id"],
                names.get(row["site_id"], "Sans site (lien général)"),
                row["answers"],
                _figures_from(row, keys),
            )
        )
    return sorted(groups, key=lambda g: (g.key is None, g.label))


def by_channel(queryset, keys) -> list[Group]:
    labels = dict(LinkChannel.choices)
    groups = []
    for row in queryset.values("channel").annotate(**AGGREGATES):
        groups.append(
            Group(
                row["channel"],
                labels.get(row["channel"], row["channel"]),
                row["answers"],
                _figures_from(row, keys),
            )
        )
    return sorted(groups, key=lambda g: g.label)


def by_month(queryset, keys, selection: Selection, organisation) -> list[Group]:
    """Figures per calendar month of the selection (months without answers included)."""
    low, _high = local_bounds(organisation, selection.start, selection.end)
    found = {}
    for row in (
        queryset.annotate(month=TruncMonth("submitted_at", tzinfo=low.tzinfo))
        .values("month")
        .annotate(**AGGREGATES)
    ):
        month = row["month"]
        found[month.date() if hasattr(month, "date") else month] = row
    empty = dict.fromkeys(AGGREGATES, 0)
    return [
        Group(
            month,
            periods.label("month", month),
            found.get(month, empty)["answers"],
            _figures_from({**empty, **found.get(month, {})}, keys),
        )
        for month in selection.months
    ]


# ----- distributions per question -------------------------------------------------------------


@dataclass
class OptionRow:
    label: str
    count: int
    percent: Decimal | None


@dataclass
class QuestionResult:
    question: object
    answered: int
    rows: list[OptionRow] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    multiple: bool = False  # shares of respondents: they add up to more than 100 %
    text: bool = False  # free text: read on the verbatims page

    @property
    def shown(self) -> bool:
        return self.answered >= MIN_ANSWERS

    @property
    def hidden_text(self) -> str:
        if self.answered == 0:
            return "aucune réponse"
        return f"{self.answered} réponse{'s' if self.answered > 1 else ''} — {HIDDEN}"


def _answer_counts(queryset, question) -> dict:
    """{stored value (or tuple of values for a multiple choice): count} for one question."""
    counts = {}
    grouped = (
        queryset.annotate(value=KeyTextTransform(question.code, "answers"))
        .values("value")
        .annotate(n=Count("pk"))
    )
    multiple = scales.is_multiple(question.kind)
    for row in grouped:
        value = row["value"]
        if value is None or value == "":
            continue
        if multiple:
            items = json.loads(value) if isinstance(value, str) else value
            if not isinstance(items, list):
                items = [items]
            if not items:
                continue
            key = tuple(str(item) for item in items)
        else:
            if isinstance(value, bool):
                value = "oui" if value else "non"
            key = str(value)
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


def _scored_mean(counts: dict, kind: str) -> Decimal | None:
    total = weight = 0
    for value, n in counts.items():
        score = scales.score(kind, value)
        if score is not None:
            total += Decimal(str(score)) * n
            weight += n
    return rounded(total / weight) if weight else None


def question_result(queryset, question) -> QuestionResult:
    """The distribution of one question's answers, with its scored figures."""
    kind = question.kind
    if scales.is_text(kind):
        answered = (
            queryset.exclude(verbatim="").count()
            if kind == QuestionKind.JDMA_VERBATIM
            else sum(_answer_counts(queryset, question).values())
        )
        return QuestionResult(question, answered, text=True)
    counts = _answer_counts(queryset, question)
    options = scales.options_for(question)
    multiple = scales.is_multiple(kind)
    if multiple:
        answered = sum(counts.values())
        per_option = {}
        for combination, n in counts.items():
            for value in combination:
                per_option[value] = per_option.get(value, 0) + n
    else:
        answered = sum(counts.values())
        per_option = counts
    known = [o.value for o in options]
    rows = [OptionRow(o.label, per_option.get(o.value, 0), None) for o in options]
    rows += [
        OptionRow(value, n, None) for value, n in sorted(per_option.items()) if value not in known
    ]
    for row in rows:
        row.percent = percent(row.count, answered)
    result = QuestionResult(question, answered, rows, multiple=multiple)
    result.figures = _question_figures(kind, counts, answered, question)
    return result


def _question_figures(kind, counts, answered, question) -> list[Figure]:
    def share(values):
        return percent(sum(n for v, n in counts.items() if v in values), answered)

    if kind in (
        QuestionKind.JDMA_SATISFACTION,
        QuestionKind.JDMA_CLARITY,
        QuestionKind.JDMA_CONTACT_SATISFACTION,
    ):
        return [Figure("mean", "Note moyenne", _scored_mean(counts, kind), answered, "score10")]
    if kind == QuestionKind.JDMA_CONTACT_REACHED:
        return [Figure("reached", "Aide joignable", share({"oui"}), answered, "percent")]
    if kind == QuestionKind.JDMA_CONTACT_TRIED:
        tried = sum(n for combo, n in counts.items() if scales.help_tried(list(combo)))
        return [
            Figure("tried", "Ont cherché de l'aide", percent(tried, answered), answered, "percent")
        ]
    if kind == QuestionKind.CSAT:
        satisfied = {str(v) for v in scales.SATISFIED}
        dissatisfied = {str(v) for v in scales.DISSATISFIED}
        net = None
        if answered:
            net = percent(
                sum(n for v, n in counts.items() if v in satisfied)
                - sum(n for v, n in counts.items() if v in dissatisfied),
                answered,
            )
        return [
            Figure("satisfied", "Satisfaits (4 ou 5)", share(satisfied), answered, "percent"),
            Figure(
                "dissatisfied", "Insatisfaits (1 ou 2)", share(dissatisfied), answered, "percent"
            ),
            Figure("net", "Satisfaction nette", net, answered, "points"),
        ]
    if kind == QuestionKind.NPS:
        promoters = {str(v) for v in scales.PROMOTERS}
        detractors = {str(v) for v in scales.DETRACTORS}
        return [
            Figure("promoters", "Promoteurs (9 ou 10)", share(promoters), answered, "percent"),
            Figure("passives", "Passifs (7 ou 8)", share({"7", "8"}), answered, "percent"),
            Figure("detractors", "Détracteurs (0 à 6)", share(detractors), answered, "percent"),
            Figure("nps", "NPS", nps_value(counts), answered, "points"),
        ]
    if kind == QuestionKind.YES_NO:
        return [Figure("yes", "Oui", share({"oui"}), answered, "percent")]
    return []


def nps_value(counts: dict) -> Decimal | None:
    """Net Promoter Score: % of promoters (9–10) − % of detractors (0–6), one decimal."""
    answered = promoters = detractors = 0
    for value, n in counts.items():
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        answered += n
        promoters += n if number in scales.PROMOTERS else 0
        detractors += n if number in scales.DETRACTORS else 0
    return percent(promoters - detractors, answered)


def distributions(survey, queryset) -> list[QuestionResult]:
    """One result per question of the survey, in its order."""
    return [question_result(queryset, q) for q in survey.questions.order_by("position", "pk")]


# ----- verbatims ---------------------------------------------------------------------------

SATISFACTION_FILTER = {o.value: o.score for o in scales.SATISFACTION.options}


@dataclass(frozen=True)
class VerbatimFilters:
    satisfaction: str = ""  # a JDMA option value: pas_bien, moyen, tres_bien
    overall: int | None = None  # CSAT 1..5
    search: str = ""


def verbatims(queryset, filters: VerbatimFilters):
    """The answers with a free comment, newest first, filtered by score and text."""
    rows = queryset.exclude(verbatim="")
    if filters.satisfaction in SATISFACTION_FILTER:
        rows = rows.filter(jdma_satisfaction=SATISFACTION_FILTER[filters.satisfaction])
    if filters.overall is not None:
        rows = rows.filter(overall=filters.overall)
    if filters.search.strip():
        rows = rows.filter(verbatim__icontains=filters.search.strip())
    return rows.select_related("site").order_by("-submitted_at", "-pk")
