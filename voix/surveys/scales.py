"""The answer scales and their scores: the State's standard questions (« Je donne mon
avis », JDMA — REFERENCE §2), the 5-level satisfaction (CSAT) and the 0–10 recommendation
(NPS).

Each standard question kind has a fixed code (the key of its answer in
``Response.answers``), a fixed wording and fixed options; each option has a value (what the
form sends and what is stored), a label (what a person reads) and a score:

- ``satisfaction`` « De façon générale, comment ça s'est passé ? »: Pas bien / Moyen / Très
  bien → 0 / 5 / 10 (mean out of 10, target ≥ 8);
- ``comprehension`` (clarté), 5 levels → 0 / 2.5 / 5 / 7.5 / 10;
- ``contact_tried`` (several channels, or « je n'ai pas eu besoin d'aide »), ``contact_reached``
  (oui / non: « aide joignable », target ≥ 85 %), ``contact_satisfaction`` (5 levels → 0…10:
  « aide efficace », target ≥ 8);
- ``verbatim``: free text, no personal data asked.

CSAT: 1 « Très insatisfait » … 5 « Très satisfait »; satisfied = 4–5, dissatisfied = 1–2.
NPS: 0–10; promoters 9–10, detractors 0–6. Indicators are shown only with at least
``MIN_ANSWERS`` answers over a rolling 12 months.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from .models import QuestionKind

MIN_ANSWERS = 100  # an indicator is shown only from this many answers (rolling 12 months)
ROLLING_MONTHS = 12
VERBATIM_MAX_LENGTH = 2000  # characters of a free-text answer

# Targets of the JDMA indicators (REFERENCE §2).
TARGET_SATISFACTION = Decimal("8")  # mean out of 10; green ≥ 8, yellow 5–8, red < 5
TARGET_HELP_REACHED = 85  # % of those who looked for help and reached someone
TARGET_HELP_SCORE = Decimal("8")  # mean out of 10

Kind = QuestionKind


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    score: Decimal | int | None = None


@dataclass(frozen=True)
class Standard:
    """A standard question: its kind, code, wording and options (all fixed)."""

    kind: str
    code: str
    label: str
    help_text: str = ""
    options: tuple[Option, ...] = field(default_factory=tuple)
    multiple: bool = False

    def option(self, value) -> Option | None:
        return next((o for o in self.options if o.value == str(value)), None)


D = Decimal
NO_HELP = "aucune"  # « je n'ai pas eu besoin d'aide »: excludes the other channels

SATISFACTION = Standard(
    Kind.JDMA_SATISFACTION,
    "satisfaction",
    "De façon générale, comment ça s'est passé ?",
    options=(
        Option("pas_bien", "Pas bien", 0),
        Option("moyen", "Moyen", 5),
        Option("tres_bien", "Très bien", 10),
    ),
)
CLARITY = Standard(
    Kind.JDMA_CLARITY,
    "comprehension",
    "Les informations et les explications données étaient-elles claires ?",
    options=(
        Option("1", "Pas clair du tout", D("0")),
        Option("2", "Pas très clair", D("2.5")),
        Option("3", "Moyennement clair", D("5")),
        Option("4", "Clair", D("7.5")),
        Option("5", "Très clair", D("10")),
    ),
)
CONTACT_TRIED = Standard(
    Kind.JDMA_CONTACT_TRIED,
    "contact_tried",
    "Avez-vous cherché de l'aide pour votre démarche ? Si oui, comment ?",
    help_text="Plusieurs réponses possibles.",
    options=(
        Option("guichet", "Au guichet"),
        Option("telephone", "Par téléphone"),
        Option("courriel", "Par e-mail"),
        Option("chat", "Par une messagerie en ligne (chat)"),
        Option("proche", "Auprès d'un proche"),
        Option("association", "Auprès d'une association"),
        Option("internet", "Sur internet"),
        Option("autre", "Autrement"),
        Option(NO_HELP, "Je n'ai pas eu besoin d'aide"),
    ),
    multiple=True,
)
CONTACT_REACHED = Standard(
    Kind.JDMA_CONTACT_REACHED,
    "contact_reached",
    "Avez-vous réussi à obtenir de l'aide ?",
    help_text="Si vous avez cherché de l'aide.",
    options=(Option("oui", "Oui"), Option("non", "Non")),
)
CONTACT_SATISFACTION = Standard(
    Kind.JDMA_CONTACT_SATISFACTION,
    "contact_satisfaction",
    "Comment évaluez-vous l'aide que vous avez obtenue ?",
    help_text="Si vous avez obtenu de l'aide.",
    options=(
        Option("1", "Très mauvaise", D("0")),
        Option("2", "Mauvaise", D("2.5")),
        Option("3", "Moyenne", D("5")),
        Option("4", "Bonne", D("7.5")),
        Option("5", "Très bonne", D("10")),
    ),
)
VERBATIM = Standard(
    Kind.JDMA_VERBATIM,
    "verbatim",
    "Souhaitez-vous nous en dire plus ?",
    help_text="Ne donnez pas d'informations personnelles (nom, numéro d'allocataire, adresse, "
    "téléphone…) : ce message est anonyme.",
)

# The standard questions, in the order of the standard questionnaire.
STANDARDS = (
    SATISFACTION,
    CLARITY,
    CONTACT_TRIED,
    CONTACT_REACHED,
    CONTACT_SATISFACTION,
    VERBATIM,
)
BY_KIND = {standard.kind: standard for standard in STANDARDS}
STANDARD_KINDS = frozenset(BY_KIND)
STANDARD_CODES = frozenset(standard.code for standard in STANDARDS)

# ----- CSAT, NPS and the other kinds ------------------------------------------------------

CSAT_OPTIONS = (
    Option("1", "Très insatisfait", 1),
    Option("2", "Plutôt insatisfait", 2),
    Option("3", "Ni satisfait ni insatisfait", 3),
    Option("4", "Plutôt satisfait", 4),
    Option("5", "Très satisfait", 5),
)
SATISFIED = frozenset({4, 5})
DISSATISFIED = frozenset({1, 2})
VERY_SATISFIED = 5

NPS_OPTIONS = tuple(Option(str(n), str(n), n) for n in range(11))
NPS_LOW_LABEL = "0 : pas du tout probable"
NPS_HIGH_LABEL = "10 : tout à fait probable"
PROMOTERS = frozenset({9, 10})
DETRACTORS = frozenset(range(7))

YES_NO_OPTIONS = (Option("oui", "Oui"), Option("non", "Non"))

OVERALL_CODE = "satisfaction_globale"


def overall_label(organisation_name: str) -> str:
    """The wording of the overall satisfaction question (« satisfaction globale »)."""
    return f"Globalement, êtes-vous satisfait du service rendu par {organisation_name} ?"


NPS_DEFAULT_LABEL = "Recommanderiez-vous ce service à un proche ?"


# ----- helpers -----------------------------------------------------------------------------


def options_for(question) -> tuple[Option, ...]:
    """The options offered for *question* (empty for free text)."""
    kind = question.kind
    if kind in BY_KIND:
        return BY_KIND[kind].options
    if kind == Kind.CSAT:
        return CSAT_OPTIONS
    if kind == Kind.NPS:
        return NPS_OPTIONS
    if kind == Kind.YES_NO:
        return YES_NO_OPTIONS
    if kind in (Kind.CHOICE, Kind.MULTIPLE):
        return tuple(Option(str(label), str(label)) for label in question.choices or ())
    return ()


def is_multiple(kind: str) -> bool:
    return kind in (Kind.JDMA_CONTACT_TRIED, Kind.MULTIPLE)


def is_text(kind: str) -> bool:
    return kind in (Kind.JDMA_VERBATIM, Kind.TEXT)


def label_of(question, value) -> str:
    """What a person reads for a stored *value* of *question* (a list: labels joined)."""
    if isinstance(value, list):
        return ", ".join(label_of(question, item) for item in value)
    if is_text(question.kind):
        return str(value)
    option = next((o for o in options_for(question) if o.value == str(value)), None)
    return option.label if option else str(value)


def score(kind: str, value) -> Decimal | int | None:
    """The score of one answer *value* to a question of *kind* (None: no score)."""
    if kind in BY_KIND:
        option = BY_KIND[kind].option(value)
        return option.score if option else None
    if kind in (Kind.CSAT, Kind.NPS):
        try:
            number = int(value)
        except (TypeError, ValueError):
            return None
        top = 5 if kind == Kind.CSAT else 10
        low = 1 if kind == Kind.CSAT else 0
        return number if low <= number <= top else None
    return None


def help_tried(channels: list[str] | None) -> bool | None:
    """True: looked for help on a channel; False: « je n'ai pas eu besoin d'aide »."""
    if not channels:
        return None
    return any(channel != NO_HELP for channel in channels)


def is_satisfied(csat: int | None) -> bool:
    return csat in SATISFIED


def is_dissatisfied(csat: int | None) -> bool:
    return csat in DISSATISFIED


def nps_category(value: int | None) -> str | None:
    """« promoteur », « passif » or « détracteur » (None: no answer)."""
    if value is None:
        return None
    if value in PROMOTERS:
        return "promoteur"
    if value in DETRACTORS:
        return "détracteur"
    return "passif"


def satisfaction_colour(mean: Decimal | float | None) -> str | None:
    """JDMA colour of a mean out of 10: « vert » ≥ 8, « jaune » 5–8, « rouge » < 5."""
    if mean is None:
        return None
    if mean >= 8:
        return "vert"
    if mean >= 5:
        return "jaune"
    return "rouge"
