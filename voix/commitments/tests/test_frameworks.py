"""Référentiels: YAML format (errors by line and field, nothing half-written, round trip),
shipped data, indicator catalogue, pages and form flows."""

from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from tests import pages  # noqa: F401  (the matrix imports the part lists: load it first)
from voix.commitments.catalogue import CATALOGUE_FILE, load_catalogue, load_shipped
from voix.commitments.frameworks import (
    LOCAL_FRAMEWORK_CODE,
    add_local_commitment,
    adopt_framework,
    export_framework,
    import_framework,
    update_commitment,
)
from voix.commitments.models import Commitment, CommitmentGroup, Criterion, Framework, Indicator
from voix.core.models import AuditEvent

from .pages_frameworks import SPP, caf_copy, shipped

SMALL = """\
code: accueil-local
name: Engagements de l'accueil
version: "1"
groups:
  - title: Accueil
    commitments:
      - number: "1"
        wording: Nous vous recevons en moins de 20 minutes
        criteria:
          - Un ticket est remis à l'entrée.
      - number: "2"
        wording: ""
        to_confirm: true
"""


def errors_of(text, organisation=None):
    with pytest.raises(ValidationError) as caught:
        import_framework(None, text, organisation)
    return caught.value.messages


# ----- YAML format ----------------------------------------------------------------------


def test_import_creates_groups_commitments_and_criteria_in_order(world):
    framework = import_framework(None, SMALL, world.caf)
    assert framework.organisation == world.caf
    assert [g.title for g in framework.groups.all()] == ["Accueil"]
    first, second = framework.commitments.all()
    assert (first.number, first.wording, first.to_confirm) == (
        "1",
        "Nous vous recevons en moins de 20 minutes",
        False,
    )
    assert [c.text for c in first.criteria.all()] == ["Un ticket est remis à l'entrée."]
    assert (second.wording, second.to_confirm) == ("", True)
    assert AuditEvent.objects.filter(action="référentiel.importé", organisation=world.caf).exists()


def test_export_then_import_gives_back_the_same_file(world):
    framework = import_framework(None, SMALL, world.caf)
    exported = export_framework(framework)
    again = import_framework(None, exported, world.other)
    assert export_framework(again) == exported
    assert yaml.safe_load(exported)["groups"][0]["commitments"][0]["criteria"] == [
        "Un ticket est remis à l'entrée."
    ]


def test_reimport_replaces_content_but_keeps_commitments_of_the_same_number(world):
    framework = import_framework(None, SMALL, world.caf)
    kept = framework.commitments.get(number="1")
    changed = SMALL.replace("moins de 20 minutes", "moins de 15 minutes").replace(
        '      - number: "2"\n        wording: ""\n        to_confirm: true\n', ""
    )
    again = import_framework(None, changed, world.caf)
    assert again.pk == framework.pk
    assert list(again.commitments.values_list("pk", "wording")) == [
        (kept.pk, "Nous vous recevons en moins de 15 minutes")
    ]
    assert Framework.objects.filter(code="accueil-local").count() == 1


def test_same_code_in_two_organisations_are_two_frameworks(world):
    import_framework(None, SMALL, world.caf)
    import_framework(None, SMALL, world.other)
    assert Framework.objects.filter(code="accueil-local").count() == 2


def test_wrong_type_names_line_and_field(world):
    text = SMALL.replace("wording: Nous vous recevons en moins de 20 minutes", "wording: [a, b]")
    assert errors_of(text) == ["ligne 8, champ « wording » : texte attendu"]


def test_missing_field_names_the_line_of_its_block(world):
    text = SMALL.replace("name: Engagements de l'accueil\n", "")
    assert errors_of(text) == ["ligne 1, champ « name » : champ obligatoire manquant"]


def test_unknown_field_and_bad_boolean_are_both_reported(world):
    text = SMALL.replace("to_confirm: true", "to_confirm: peut-être").replace(
        "criteria:", "critères:"
    )
    messages = errors_of(text)
    assert messages[0].startswith("ligne 9, champ « critères » : champ inconnu")
    assert messages[1] == "ligne 13, champ « to_confirm » : « true » ou « false » attendu"


def test_duplicate_number_points_to_the_first_one(world):
    text = SMALL.replace('number: "2"', 'number: "1"')
    assert errors_of(text) == ["ligne 11, champ « number » : numéro « 1 » déjà utilisé ligne 7"]


def test_empty_wording_must_be_flagged_to_confirm(world):
    text = SMALL.replace("to_confirm: true", "to_confirm: false")
    assert errors_of(text) == [
        "ligne 12, champ « wording » : formulation vide : saisissez-la, "
        "ou indiquez « to_confirm: true »"
    ]


def test_code_must_be_an_identifier_and_lengths_are_checked(world):
    text = SMALL.replace("code: accueil-local", "code: Accueil local").replace(
        'version: "1"', f"version: {'x' * 41}"
    )
    assert errors_of(text) == [
        "ligne 1, champ « code » : identifiant attendu "
        "(minuscules, chiffres, tirets ; sans accent)",
        "ligne 3, champ « version » : 40 caractères au plus (ici 41)",
    ]


def test_unknown_indicator_code_is_refused(world):
    text = SMALL.replace("        criteria:", "        indicators: [inconnu]\n        criteria:")
    assert errors_of(text) == [
        "ligne 9, champ « indicators » : indicateur « inconnu » inconnu du catalogue"
    ]


def test_yaml_syntax_error_gives_line_and_column(world):
    text = SMALL.replace("name: Engagements de l'accueil", "name: a: b")
    assert errors_of(text) == [
        "ligne 2, colonne 8 : syntaxe YAML invalide "
        "(« : » inattendu (indentation, ou guillemets manquants))"
    ]


def test_empty_file_and_bad_encoding_are_explained(world):
    assert errors_of("") == ["Le fichier est vide : aucun référentiel à importer."]
    assert errors_of("name: é".encode("latin-1")) == [
        "octet 7 : le fichier n'est pas encodé en UTF-8"
    ]


def test_invalid_file_writes_nothing_even_when_replacing(world):
    framework = import_framework(None, SMALL, world.caf)
    before = (
        Framework.objects.count(),
        CommitmentGroup.objects.count(),
        Commitment.objects.count(),
        Criterion.objects.count(),
        AuditEvent.objects.count(),
    )
    broken = SMALL.replace("moins de 20 minutes", "moins de 5 minutes").replace(
        'number: "2"', "number: [2]"
    )
    with pytest.raises(ValidationError):
        import_framework(None, broken, world.caf)
    after = (
        Framework.objects.count(),
        CommitmentGroup.objects.count(),
        Commitment.objects.count(),
        Criterion.objects.count(),
        AuditEvent.objects.count(),
    )
    assert after == before
    assert framework.commitments.get(number="1").wording.endswith("20 minutes")


# ----- shipped data and catalogue ---------------------------------------------------------


SPP_WORDINGS = {
    "1": "Dans le respect mutuel, vous êtes accueillis avec bienveillance et avez le droit à "
    "l'erreur",
    "2": "Vous pouvez facilement entrer en contact avec vos services publics",
    "3": "Vous bénéficiez d'un accompagnement adapté à votre situation personnelle",
    "4": "Votre demande est traitée dans les délais annoncés",
    "5": "Vous disposez d'une information claire, simple et accessible",
    "6": "Vous avez accès à nos résultats de qualité de service",
    "7": "Votre avis est pris en compte pour améliorer le service rendu",
}


def test_services_publics_plus_has_8_commitments_in_3_groups_with_exact_wordings(world):
    framework = shipped()
    assert [g.title for g in framework.groups.all()] == [
        "Un service public plus proche",
        "Un service public plus efficace",
        "Un service public plus simple",
    ]
    assert [
        list(g.commitments.values_list("number", flat=True)) for g in framework.groups.all()
    ] == [["1", "2", "3"], ["4", "5", "6"], ["7", "8"]]
    commitments = {c.number: c for c in framework.commitments.all()}
    for number, wording in SPP_WORDINGS.items():
        assert (commitments[number].wording, commitments[number].to_confirm) == (wording, False)
    eight = commitments["8"]
    assert eight.to_confirm is True
    assert "confirmer" in eight.wording
    assert commitments["4"].criteria.count() == 3


def test_marianne_has_12_empty_commitments_in_5_rubriques(world):
    framework = shipped("marianne-2016")
    groups = list(framework.groups.all())
    assert len(groups) == 5
    assert groups[0].title == (
        "Des informations qui répondent à vos attentes, des orientations efficaces"
    )
    assert groups[4].title == "Le service public s'engage auprès de ses agents"
    assert [g.commitments.count() for g in groups] == [3, 3, 2, 2, 2]
    assert list(groups[3].commitments.values_list("number", flat=True)) == ["9", "10"]
    assert set(framework.commitments.values_list("wording", "to_confirm")) == {("", True)}


def test_catalogue_carries_the_reference_targets(world):
    load_shipped()
    catalogue = {i.code: i for i in Indicator.objects.filter(organisation=None)}
    decroche = catalogue["decroche-agent"]
    assert (decroche.green_threshold, decroche.amber_threshold) == (Decimal(90), Decimal(85))
    jdma = catalogue["jdma-satisfaction"]
    assert (jdma.unit, jdma.green_threshold, jdma.amber_threshold, jdma.min_sample) == (
        "score10",
        Decimal(8),
        Decimal(5),
        100,
    )
    assert catalogue["jdma-aide-joignable"].green_threshold == Decimal(85)
    assert catalogue["allers-retours"].direction == "lower"
    assert "supposée" in catalogue["satisfaction-nette"].definition
    for code in ("satisfaction-globale", "satisfaction-nette", "jdma-clarte", "jdma-aide-efficace"):
        assert catalogue[code].min_sample == 100
    assert list(decroche.commitments.values_list("framework__code", "number")) == [(SPP, "2")]
    # A red value: below 85 % of calls handled.
    assert decroche.colour(Decimal("84.9")) == "rouge"


def test_loading_twice_changes_nothing(world):
    load_shipped()
    snapshot = sorted(
        Indicator.objects.values_list("code", "green_threshold", "amber_threshold", "min_sample")
    )
    counts = (Framework.objects.count(), Commitment.objects.count(), Criterion.objects.count())
    links = Indicator.commitments.through.objects.count()
    out = StringIO()
    call_command("load_frameworks", stdout=out)
    assert "8 engagements" in out.getvalue() and "12 engagements" in out.getvalue()
    assert (
        sorted(
            Indicator.objects.values_list(
                "code", "green_threshold", "amber_threshold", "min_sample"
            )
        )
        == snapshot
    )
    assert (Framework.objects.count(), Commitment.objects.count(), Criterion.objects.count()) == (
        counts
    )
    assert Indicator.commitments.through.objects.count() == links


def test_reloading_the_catalogue_keeps_an_organisation_copy_linked(world):
    copy = caf_copy(world)
    two = copy.commitments.get(number="2")
    assert "decroche-agent" in set(two.indicators.values_list("code", flat=True))
    load_catalogue()
    assert "decroche-agent" in set(two.indicators.values_list("code", flat=True))


# ----- adoption and local commitments -----------------------------------------------------


def test_adopting_copies_the_framework_and_refuses_twice(world):
    national = shipped()
    copy = adopt_framework(world.people["qualite"], national, world.caf)
    assert copy.organisation == world.caf and copy.pk != national.pk
    assert export_framework(copy) == export_framework(national)
    with pytest.raises(ValidationError):
        adopt_framework(None, national, world.caf)


def test_national_commitment_cannot_be_edited(world):
    eight = shipped().commitments.get(number="8")
    with pytest.raises(ValidationError):
        update_commitment(None, eight, wording="Nous sommes éco-responsables", to_confirm=False)


def test_local_commitments_are_numbered_in_their_own_framework(world):
    first = add_local_commitment(
        None, world.caf, wording="Nous répondons à vos courriels en 5 jours ouvrés"
    )
    second = add_local_commitment(None, world.caf, wording="Nous rappelons sous 48 heures")
    assert (first.number, second.number) == ("L1", "L2")
    assert first.framework == second.framework
    assert first.framework.code == LOCAL_FRAMEWORK_CODE
    assert first.framework.organisation == world.caf
    with pytest.raises(ValidationError):
        add_local_commitment(None, world.caf, wording="  ")


# ----- pages ------------------------------------------------------------------------------


def test_list_shows_national_frameworks_and_the_catalogue(world, client_for):
    load_shipped()
    html = client_for("qualite").get(reverse("commitments:frameworks")).content.decode()
    assert "Services Publics+" in html and "Référentiel Marianne" in html
    assert "Taux de décroché par un agent" in html
    assert "Adopter ce référentiel" in html


def test_detail_shows_commitments_criteria_and_to_confirm_badge(world, client_for):
    framework = shipped()
    html = (
        client_for("qualite")
        .get(reverse("commitments:framework_detail", args=[framework.pk]))
        .content.decode()
    )
    assert "Votre demande est traitée dans les délais annoncés" in html
    assert "à confirmer</span>" in html
    assert "Les appels téléphoniques ne sont pas surtaxés." in html
    assert "Modifier" not in html  # a national template is never edited in place


def test_import_page_lists_errors_by_line_and_saves_nothing(world, client_for):
    client = client_for("qualite")
    broken = SMALL.replace("to_confirm: true", "to_confirm: oui-non").encode()
    response = client.post(
        reverse("commitments:framework_import"),
        {"file": SimpleUploadedFile("accueil.yaml", broken)},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Fichier « accueil.yaml » refusé" in html
    assert "ligne 13, champ « to_confirm »" in html
    assert not Framework.objects.filter(code="accueil-local").exists()


def test_import_page_imports_for_the_organisation(world, client_for):
    response = client_for("qualite").post(
        reverse("commitments:framework_import"),
        {"file": SimpleUploadedFile("accueil.yaml", SMALL.encode())},
    )
    framework = Framework.objects.get(code="accueil-local")
    assert framework.organisation == world.caf
    assert response["Location"] == reverse("commitments:framework_detail", args=[framework.pk])


def test_adopt_then_confirm_commitment_8(world, client_for):
    client = client_for("qualite")
    national = shipped()
    response = client.post(reverse("commitments:framework_adopt", args=[national.pk]))
    copy = Framework.objects.get(organisation=world.caf, code=SPP)
    assert response["Location"] == reverse("commitments:framework_detail", args=[copy.pk])
    eight = copy.commitments.get(number="8")
    url = reverse("commitments:commitment_edit", args=[eight.pk])
    client.post(url, {"wording": "Nous sommes éco-responsables", "criteria": "Tri\n\nSobriété"})
    eight.refresh_from_db()
    assert (eight.wording, eight.to_confirm) == ("Nous sommes éco-responsables", False)
    assert [c.text for c in eight.criteria.all()] == ["Tri", "Sobriété"]
    assert national.commitments.get(number="8").to_confirm is True


def test_empty_wording_without_to_confirm_is_refused_on_the_form(world, client_for):
    eight = caf_copy(world).commitments.get(number="8")
    response = client_for("admin").post(
        reverse("commitments:commitment_edit", args=[eight.pk]), {"wording": ""}
    )
    assert response.status_code == 200
    assert "cochez « formulation à confirmer »" in response.content.decode()


def test_add_local_commitment_page_links_indicators(world, client_for):
    load_shipped()
    indicator = Indicator.objects.get(code="delai-reponse-courriel")
    response = client_for("qualite").post(
        reverse("commitments:local_commitment_add"),
        {
            "wording": "Nous répondons à vos courriels en 5 jours ouvrés",
            "indicators": [indicator.pk],
        },
    )
    commitment = Commitment.objects.get(framework__organisation=world.caf, number="L1")
    assert list(commitment.indicators.all()) == [indicator]
    assert response["Location"] == reverse(
        "commitments:framework_detail", args=[commitment.framework_id]
    )


def test_export_downloads_yaml(world, client_for):
    copy = caf_copy(world)
    response = client_for("admin").get(reverse("commitments:framework_export", args=[copy.pk]))
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert f'filename="{SPP}.yaml"' in response["Content-Disposition"]
    assert yaml.safe_load(response.content.decode())["code"] == SPP


def test_outsider_cannot_import_into_the_caf(world, client_for):
    response = client_for("outsider").get(
        reverse("commitments:framework_import") + f"?organisme={world.caf.slug}"
    )
    assert response.status_code == 404


def test_outsider_cannot_edit_a_caf_commitment(world, client_for):
    eight = caf_copy(world).commitments.get(number="8")
    response = client_for("outsider").post(
        reverse("commitments:commitment_edit", args=[eight.pk]), {"wording": "Piraté"}
    )
    assert response.status_code == 404
    eight.refresh_from_db()
    assert eight.wording.startswith("[À confirmer]")


def test_importing_the_same_content_again_writes_nothing(world):
    framework = import_framework(None, SMALL, world.caf)
    events = AuditEvent.objects.count()
    assert import_framework(None, SMALL, world.caf) == framework
    assert AuditEvent.objects.count() == events


def test_a_file_without_indicators_keeps_the_catalogue_links(world):
    national = shipped()
    two = national.commitments.get(number="2")
    linked = set(two.indicators.values_list("code", flat=True))
    assert {"decroche-agent", "jdma-aide-joignable"} <= linked
    text = (
        (CATALOGUE_FILE.parent / "services-publics-plus-2023.yaml")
        .read_text(encoding="utf-8")
        .replace("Les appels téléphoniques ne sont pas surtaxés.", "Appels non surtaxés.")
    )
    import_framework(None, text)
    assert set(two.indicators.values_list("code", flat=True)) == linked
    assert two.criteria.filter(text="Appels non surtaxés.").exists()
