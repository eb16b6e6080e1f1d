"""Référentiels as YAML: validate, import (create or replace), export, adopt, local commitments.

The format is described in docs/frameworks.md. Validation reads the YAML *node tree*
(``yaml.compose``) rather than plain Python values, so every message can name the line of
the offending field. Nothing is written until the whole file is valid, and the writes run in
one transaction: an import lands whole or not at all.
"""

import re
from dataclasses import dataclass, field

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from voix.core.services import record_event

from .models import Commitment, CommitmentGroup, Criterion, Framework, Indicator

MAX_FILE_BYTES = 1_000_000
LOCAL_FRAMEWORK_CODE = "engagements-locaux"
LOCAL_GROUP_TITLE = "Nos engagements locaux"

TOP_FIELDS = {"code", "name", "version", "source", "description", "groups"}
GROUP_FIELDS = {"title", "commitments"}
COMMITMENT_FIELDS = {"number", "wording", "to_confirm", "criteria", "indicators"}

SLUG = re.compile(r"^[-a-z0-9_]+$")
NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
STR_TAG = "tag:yaml.org,2002:str"
TEXT_TAGS = {STR_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}


@dataclass
class CommitmentSpec:
    number: str
    wording: str
    to_confirm: bool
    criteria: list[str] = field(default_factory=list)
    # None when the file has no « indicators » field: the links are then left as they are
    # (for the national templates, the catalogue owns them).
    indicators: list[str] | None = None


@dataclass
class GroupSpec:
    title: str
    commitments: list[CommitmentSpec] = field(default_factory=list)


@dataclass
class FrameworkSpec:
    code: str
    name: str
    version: str = ""
    source: str = ""
    description: str = ""
    groups: list[GroupSpec] = field(default_factory=list)


# ----- validation -----------------------------------------------------------------------


def _line(node) -> int:
    return node.start_mark.line + 1


class _Reader:
    """Walks the node tree and collects every problem, each with its line and field."""

    def __init__(self):
        self.errors: list[str] = []

    def error(self, node, name, message):
        where = f"ligne {_line(node)}, champ « {name} »" if name else f"ligne {_line(node)}"
        self.errors.append(f"{where} : {message}")

    def mapping(self, node, name, allowed, required):
        """{key: (key node, value node)} of a mapping; unknown, doubled, missing keys reported."""
        if not isinstance(node, yaml.MappingNode):
            self.error(node, name, "un ensemble de champs « clé: valeur » est attendu")
            return None
        found = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.error(key_node, None, "nom de champ attendu")
            elif key in found:
                first = _line(found[key][0])
                self.error(key_node, key, f"champ en double (déjà présent ligne {first})")
            elif key not in allowed:
                permitted = ", ".join(sorted(allowed))
                self.error(key_node, key, f"champ inconnu (champs permis : {permitted})")
            else:
                found[key] = (key_node, value_node)
        for key in sorted(required - set(found)):
            self.error(node, key, "champ obligatoire manquant")
        return found

    def text(self, fields, key, *, max_length, required=False, blank=False):
        """A text field's value (stripped); "" when absent, None when of the wrong type."""
        if key not in fields:
            return ""
        node = fields[key][1]
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG:
            value = ""
        elif isinstance(node, yaml.ScalarNode) and node.tag in TEXT_TAGS:
            value = node.value.strip()
        else:
            self.error(node, key, "texte attendu")
            return None
        if not value and required and not blank:
            self.error(node, key, "ne peut pas être vide")
        elif len(value) > max_length:
            self.error(node, key, f"{max_length} caractères au plus (ici {len(value)})")
        return value

    def boolean(self, fields, key, default=False):
        if key not in fields:
            return default
        node = fields[key][1]
        if isinstance(node, yaml.ScalarNode) and node.tag == BOOL_TAG:
            return yaml.constructor.SafeConstructor.bool_values[node.value.lower()]
        self.error(node, key, "« true » ou « false » attendu")
        return None

    def sequence(self, fields, key, *, required=False):
        """The item nodes of a list field ([] when absent or wrong)."""
        if key not in fields:
            return []
        node = fields[key][1]
        if isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG and not required:
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.error(node, key, "une liste est attendue (lignes commençant par « - »)")
            return []
        if required and not node.value:
            self.error(node, key, "la liste ne peut pas être vide")
        return node.value

    def item_text(self, node, key, max_length=None):
        if isinstance(node, yaml.ScalarNode) and node.tag in TEXT_TAGS and node.value.strip():
            value = node.value.strip()
            if max_length and len(value) > max_length:
                self.error(node, key, f"{max_length} caractères au plus (ici {len(value)})")
            return value
        self.error(node, key, "texte non vide attendu")
        return None


YAML_PROBLEMS = {
    "mapping values are not allowed here": "« : » inattendu (indentation, ou guillemets manquants)",
    "could not find expected ':'": "« : » attendu après le nom du champ",
    "found character '\\t' that cannot start any token": "tabulation : indentez avec des espaces",
    "found unexpected end of stream": "fin de fichier inattendue (guillemet ou crochet non fermé)",
    "expected a single document in the stream": "un seul référentiel par fichier (« --- » en trop)",
    "found duplicate anchor": "ancre en double",
}


def _french_problem(problem: str) -> str:
    if problem in YAML_PROBLEMS:
        return YAML_PROBLEMS[problem]
    if problem.startswith("expected <block end>") or "indentation" in problem:
        return f"indentation incohérente ({problem})"
    return problem or "erreur inconnue"


def _compose(text):
    if isinstance(text, bytes):
        if len(text) > MAX_FILE_BYTES:
            raise ValidationError(["Le fichier dépasse 1 Mo : est-ce bien un référentiel ?"])
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError(
                [f"octet {exc.start + 1} : le fichier n'est pas encodé en UTF-8"]
            ) from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _french_problem(exc.problem or exc.context or "")
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1}" if mark else "fichier"
        raise ValidationError([f"{where} : syntaxe YAML invalide ({problem})"]) from exc
    except yaml.YAMLError as exc:
        raise ValidationError([f"syntaxe YAML invalide ({exc})"]) from exc
    if root is None:
        raise ValidationError(["Le fichier est vide : aucun référentiel à importer."])
    return root


def _known_indicators(organisation) -> dict[str, Indicator]:
    """Codes usable in this scope: the national catalogue, then the organisation's own."""
    rows = Indicator.objects.filter(Q(organisation=None) | Q(organisation=organisation))
    known = {}
    for indicator in rows.order_by("organisation_id"):  # NULL first: own ones win
        known[indicator.code] = indicator
    return known


def parse_framework(text, organisation=None) -> FrameworkSpec:
    """Read and check a référentiel file; raise ValidationError listing every problem."""
    root = _compose(text)
    reader = _Reader()
    top = reader.mapping(root, None, TOP_FIELDS, {"code", "name", "groups"})
    if top is None:
        raise ValidationError(reader.errors)
    spec = FrameworkSpec(
        code=reader.text(top, "code", max_length=60, required=True) or "",
        name=reader.text(top, "name", max_length=200, required=True) or "",
        version=reader.text(top, "version", max_length=40) or "",
        source=reader.text(top, "source", max_length=300) or "",
        description=reader.text(top, "description", max_length=5000) or "",
    )
    if spec.code and not SLUG.match(spec.code):
        message = "identifiant attendu (minuscules, chiffres, tirets ; sans accent)"
        reader.error(top["code"][1], "code", message)
    known = _known_indicators(organisation)
    numbers: dict[str, int] = {}
    for group_node in reader.sequence(top, "groups", required=True):
        group_fields = reader.mapping(group_node, "groups", GROUP_FIELDS, {"title"})
        if group_fields is None:
            continue
        title = reader.text(group_fields, "title", max_length=300, required=True)
        group = GroupSpec(title=title or "")
        for node in reader.sequence(group_fields, "commitments"):
            fields = reader.mapping(node, "commitments", COMMITMENT_FIELDS, {"number"})
            if fields is None:
                continue
            wording = reader.text(fields, "wording", max_length=2000, blank=True)
            commitment = CommitmentSpec(
                number=reader.text(fields, "number", max_length=10, required=True) or "",
                wording=wording or "",
                to_confirm=reader.boolean(fields, "to_confirm"),
            )
            # A field already reported wrong must not raise a second, derived complaint.
            checkable = wording == "" and commitment.to_confirm is False
            if commitment.number in numbers:
                first = numbers[commitment.number]
                message = f"numéro « {commitment.number} » déjà utilisé ligne {first}"
                reader.error(fields["number"][1], "number", message)
            elif commitment.number:
                numbers[commitment.number] = _line(fields["number"][1])
            if checkable and "number" in fields:
                reader.error(
                    fields.get("wording", fields["number"])[1],
                    "wording",
                    "formulation vide : saisissez-la, ou indiquez « to_confirm: true »",
                )
            for item in reader.sequence(fields, "criteria"):
                text_value = reader.item_text(item, "criteria")
                if text_value:
                    commitment.criteria.append(text_value)
            if "indicators" in fields:
                commitment.indicators = []
            for item in reader.sequence(fields, "indicators"):
                code = reader.item_text(item, "indicators", max_length=60)
                if code and code not in known:
                    reader.error(item, "indicators", f"indicateur « {code} » inconnu du catalogue")
                elif code:
                    commitment.indicators.append(code)
            group.commitments.append(commitment)
        spec.groups.append(group)
    if reader.errors:
        raise ValidationError(sorted(reader.errors, key=_line_of_message))
    return spec


def _line_of_message(message: str) -> int:
    match = re.match(r"ligne (\d+)", message)
    return int(match.group(1)) if match else 0


# ----- writes ---------------------------------------------------------------------------


def _write(spec: FrameworkSpec, organisation) -> tuple[Framework, bool]:
    """Create or update the framework in place: commitments keep their identity by number,
    so links to them (indicators, self-assessments) survive a re-import."""
    framework = (
        Framework.objects.select_for_update().filter(organisation=organisation, code=spec.code)
    ).first()
    created = framework is None
    if created:
        framework = Framework(organisation=organisation, code=spec.code)
    framework.name, framework.version = spec.name, spec.version
    framework.source, framework.description = spec.source, spec.description
    framework.save()
    framework.groups.all().delete()
    existing = {c.number: c for c in framework.commitments.all()}
    known = _known_indicators(organisation)
    kept, position = [], 0
    for group_position, group_spec in enumerate(spec.groups, start=1):
        group = CommitmentGroup.objects.create(
            framework=framework, position=group_position, title=group_spec.title
        )
        for item in group_spec.commitments:
            position += 1
            commitment = existing.get(item.number) or Commitment(
                framework=framework, number=item.number
            )
            commitment.group, commitment.position = group, position
            commitment.wording, commitment.to_confirm = item.wording, item.to_confirm
            commitment.save()
            _set_criteria(commitment, item.criteria)
            if item.indicators is not None:
                commitment.indicators.set([known[code] for code in item.indicators])
            kept.append(commitment.pk)
    framework.commitments.exclude(pk__in=kept).delete()
    return framework, created


def _set_criteria(commitment, texts):
    commitment.criteria.all().delete()
    Criterion.objects.bulk_create(
        Criterion(commitment=commitment, position=i, text=text)
        for i, text in enumerate(texts, start=1)
    )


def import_framework(actor, text, organisation=None) -> Framework:
    """Import a référentiel file (str or bytes) for *organisation* (None: national template).

    Creates the framework with that code in that scope, or replaces its content in place
    (importing the same content again writes nothing).
    Every problem is reported at once (ValidationError of French messages naming line and
    field); on any problem nothing is written.
    """
    spec = parse_framework(text, organisation)
    with transaction.atomic():
        current = Framework.objects.filter(organisation=organisation, code=spec.code).first()
        if current is not None and _same_content(current, spec, organisation):
            return current  # the same content again: nothing to write, nothing to audit
        framework, created = _write(spec, organisation)
        record_event(
            actor,
            "référentiel.importé",
            framework,
            organisation=organisation,
            changes={
                "code": spec.code,
                "création": created,
                "engagements": sum(len(g.commitments) for g in spec.groups),
            },
        )
    return framework


def _same_content(framework, spec, organisation) -> bool:
    stored = parse_framework(export_framework(framework), organisation)
    for stored_group, group in zip(stored.groups, spec.groups, strict=False):
        for stored_item, item in zip(stored_group.commitments, group.commitments, strict=False):
            if item.indicators is None:
                stored_item.indicators = None
    return stored == spec


def export_framework(framework: Framework) -> str:
    """The framework as a YAML file that import_framework reads back to the same content."""
    groups = list(framework.groups.prefetch_related("commitments__criteria"))
    commitments = framework.commitments.prefetch_related("criteria", "indicators")
    by_group: dict[int | None, list] = {}
    for commitment in commitments:
        by_group.setdefault(commitment.group_id, []).append(commitment)
    data = {"code": framework.code, "name": framework.name}
    if framework.version:
        data["version"] = framework.version
    if framework.source:
        data["source"] = framework.source
    if framework.description:
        data["description"] = framework.description
    blocks = [(g.title, by_group.get(g.pk, [])) for g in groups]
    if by_group.get(None):
        blocks.append(("Autres engagements", by_group[None]))
    data["groups"] = [
        {"title": title, "commitments": [_commitment_data(c) for c in items]}
        for title, items in blocks
    ]
    header = (
        f"# Référentiel « {framework.name} » exporté par Voix.\n"
        "# Format : docs/frameworks.md. Réimportable tel quel.\n"
    )
    return header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def _commitment_data(commitment):
    item = {
        "number": commitment.number,
        "wording": commitment.wording,
        "to_confirm": commitment.to_confirm,
        "criteria": [c.text for c in commitment.criteria.all()],
    }
    item["indicators"] = sorted(i.code for i in commitment.indicators.all())
    return item


@transaction.atomic
def adopt_framework(actor, framework: Framework, organisation) -> Framework:
    """Copy a national référentiel into *organisation* (export then import), so that the
    organisation can enter or confirm wordings. Refused when it already has that code."""
    if framework.organisation_id is not None:
        raise ValidationError("Seul un référentiel national peut être adopté.")
    if Framework.objects.filter(organisation=organisation, code=framework.code).exists():
        raise ValidationError(f"{organisation.name} a déjà adopté le référentiel « {framework} ».")
    copy = import_framework(actor, export_framework(framework), organisation)
    record_event(
        actor,
        "référentiel.adopté",
        copy,
        organisation=organisation,
        changes={"modèle": framework.code},
    )
    return copy


def local_framework(organisation) -> Framework | None:
    return Framework.objects.filter(organisation=organisation, code=LOCAL_FRAMEWORK_CODE).first()


def _next_local_number(framework) -> str:
    used = {c.number for c in framework.commitments.all()}
    n = 1
    while f"L{n}" in used:
        n += 1
    return f"L{n}"


def _check_wording(wording: str, to_confirm: bool):
    if not wording.strip() and not to_confirm:
        raise ValidationError(
            {"wording": "Saisissez la formulation publique, ou cochez « formulation à confirmer »."}
        )


@transaction.atomic
def add_local_commitment(
    actor, organisation, *, wording, criteria=(), indicators=(), to_confirm=False
) -> Commitment:
    """Add a commitment of the organisation's own (« Nous répondons à vos courriels en
    5 jours ouvrés ») to its local référentiel, created on first use; numbered L1, L2…"""
    _check_wording(wording, to_confirm)
    framework, _ = Framework.objects.get_or_create(
        organisation=organisation,
        code=LOCAL_FRAMEWORK_CODE,
        defaults={"name": f"Engagements locaux — {organisation.name}"[:200]},
    )
    group = framework.groups.first() or CommitmentGroup.objects.create(
        framework=framework, position=1, title=LOCAL_GROUP_TITLE
    )
    last = framework.commitments.order_by("-position").first()
    commitment = Commitment.objects.create(
        framework=framework,
        group=group,
        number=_next_local_number(framework),
        position=(last.position + 1) if last else 1,
        wording=wording.strip(),
        to_confirm=to_confirm,
    )
    _set_criteria(commitment, [c.strip() for c in criteria if c.strip()])
    commitment.indicators.set(indicators)
    record_event(
        actor,
        "engagement.ajouté",
        commitment,
        organisation=organisation,
        changes={"numéro": commitment.number, "formulation": commitment.wording},
    )
    return commitment


@transaction.atomic
def update_commitment(
    actor, commitment: Commitment, *, wording, to_confirm, criteria=None, indicators=None
) -> Commitment:
    """Change a commitment's public wording (and criteria, indicators) in a référentiel the
    organisation owns. National templates are never edited: adopt them first."""
    organisation = commitment.framework.organisation
    if organisation is None:
        raise ValidationError(
            "Un référentiel national ne se modifie pas : adoptez-le d'abord pour votre organisme."
        )
    _check_wording(wording, to_confirm)
    before = {"formulation": commitment.wording, "à confirmer": commitment.to_confirm}
    commitment.wording, commitment.to_confirm = wording.strip(), to_confirm
    commitment.save(update_fields=["wording", "to_confirm"])
    if criteria is not None:
        _set_criteria(commitment, [c.strip() for c in criteria if c.strip()])
    if indicators is not None:
        commitment.indicators.set(indicators)
    record_event(
        actor,
        "engagement.modifié",
        commitment,
        organisation=organisation,
        changes={
            "numéro": commitment.number,
            "formulation": [before["formulation"], commitment.wording],
            "à confirmer": [before["à confirmer"], commitment.to_confirm],
        },
    )
    return commitment
