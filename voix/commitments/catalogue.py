"""The national indicator catalogue (data/indicators.yaml): standard definitions, loaded
idempotently (update by code, organisation empty) and linked to the national commitments."""

from decimal import Decimal
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from voix.core.services import record_event

from .frameworks import import_framework
from .models import Commitment, Framework, Indicator

CATALOGUE_FILE = Path(__file__).parent / "data" / "indicators.yaml"
FIELDS = {
    "code",
    "label",
    "definition",
    "unit",
    "direction",
    "computation",
    "source",
    "green",
    "amber",
    "min_sample",
    "commitments",
}


def _commitments_for(code, links) -> list[Commitment]:
    """The national commitments an entry points to; a framework not loaded yet is skipped
    (load_frameworks loads the frameworks first), a wrong number is an error."""
    found = []
    for link in links or []:
        framework = Framework.objects.filter(organisation=None, code=link["framework"]).first()
        if framework is None:
            continue
        commitment = framework.commitments.filter(number=str(link["number"])).first()
        if commitment is None:
            raise ValidationError(
                f"indicateur « {code} » : pas d'engagement n° {link['number']} "
                f"dans le référentiel « {framework.code} »"
            )
        found.append(commitment)
    return found


@transaction.atomic
def load_catalogue(actor=None, path=CATALOGUE_FILE) -> list[Indicator]:
    """Create or update every standard indicator of the catalogue file (running it twice
    changes nothing). Organisations' own indicators and their targets are left alone."""
    entries = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["indicators"]
    loaded, changed = [], []
    for entry in entries:
        unknown = set(entry) - FIELDS
        if unknown:
            raise ValidationError(
                f"indicateur « {entry.get('code')} » : champ inconnu {', '.join(sorted(unknown))}"
            )
        indicator = Indicator.objects.filter(organisation=None, code=entry["code"]).first()
        indicator = indicator or Indicator(organisation=None, code=entry["code"])
        before = _state(indicator)
        indicator.label = entry["label"]
        indicator.definition = " ".join(entry["definition"].split())
        indicator.unit = entry["unit"]
        indicator.direction = entry["direction"]
        indicator.computation = entry["computation"]
        indicator.source = entry.get("source", "manual")
        indicator.green_threshold = Decimal(str(entry["green"]))
        indicator.amber_threshold = Decimal(str(entry["amber"]))
        indicator.min_sample = entry.get("min_sample", 0)
        try:
            indicator.full_clean(validate_constraints=False)
        except ValidationError as error:
            details = "; ".join(f"{k} : {' '.join(v)}" for k, v in error.message_dict.items())
            raise ValidationError(f"indicateur « {entry['code']} » : {details}") from error
        indicator.save()
        # Only the links to national commitments are the catalogue's: an organisation's
        # copies of a référentiel keep the links they carry.
        wanted = _commitments_for(entry["code"], entry.get("commitments"))
        stale = indicator.commitments.filter(framework__organisation=None).exclude(
            pk__in=[c.pk for c in wanted]
        )
        indicator.commitments.remove(*stale)
        indicator.commitments.add(*wanted)
        loaded.append(indicator)
        if _state(indicator) != before:
            changed.append(indicator.code)
    if changed:
        record_event(actor, "catalogue.chargé", None, changes={"indicateurs modifiés": changed})
    return loaded


def _state(indicator):
    """What loading may change on an entry, to audit only real changes."""
    if indicator.pk is None:
        return None
    fields = ("label", "definition", "unit", "direction", "computation", "source")
    values = tuple(getattr(indicator, name) for name in fields)
    numbers = tuple(
        Decimal(str(getattr(indicator, name)))
        for name in ("green_threshold", "amber_threshold", "min_sample")
    )
    links = frozenset(indicator.commitments.values_list("pk", flat=True))
    return values, numbers, links


SHIPPED = ["services-publics-plus-2023.yaml", "marianne-2016.yaml"]


def load_shipped(actor=None):
    """Import both shipped frameworks, then the catalogue (which links to them)."""
    frameworks = []
    with transaction.atomic():
        for name in SHIPPED:
            path = CATALOGUE_FILE.parent / name
            try:
                frameworks.append(import_framework(actor, path.read_text(encoding="utf-8")))
            except ValidationError as error:
                lines = "\n".join(f"  {name}, {m}" for m in error.messages)
                raise ValidationError(f"Fichier livré invalide :\n{lines}") from error
        indicators = load_catalogue(actor)
    return frameworks, indicators
