"""Retention periods of personal data: the registry of data types and the purge.

Each app that keeps personal data registers its types, usually in a module
``voix/<app>/retention.py`` (found automatically, like ``admin.py``) or from its
``AppConfig.ready()``::

    from voix.core.retention import register_data_type

    def purge_verbatims(organisation, cutoff, now) -> int:
        # erase what ``organisation`` recorded before ``cutoff``; return how many items
        ...

    register_data_type("verbatims", "Verbatims des enquêtes", 365, purge_verbatims)

An organisation may keep a type shorter or longer than the default
(``core.models.RetentionPeriod``, edited on the page ``core:retention``). The command
``manage.py purge_personal_data`` calls every purge function once per organisation, each
in its own transaction. A dry run (``--dry-run``, and the « simulation » of the page)
runs the same functions and rolls their transaction back: a purge function must therefore
only write to the database, and defer anything else (deleting files from storage) with
``transaction.on_commit``, which a rolled-back run never reaches.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from .models import Organisation, RetentionPeriod

logger = logging.getLogger(__name__)

MIN_DAYS = 30
MAX_DAYS = 3650

PurgeFunction = Callable[[Organisation, datetime, datetime], int]


@dataclass(frozen=True)
class DataType:
    """One kind of personal data kept by an app, with its default retention period."""

    key: str
    label: str
    default_days: int
    purge: PurgeFunction = field(compare=False)
    description: str = ""


@dataclass(frozen=True)
class PurgeLine:
    """What one purge function removed (or would remove) for one organisation."""

    organisation: Organisation
    data_type: DataType
    days: int
    cutoff: datetime
    count: int
    error: str = ""


_REGISTRY: dict[str, DataType] = {}
_discovered = False


def register_data_type(
    key: str, label: str, default_days: int, purge: PurgeFunction, *, description: str = ""
) -> DataType:
    """Declare a type of personal data, its default retention period (days) and how to purge
    it: ``purge(organisation, cutoff, now) -> int`` erases what ``organisation`` holds that is
    older than ``cutoff`` and returns how many items it erased. Registering the same key again
    replaces the previous declaration (modules may be imported twice)."""
    if not key or len(key) > 60:
        raise ValueError("La clé d'un type de données fait de 1 à 60 caractères.")
    if default_days < 1:
        raise ValueError("La durée par défaut est d'au moins un jour.")
    data_type = DataType(key, label, default_days, purge, description)
    _REGISTRY[key] = data_type
    return data_type


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        autodiscover_modules("retention")


def data_types() -> list[DataType]:
    """Every registered type, in the order of their labels."""
    _discover()
    return sorted(_REGISTRY.values(), key=lambda t: t.label.lower())


def get_data_type(key: str) -> DataType:
    _discover()
    try:
        return _REGISTRY[key]
    except KeyError:
        raise ValidationError(
            {"data_type": f"Type de données inconnu : « {key} »."}, code="unknown"
        ) from None


def periods(organisation: Organisation) -> dict[str, int]:
    """The period (days) of every registered type for ``organisation``, overrides applied."""
    overrides = dict(
        RetentionPeriod.objects.filter(organisation=organisation).values_list("data_type", "days")
    )
    return {t.key: overrides.get(t.key, t.default_days) for t in data_types()}


def period_for(organisation: Organisation, key: str) -> int:
    """How many days ``organisation`` keeps the data of type ``key``."""
    data_type = get_data_type(key)
    override = (
        RetentionPeriod.objects.filter(organisation=organisation, data_type=key)
        .values_list("days", flat=True)
        .first()
    )
    return override if override is not None else data_type.default_days


def cutoff_for(organisation: Organisation, key: str, now: datetime | None = None) -> datetime:
    """The instant before which the data of type ``key`` of ``organisation`` is purged."""
    now = now or timezone.now()
    return now - timedelta(days=period_for(organisation, key))


@transaction.atomic
def set_retention_period(actor, organisation: Organisation, key: str, days) -> int:
    """Set how long ``organisation`` keeps the data of type ``key``. Setting the default
    again removes the override, so that a later change of the default applies."""
    data_type = get_data_type(key)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationError(
            {"days": f"{data_type.label} : indiquez un nombre de jours."}, code="invalid"
        ) from None
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValidationError(
            {
                "days": f"{data_type.label} : la durée est comprise entre {MIN_DAYS} "
                f"et {MAX_DAYS} jours."
            },
            code="range",
        )
    before = period_for(organisation, key)
    if days == data_type.default_days:
        RetentionPeriod.objects.filter(organisation=organisation, data_type=key).delete()
    else:
        RetentionPeriod.objects.update_or_create(
            organisation=organisation, data_type=key, defaults={"days": days}
        )
    if before != days:
        from .services import record_event

        record_event(
            actor,
            "conservation.modifiée",
            organisation,
            organisation=organisation,
            changes={"type": key, "jours": [before, days]},
        )
    return days


class _DryRun(Exception):
    """Raised inside a dry run's transaction to roll it back."""


def _purge_one(data_type: DataType, organisation: Organisation, days, now, dry_run) -> PurgeLine:
    cutoff = now - timedelta(days=days)
    count = 0
    error = ""
    try:
        with transaction.atomic():
            count = int(data_type.purge(organisation, cutoff, now) or 0)
            if dry_run:
                raise _DryRun
            if count:
                from .services import record_event

                record_event(
                    None,
                    "données.purgées",
                    organisation,
                    organisation=organisation,
                    changes={
                        "type": data_type.key,
                        "nombre": count,
                        "jours": days,
                        "avant": cutoff.isoformat(),
                    },
                )
    except _DryRun:
        pass
    except Exception as exc:  # one failing purge must not stop the others
        logger.exception("Purge %s de %s en échec", data_type.key, organisation)
        count, error = 0, f"{type(exc).__name__} : {exc}"
    return PurgeLine(organisation, data_type, days, cutoff, count, error)


def purge_lines(
    now: datetime | None = None,
    dry_run: bool = False,
    organisations=None,
    keys=None,
) -> list[PurgeLine]:
    """Apply every retention period: one purge per (type, organisation), each in its own
    transaction: a failure rolls back that purge only, is logged and reported in its line's
    ``error``, and the others go on. ``dry_run`` counts without erasing.
    Idempotent: a second run at the same instant erases nothing more."""
    now = now or timezone.now()
    types = [t for t in data_types() if keys is None or t.key in keys]
    if organisations is None:
        organisations = Organisation.objects.order_by("name")
    overrides = {
        (org_id, key): days
        for org_id, key, days in RetentionPeriod.objects.values_list(
            "organisation_id", "data_type", "days"
        )
    }
    lines = []
    for organisation in organisations:
        for data_type in types:
            days = overrides.get((organisation.pk, data_type.key), data_type.default_days)
            lines.append(_purge_one(data_type, organisation, days, now, dry_run))
    return lines


def purge(now: datetime | None = None, dry_run: bool = False) -> dict[str, int]:
    """Apply every retention period to every organisation; the count per type."""
    totals = {t.key: 0 for t in data_types()}
    for line in purge_lines(now=now, dry_run=dry_run):
        totals[line.data_type.key] += line.count
    return totals
