"""Measurements: computed through a registry of data sources, entered by hand or imported
from CSV/XLSX — and the below-target alert that follows any write.

Every write goes through :func:`save_measurement`, which upserts (writing nothing when the
figures are unchanged) and then checks the scope against its target in force. See
docs/measurements.md for how an app plugs a data source in.
"""

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from voix.core.models import Role, Site, User
from voix.core.services import record_event

from . import periods, services
from .models import (
    Computation,
    Indicator,
    Measurement,
    Notice,
    PeriodKind,
    Provenance,
    Target,
    TargetCrossing,
    Unit,
)

ONE_DECIMAL = Decimal("0.1")

# ----- value computation ---------------------------------------------------------------


def compute_value(computation: str, numerator, denominator) -> Decimal | None:
    """The indicator's value from its two counts, rounded half-up to one decimal.

    share_within and ratio are percentages (100 × n / d); mean is n / d; count is n.
    None when the denominator is zero or missing (nothing was measured).
    """
    if numerator is None:
        return None
    numerator = Decimal(str(numerator))
    if computation == Computation.COUNT:
        return numerator.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)
    if denominator is None or Decimal(str(denominator)) == 0:
        return None
    denominator = Decimal(str(denominator))
    if computation in (Computation.SHARE_WITHIN, Computation.RATIO):
        raw = Decimal(100) * numerator / denominator
    else:
        raw = numerator / denominator
    return raw.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


def round_value(value) -> Decimal:
    return Decimal(str(value)).quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


# ----- the one write path --------------------------------------------------------------


def _same(measurement: Measurement, fields: dict) -> bool:
    return all(getattr(measurement, key) == value for key, value in fields.items())


def _decimal_or_none(value):
    return None if value is None else Decimal(str(value))


def _wanted(value, sample, numerator, denominator, provenance, source_ref) -> dict:
    """The stored fields of a measurement (value already known): rounded value, sample
    defaulting to the denominator, counts as decimals."""
    if sample is None:
        sample = int(denominator) if denominator is not None else 0
    return {
        "value": round_value(value),
        "sample": int(sample or 0),
        "numerator": _decimal_or_none(numerator),
        "denominator": _decimal_or_none(denominator),
        "provenance": provenance,
        "source_ref": source_ref,
    }


def save_measurement(
    indicator: Indicator,
    organisation,
    *,
    period_kind: str,
    period_start: date,
    value=None,
    sample: int | None = None,
    numerator=None,
    denominator=None,
    site=None,
    channel: str = "",
    provenance: str = Provenance.COMPUTED,
    source_ref: str = "",
) -> tuple[Measurement, str]:
    """Upsert one measurement and check its scope against the target in force.

    Without a value, it is computed from numerator and denominator; without a sample, the
    denominator is the sample. Returns (measurement, "created" | "updated" | "unchanged").
    An unchanged measurement is not written again (its recorded_at stays), so re-running a
    computation or re-importing a file changes nothing.
    """
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError(f"Le site « {site} » n'appartient pas à « {organisation} ».")
    if value is None:
        value = compute_value(indicator.computation, numerator, denominator)
        if value is None:
            raise ValidationError(
                {"value": "Indiquez la valeur, ou le numérateur et un dénominateur non nul."}
            )
    start = periods.period_start(period_kind, period_start)
    wanted = _wanted(value, sample, numerator, denominator, provenance, source_ref)
    existing = Measurement.objects.filter(
        indicator=indicator,
        organisation=organisation,
        site=site,
        channel=channel,
        period_kind=period_kind,
        period_start=start,
    ).first()
    if existing is not None and _same(existing, wanted):
        return existing, "unchanged"
    measurement = services.record_measurement(
        indicator,
        organisation,
        period_kind=period_kind,
        period_start=start,
        site=site,
        channel=channel,
        **wanted,
    )
    check_target(measurement)
    return measurement, "created" if existing is None else "updated"


# ----- below-target alerts -------------------------------------------------------------


def target_for(measurement: Measurement) -> Target | None:
    """The target in force on the last day of the measurement's period."""
    last_day = periods.period_end(measurement.period_kind, measurement.period_start) - timedelta(
        days=1
    )
    return Target.objects.in_force(
        measurement.indicator, measurement.organisation, measurement.site, on=last_day
    )


def check_target(measurement: Measurement) -> bool:
    """Update the scope's below-target state; tell the quality leads when it newly crosses.

    The state follows the scope's most recent period only: rewriting an older period does
    not move it. A result under the indicator's minimal sample is not significant and moves
    nothing. Returns True when this write created an alert.
    """
    indicator = measurement.indicator
    if measurement.sample < indicator.min_sample:
        return False
    target = target_for(measurement)
    with transaction.atomic():
        scope = dict(
            indicator=indicator,
            organisation=measurement.organisation,
            site=measurement.site,
            channel=measurement.channel,
        )
        crossing, _ = TargetCrossing.objects.get_or_create(**scope)
        # Lock the row: two concurrent writes for one scope must not both alert.
        crossing = TargetCrossing.objects.select_for_update().get(pk=crossing.pk)
        if not _moves(crossing, measurement):
            return False
        newly_below = _advance(crossing, measurement, target)
        crossing.save()
        if newly_below:
            _notify_below_target(measurement, target)
    return newly_below


def _moves(crossing: TargetCrossing, measurement: Measurement) -> bool:
    """Does this measurement set the scope's state (not older than its current period)?"""
    return not (
        crossing.last_period_start and measurement.period_start < crossing.last_period_start
    )


def _advance(crossing: TargetCrossing, measurement: Measurement, target: Target | None) -> bool:
    """Move the crossing (unsaved) to this measurement's state; True when newly below."""
    indicator = measurement.indicator
    below = target is not None and not indicator.is_better(measurement.value, target.value)
    newly_below = below and not crossing.below
    crossing.below = below
    crossing.last_value = measurement.value
    crossing.last_period_start = measurement.period_start
    return newly_below


def _notify_below_target(measurement: Measurement, target: Target) -> None:
    organisation = measurement.organisation
    where = f" — {measurement.site}" if measurement.site else ""
    channel = f" (canal {measurement.channel})" if measurement.channel else ""
    text = (
        f"« {measurement.indicator} »{where}{channel} est passé sous sa cible : "
        f"{format_value(measurement.value, measurement.indicator.unit)} pour "
        f"{periods.label(measurement.period_kind, measurement.period_start)}, "
        f"cible {format_value(target.value, measurement.indicator.unit)}."
    )
    link = reverse("commitments:pilotage_indicator", args=[measurement.indicator_id])
    if measurement.site_id:
        link += f"?site={measurement.site_id}"
    leads = User.objects.filter(
        is_active=True,
        memberships__organisation=organisation,
        memberships__role=Role.QUALITE,
    ).distinct()
    for user in leads:
        notice = Notice.objects.create(user=user, organisation=organisation, text=text, link=link)
        transaction.on_commit(lambda pk=notice.pk: send_notice_email.enqueue(pk))


@task()
def send_notice_email(notice_id: int) -> str:
    """E-mail one in-application message to its recipient."""
    notice = Notice.objects.select_related("user").get(pk=notice_id)
    body = (
        f"Bonjour {notice.user.full_name},\n\n{notice.text}\n\n"
        f"Voir le détail : {settings.BASE_URL}{notice.link}\n\n— Voix"
    )
    send_mail("Voix : un indicateur est passé sous sa cible", body, None, [notice.user.email])
    return notice.user.email


@transaction.atomic
def mark_notice_read(user, notice: Notice) -> Notice:
    """Mark one of *user*'s messages as read (idempotent)."""
    from django.utils import timezone

    if notice.user_id != user.pk:
        raise ValidationError("Ce message ne vous est pas adressé.")
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def format_value(value, unit: str, *, keep_decimal: bool = True, empty: str = "—") -> str:
    """« 85,5 % », « 12,0 minutes »; « 80 % » for a round target with keep_decimal=False.

    The one French number format of Voix's results (pages, charts, poster, e-mails).
    """
    if value is None:
        return empty
    text = f"{round_value(value):.1f}".replace(".", ",")
    if not keep_decimal and text.endswith(",0"):
        text = text[:-2]
    return f"{text} {Unit(unit).label}"


# ----- registry of data sources --------------------------------------------------------

SourceFunction = Callable[..., object]
SOURCES: dict[str, SourceFunction] = {}
MANY_SOURCES: dict[str, SourceFunction] = {}


def register_source(key: str, function: SourceFunction, *, many: SourceFunction = None) -> None:
    """Plug a data source in: indicators whose ``source`` is *key* are computed with it.

    ``function(organisation, site_or_None, period_kind, period_start, period_end)`` returns
    either an iterable of rows ``(site, channel, numerator, denominator, sample)`` — site
    None for the whole organisation, sample None to use the denominator — or a single value
    for the asked scope (whole organisation when site is None, no channel).

    Optionally, ``many(organisation, site_or_None, period_kind, [(start, end), …])`` computes
    several periods at once (e.g. one GROUP BY month instead of one query per period) and
    returns ``{period_start: result}`` (a period left out has no rows); :func:`recompute`
    then uses it instead of calling *function* once per period.
    """
    SOURCES[key] = function
    if many is None:
        MANY_SOURCES.pop(key, None)
    else:
        MANY_SOURCES[key] = many


def unregister_source(key: str) -> None:
    SOURCES.pop(key, None)
    MANY_SOURCES.pop(key, None)


@dataclass
class RecomputeReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0

    def count(self, outcome: str):
        setattr(self, outcome, getattr(self, outcome) + 1)


def computable_indicators(organisation):
    return Indicator.objects.filter(
        Q(organisation=organisation) | Q(organisation__isnull=True), source__in=list(SOURCES)
    )


def recompute(indicator, organisation, period_kind: str, starts, *, site=None) -> RecomputeReport:
    """Compute the given periods of one indicator (or all computable ones when None) for an
    organisation through the registry, and upsert them.

    Idempotent (a second run reports everything unchanged, writes nothing) and incremental
    (only *starts*). Same rules as :func:`save_measurement`, in bulk: per indicator, the
    source is asked for every period, the existing measurements of those periods are read
    in one query, new ones are inserted and changed ones updated in bulk. The below-target
    state of each scope is then checked once, against the newest period written there
    (older periods never move it, see :func:`check_target`): one recompute of a year tells
    the quality leads about the current state, not about every past crossing.
    """
    indicators = [indicator] if indicator is not None else list(computable_indicators(organisation))
    report = RecomputeReport()
    bounds = []
    for start in starts:
        start = periods.period_start(period_kind, start)
        bounds.append((start, periods.period_end(period_kind, start)))
    with transaction.atomic():
        for each in indicators:
            function = SOURCES.get(each.source)
            if function is None:
                continue
            many = MANY_SOURCES.get(each.source)
            if many is not None:
                results = many(organisation, site, period_kind, bounds) or {}
                found = [(start, results.get(start)) for start, _end in bounds]
            else:
                found = [
                    (start, function(organisation, site, period_kind, start, end))
                    for start, end in bounds
                ]
            collected = [(start, row) for start, result in found for row in _rows(result, site)]
            written = _upsert_rows(each, organisation, period_kind, collected, report)
            _check_targets(each, organisation, written)
    return report


def _rows(result, site):
    if result is None:
        return []
    if isinstance(result, (int, float, Decimal)):
        return [(site, "", None, None, None, result)]
    return [(*row, None) if len(row) == 5 else tuple(row) for row in result]


COMPARED = ["value", "sample", "numerator", "denominator", "provenance", "source_ref"]


def _upsert_rows(indicator, organisation, period_kind, collected, report) -> list[Measurement]:
    """Upsert the source rows [(period_start, row)] of one indicator in bulk, in their order
    (a row repeated later overrides the earlier one, as successive saves would); count each
    row in *report*. Returns the measurements written (inserted or changed)."""
    source_ref = f"source:{indicator.source}"
    now = timezone.now()
    starts = {start for start, _row in collected}
    # Existing rows as plain tuples: a model instance is built only for a row that changes.
    current = {
        (site_id, channel, start): (pk, dict(zip(COMPARED, stored, strict=True)))
        for pk, site_id, channel, start, *stored in Measurement.objects.filter(
            indicator=indicator,
            organisation=organisation,
            period_kind=period_kind,
            period_start__in=starts,
        ).values_list("pk", "site_id", "channel", "period_start", *COMPARED)
    }
    created, updated = {}, {}
    for start, (site, channel, numerator, denominator, sample, value) in collected:
        if value is None:
            value = compute_value(indicator.computation, numerator, denominator)
            if value is None:
                report.count("skipped")  # nothing was measured for this scope
                continue
        if site is not None and site.organisation_id != organisation.pk:
            raise ValidationError(f"Le site « {site} » n'appartient pas à « {organisation} ».")
        channel = channel or ""
        wanted = _wanted(value, sample, numerator, denominator, Provenance.COMPUTED, source_ref)
        key = (site and site.pk, channel, start)
        pk, stored = current.get(key, (None, None))
        if stored is not None and stored == wanted:
            report.count("unchanged")
            continue
        current[key] = (pk, wanted)
        measurement = created.get(key) or updated.get(key)
        if measurement is None:
            # Built with the objects at hand, so that the alert reads them without a query.
            measurement = Measurement(
                pk=pk,
                indicator=indicator,
                organisation=organisation,
                site=site,
                channel=channel,
                period_kind=period_kind,
                period_start=start,
            )
            (created if pk is None else updated)[key] = measurement
        report.count("created" if stored is None else "updated")
        for name, field_value in wanted.items():
            setattr(measurement, name, field_value)
        measurement.recorded_at = now
    Measurement.objects.bulk_create(list(created.values()), batch_size=500)
    _rewrite(list(updated.values()))
    return [*created.values(), *updated.values()]


def _rewrite(changed: list[Measurement], batch: int = 500) -> None:
    """Write changed measurements back under their own ids: delete then insert again, in
    the caller's transaction. Same result as an UPDATE of every field, without the large
    CASE … WHEN statements of bulk_update (5 880 changed rows: ~7 s → under 1 s). Nothing
    points to a measurement and no signal listens to it, so the delete is one statement."""
    for index in range(0, len(changed), batch):
        chunk = changed[index : index + batch]
        Measurement.objects.filter(pk__in=[m.pk for m in chunk]).delete()
        Measurement.objects.bulk_create(chunk)


def _check_targets(indicator, organisation, written: list[Measurement]) -> None:
    """:func:`check_target` in bulk for one indicator of an organisation: each scope once,
    with its newest significant period written (the older ones would not move its state)."""
    newest = {}
    for measurement in written:
        if measurement.sample < indicator.min_sample:
            continue  # not significant: moves nothing
        scope = (measurement.site_id, measurement.channel)
        if scope not in newest or measurement.period_start >= newest[scope].period_start:
            newest[scope] = measurement
    if not newest:
        return
    targets = list(
        Target.objects.filter(indicator=indicator, organisation=organisation).order_by(
            "-valid_from"
        )
    )
    TargetCrossing.objects.bulk_create(
        [
            TargetCrossing(
                indicator=indicator, organisation=organisation, site_id=site_id, channel=channel
            )
            for site_id, channel in newest
        ],
        ignore_conflicts=True,
    )
    # Lock the rows: two concurrent writes for one scope must not both alert.
    crossings = {
        (crossing.site_id, crossing.channel): crossing
        for crossing in TargetCrossing.objects.select_for_update().filter(
            indicator=indicator, organisation=organisation
        )
    }
    now = timezone.now()
    moved, alerts = [], []
    for scope, measurement in newest.items():
        crossing = crossings[scope]
        if not _moves(crossing, measurement):
            continue
        target = _target_in_force(targets, measurement)
        if _advance(crossing, measurement, target):
            alerts.append((measurement, target))
        crossing.changed_at = now
        moved.append(crossing)
    TargetCrossing.objects.bulk_update(
        moved, ["below", "last_value", "last_period_start", "changed_at"], batch_size=500
    )
    for measurement, target in alerts:
        _notify_below_target(measurement, target)


def _target_in_force(targets: list[Target], measurement: Measurement) -> Target | None:
    """:func:`target_for` among an indicator's targets already read (newest first): the
    site's own in force on the period's last day, else the organisation's."""
    last_day = periods.period_end(measurement.period_kind, measurement.period_start) - timedelta(
        days=1
    )
    in_force = [t for t in targets if t.valid_from <= last_day]
    if measurement.site_id is not None:
        own = [t for t in in_force if t.site_id == measurement.site_id]
        if own:
            return own[0]
    return next((t for t in in_force if t.site_id is None), None)


# ----- manual entry --------------------------------------------------------------------


def indicators_for(organisation):
    """Indicators an organisation may measure: the national catalogue and its own."""
    return Indicator.objects.filter(Q(organisation=organisation) | Q(organisation__isnull=True))


@transaction.atomic
def enter_measurement(
    actor,
    indicator: Indicator,
    organisation,
    *,
    period: str,
    value=None,
    sample=None,
    numerator=None,
    denominator=None,
    site=None,
    channel: str = "",
) -> Measurement:
    """Record one value typed by a quality lead (value, or numerator and denominator)."""
    if indicator.organisation_id not in (None, organisation.pk):
        raise ValidationError({"indicator": "Cet indicateur n'appartient pas à cet organisme."})
    if site is not None and site.organisation_id != organisation.pk:
        raise ValidationError({"site": f"Ce site n'appartient pas à « {organisation} »."})
    try:
        period_kind, start = parse_period(period)
    except ValueError as error:
        raise ValidationError({"period": str(error)}) from error
    measurement, outcome = save_measurement(
        indicator,
        organisation,
        period_kind=period_kind,
        period_start=start,
        value=value,
        sample=sample,
        numerator=numerator,
        denominator=denominator,
        site=site,
        channel=channel,
        provenance=Provenance.MANUAL,
        source_ref=f"saisie:{actor.pk if actor else ''}",
    )
    record_event(
        actor,
        "mesure.saisie",
        measurement,
        organisation=organisation,
        changes={
            "indicateur": indicator.code,
            "période": periods.label(period_kind, start),
            "site": site and site.pk,
            "canal": channel,
            "valeur": str(measurement.value),
            "effectif": measurement.sample,
            "résultat": outcome,
        },
    )
    return measurement


# ----- periods in French ---------------------------------------------------------------


def _plain(text: str) -> str:
    """Lower case, no accents, no surrounding spaces: how headers and words are compared."""
    decomposed = unicodedata.normalize("NFKD", str(text).strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


MONTH_NUMBERS = {_plain(name): number for number, name in enumerate(periods.MONTHS, 1)}


def parse_period(text: str) -> tuple[str, date]:
    """periods.parse, plus the French words people type: « mars 2026 », « T1 2026 »."""
    words = _plain(text).split()
    if len(words) == 2 and words[0] in MONTH_NUMBERS and words[1].isdigit():
        return PeriodKind.MONTH, date(int(words[1]), MONTH_NUMBERS[words[0]], 1)
    if len(words) == 2 and words[0] in {"t1", "t2", "t3", "t4"} and words[1].isdigit():
        return PeriodKind.QUARTER, date(int(words[1]), 3 * (int(words[0][1]) - 1) + 1, 1)
    return periods.parse(text)


# ----- import --------------------------------------------------------------------------

COLUMNS = [
    "indicateur",
    "periode",
    "site",
    "canal",
    "valeur",
    "unite",
    "effectif",
    "numerateur",
    "denominateur",
]
COLUMN_LABELS = {
    "indicateur": "indicateur",
    "periode": "période",
    "site": "site",
    "canal": "canal",
    "valeur": "valeur",
    "unite": "unité",
    "effectif": "effectif",
    "numerateur": "numérateur",
    "denominateur": "dénominateur",
}
UNIT_WORDS = {
    Unit.PERCENT: {"%", "percent", "pourcentage", "pourcent", "pct"},
    Unit.MINUTES: {"minutes", "minute", "min", "mn"},
    Unit.WORKING_DAYS: {"working_days", "jours ouvres", "jour ouvre", "jours"},
    Unit.SCORE10: {"score10", "note sur 10", "/10", "note"},
    Unit.COUNT: {"count", "nombre", "nb"},
}


@dataclass
class ImportError_:
    line: int
    column: str
    reason: str


@dataclass
class ImportResult:
    filename: str
    errors: list[ImportError_] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def lines(self) -> int:
        return self.created + self.updated + self.unchanged

    def report_csv(self) -> str:
        """The rejection report, as a CSV the user can open next to their file."""
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["fichier", "ligne", "colonne", "motif"])
        for error in self.errors:
            writer.writerow([self.filename, error.line, error.column, error.reason])
        return out.getvalue()


def _read_table(content: bytes, filename: str) -> list[list[str]]:
    """The file's rows as lists of text (CSV in UTF-8 or Windows-1252, ; or , — or XLSX)."""
    if filename.lower().endswith(".xlsx") or content[:2] == b"PK":
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as error:
            raise ValueError("le classeur XLSX ne peut pas être lu.") from error
        sheet = book.worksheets[0]
        rows = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(["" if cell is None else _cell_text(cell) for cell in row])
        book.close()
        return rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _cell_text(cell) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if hasattr(cell, "strftime"):
        return cell.strftime("%Y-%m-%d")
    return str(cell)


def _number(text: str) -> Decimal:
    cleaned = text.replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    cleaned = cleaned.rstrip("%")
    try:
        number = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError from error
    if not number.is_finite():
        raise ValueError
    return number


@dataclass
class _Row:
    line: int
    indicator: Indicator
    period_kind: str
    start: date
    site: Site | None
    channel: str
    value: Decimal
    sample: int
    numerator: Decimal | None
    denominator: Decimal | None


def validate_import(organisation, content: bytes, filename: str):
    """Read and check the whole file; return (rows, errors). Writes nothing."""
    result_errors: list[ImportError_] = []

    def error(line, column, reason):
        result_errors.append(ImportError_(line, COLUMN_LABELS.get(column, column), reason))

    try:
        table = _read_table(content, filename)
    except ValueError as problem:
        error(1, "", str(problem))
        return [], result_errors
    if not table:
        error(1, "", "le fichier est vide.")
        return [], result_errors
    header = [_plain(cell) for cell in table[0]]
    positions = {name: index for index, name in enumerate(header) if name in COLUMNS}
    for required in ("indicateur", "periode"):
        if required not in positions:
            error(1, required, f"colonne « {COLUMN_LABELS[required]} » absente de l'en-tête.")
    if "valeur" not in positions and not {"numerateur", "denominateur"} <= set(positions):
        error(1, "valeur", "colonne « valeur » (ou « numérateur » et « dénominateur ») absente.")
    if result_errors:
        return [], result_errors

    catalogue = {}
    for indicator in indicators_for(organisation):
        # The organisation's own indicator wins over a national one with the same code.
        if indicator.organisation_id is not None or indicator.code not in catalogue:
            catalogue[indicator.code] = indicator
    sites = {site.slug: site for site in organisation.sites.all()}
    rows, seen = [], {}
    for line, raw in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in raw):
            continue

        def cell(name, raw=raw):
            index = positions.get(name)
            return raw[index].strip() if index is not None and index < len(raw) else ""

        before = len(result_errors)
        code = cell("indicateur")
        indicator = catalogue.get(code)
        if not code:
            error(line, "indicateur", "code d'indicateur manquant.")
        elif indicator is None:
            error(line, "indicateur", f"indicateur « {code} » inconnu.")
        kind = start = None
        try:
            kind, start = parse_period(cell("periode"))
        except ValueError as problem:
            error(line, "periode", str(problem))
        site = None
        if cell("site"):
            site = sites.get(cell("site"))
            if site is None:
                error(line, "site", f"aucun site « {cell('site')} » dans « {organisation} ».")
        unit = _plain(cell("unite"))
        if unit and indicator is not None and unit not in UNIT_WORDS[Unit(indicator.unit)]:
            error(
                line,
                "unite",
                f"unité « {cell('unite')} » différente de celle de l'indicateur "
                f"(« {Unit(indicator.unit).label} »).",
            )
        numbers = {}
        for name in ("valeur", "effectif", "numerateur", "denominateur"):
            if cell(name):
                try:
                    numbers[name] = _number(cell(name))
                except ValueError:
                    error(line, name, f"« {cell(name)} » n'est pas un nombre.")
                    continue
                if numbers[name] < 0:
                    error(line, name, "un nombre négatif n'est pas possible ici.")
        if "effectif" in numbers and numbers["effectif"] != numbers["effectif"].to_integral():
            error(line, "effectif", "l'effectif est un nombre entier.")
        if len(result_errors) > before or indicator is None:
            continue
        value = numbers.get("valeur")
        computed = compute_value(
            indicator.computation, numbers.get("numerateur"), numbers.get("denominateur")
        )
        if value is None:
            value = computed
        if value is None:
            error(line, "valeur", "valeur manquante (ni valeur, ni numérateur et dénominateur).")
            continue
        if indicator.unit == Unit.PERCENT and value > 100:
            error(line, "valeur", f"un pourcentage ne dépasse pas 100 (lu : {cell('valeur')}).")
            continue
        key = (indicator.pk, site and site.pk, cell("canal"), kind, start)
        if key in seen:
            error(line, "periode", f"même indicateur, période et lieu qu'à la ligne {seen[key]}.")
            continue
        seen[key] = line
        denominator = numbers.get("denominateur")
        sample = numbers.get("effectif")
        if sample is None:
            sample = denominator if denominator is not None else 0
        rows.append(
            _Row(
                line,
                indicator,
                kind,
                start,
                site,
                cell("canal"),
                value,
                int(sample),
                numbers.get("numerateur"),
                denominator,
            )
        )
    return rows, result_errors


def import_measurements(actor, organisation, content: bytes, filename: str) -> ImportResult:
    """Import a CSV or XLSX of measurements: the whole file lands, or nothing does.

    Every line is checked first; one bad line rejects the file with a report (line, column,
    reason). A good file is upserted (re-importing it changes nothing) and audited once.
    """
    result = ImportResult(filename=filename)
    rows, errors = validate_import(organisation, content, filename)
    if errors:
        result.errors = errors
        return result
    with transaction.atomic():
        for row in rows:
            _measurement, outcome = save_measurement(
                row.indicator,
                organisation,
                period_kind=row.period_kind,
                period_start=row.start,
                value=row.value,
                sample=row.sample,
                numerator=row.numerator,
                denominator=row.denominator,
                site=row.site,
                channel=row.channel,
                provenance=Provenance.IMPORTED,
                source_ref=f"import:{filename}"[:200],
            )
            setattr(result, outcome, getattr(result, outcome) + 1)
        record_event(
            actor,
            "mesures.importées",
            organisation,
            organisation=organisation,
            changes={
                "fichier": filename,
                "lignes": result.lines,
                "créées": result.created,
                "modifiées": result.updated,
                "inchangées": result.unchanged,
            },
        )
    return result


# ----- reading: results per period, aggregated -----------------------------------------


@dataclass
class Result:
    """One figure of a scope for one period, as the pilotage pages show it."""

    period_kind: str
    start: date
    value: Decimal | None
    sample: int
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    min_sample: int = 0

    @property
    def label(self) -> str:
        return periods.label(self.period_kind, self.start)

    @property
    def significant(self) -> bool:
        return self.value is not None and self.sample >= self.min_sample


def aggregate(indicator: Indicator, kind: str, start: date, measurements) -> Result:
    """The result of one period from the measurements inside it.

    A measurement of that very period wins. Otherwise months are combined: numerators and
    denominators are summed when every month has them (a quarter of 171/200, 90/100 and
    160/200 is 421/500 = 84.2 %, not the mean of the three rates); failing that, values are
    averaged weighted by their samples.
    """
    own = [m for m in measurements if m.period_kind == kind and m.period_start == start]
    if own:
        m = own[0]
        return Result(
            kind, start, m.value, m.sample, m.numerator, m.denominator, indicator.min_sample
        )
    months = [m for m in measurements if m.period_kind == PeriodKind.MONTH]
    if not months:
        return Result(kind, start, None, 0, min_sample=indicator.min_sample)
    sample = sum(m.sample for m in months)
    if all(m.numerator is not None and m.denominator is not None for m in months):
        numerator = sum(m.numerator for m in months)
        denominator = sum(m.denominator for m in months)
        value = compute_value(indicator.computation, numerator, denominator)
        return Result(kind, start, value, sample, numerator, denominator, indicator.min_sample)
    weight = sum(m.sample for m in months)
    if weight:
        value = round_value(sum(m.value * m.sample for m in months) / weight)
    else:
        value = round_value(sum(m.value for m in months) / len(months))
    return Result(kind, start, value, sample, min_sample=indicator.min_sample)


def results(
    indicator: Indicator, organisation, kind: str, starts, *, site=None, channel: str = ""
) -> list[Result]:
    """One Result per period start (oldest first) for a scope: organisation or site, and
    one channel or all channels ("")."""
    if not starts:
        return []
    first, last_end = starts[0], periods.period_end(kind, starts[-1])
    rows = list(
        Measurement.objects.filter(
            indicator=indicator,
            organisation=organisation,
            site=site,
            channel=channel,
            period_start__gte=first,
            period_start__lt=last_end,
            period_kind__in=[kind, PeriodKind.MONTH],
        )
    )
    out = []
    for start in starts:
        end = periods.period_end(kind, start)
        inside = [m for m in rows if start <= m.period_start < end]
        out.append(aggregate(indicator, kind, start, inside))
    return out


def latest_start(indicator, organisation, kind: str, *, site=None, channel: str = ""):
    """The start of the most recent period of *kind* with data for the scope (or None)."""
    latest = (
        Measurement.objects.filter(
            indicator=indicator,
            organisation=organisation,
            site=site,
            channel=channel,
            period_kind__in=[kind, PeriodKind.MONTH],
        )
        .order_by("-period_start")
        .values_list("period_start", flat=True)
        .first()
    )
    return None if latest is None else periods.period_start(kind, latest)


STATES = {
    "atteint": ("Atteint", "success"),
    "surveiller": ("À surveiller", "warning"),
    "non_atteint": ("Non atteint", "error"),
}


def state(indicator: Indicator, value, target) -> str:
    """« atteint » when the target is met, « surveiller » when it is missed but the amber
    threshold is met, « non_atteint » otherwise (thresholds alone without a target)."""
    if value is None:
        return ""
    if target is not None:
        if indicator.is_better(value, target):
            return "atteint"
        return (
            "surveiller"
            if indicator.is_better(value, indicator.amber_threshold)
            else ("non_atteint")
        )
    colour = indicator.colour(value)
    return {"vert": "atteint", "orange": "surveiller", "rouge": "non_atteint"}[colour]
