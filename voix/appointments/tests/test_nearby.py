"""« Votre commune ou code postal »: the gazetteer (load_communes) and the nearest sites."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from voix.appointments import nearby, services
from voix.appointments.models import Mode
from voix.core import services as core_services
from voix.core.management.commands.load_communes import commune_search_name
from voix.core.models import Commune

DEMO_CSV = Path(__file__).resolve().parents[2] / "core" / "data" / "communes-demo.csv"


@pytest.fixture
def communes(db):
    call_command("load_communes", str(DEMO_CSV), stdout=StringIO())


def site_at(w, slug, name, commune, lat, lon):
    site = core_services.create_site(
        None,
        w.caf,
        name=name,
        slug=slug,
        kind="antenne",
        address="1 place de la Mairie",
        postcode="53000",
        commune=commune,
        insee_code="53130",
        latitude=lat,
        longitude=lon,
    )
    return site


# ----- search names and distances --------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Château-Gontier-sur-Mayenne", "chateau gontier sur mayenne"),
        ("ÉVRON", "evron"),
        ("  St-Berthevin ", "saint berthevin"),
        ("Bonchamp-lès-Laval", "bonchamp les laval"),
        ("L'Huisserie", "l huisserie"),
    ],
)
def test_search_names_ignore_case_accents_and_hyphens(raw, expected):
    assert commune_search_name(raw) == expected


def test_haversine_gives_the_distance_as_the_crow_flies():
    # Laval → Mayenne: about 30 km.
    assert 27 < nearby.haversine_km(48.0707, -0.7734, 48.3031, -0.6136) < 31
    assert nearby.haversine_km(48.0, -0.7, 48.0, -0.7) == 0


def test_a_commune_is_found_by_postcode_or_by_name_without_accents(communes):
    assert nearby.find_commune("53600").name == "Évron"
    assert nearby.find_commune("53 600").name == "Évron"
    assert nearby.find_commune("evron").name == "Évron"
    assert nearby.find_commune("chateau gontier").name == "Château-Gontier-sur-Mayenne"
    assert nearby.find_commune("st berthevin").name == "Saint-Berthevin"
    assert nearby.find_commune("Paris") is None
    assert nearby.find_commune("536") is None
    assert nearby.find_commune("") is None


def test_sites_are_sorted_nearest_first_and_those_without_coordinates_last(world, communes):
    craon = site_at(world, "craon", "Antenne de Craon", "Craon", 47.8483, -0.9489)
    mayenne = site_at(world, "mayenne", "Antenne de Mayenne", "Mayenne", 48.3031, -0.6136)
    laval = site_at(world, "laval", "Accueil de Laval", "Laval", 48.0707, -0.7734)
    unknown = site_at(world, "sans-gps", "Antenne sans coordonnées", "Laval", None, None)
    sites = [unknown, laval, craon, mayenne]
    ordered, commune = nearby.sort_sites(sites, "Ernée")
    assert commune.name == "Ernée"
    assert [item.site for item in ordered] == [mayenne, laval, craon, unknown]
    assert ordered[-1].distance_km is None
    ordered, commune = nearby.sort_sites(sites, "53200")  # Château-Gontier
    assert [item.site for item in ordered][:3] == [craon, laval, mayenne]


def test_without_a_match_sites_stay_in_alphabetical_order(world, communes):
    b = site_at(world, "b", "Bureau B", "Laval", 48.3, -0.6)
    a = site_at(world, "a", "Accueil A", "Laval", 47.8, -0.9)
    ordered, commune = nearby.sort_sites([b, a], "Atlantide")
    assert commune is None
    assert [item.site for item in ordered] == [a, b]


def test_the_site_step_sorts_by_commune_and_says_so(world, client, communes):
    mayenne = site_at(world, "mayenne", "Antenne de Mayenne", "Mayenne", 48.3031, -0.6136)
    craon = site_at(world, "craon", "Antenne de Craon", "Craon", 47.8483, -0.9489)
    services.save_reason(None, world.caf, world.rdv_reason, sites=[world.site, mayenne, craon])
    url = reverse(
        "appointments:public_site", args=[world.caf.slug, world.rdv_reason.pk, Mode.ON_SITE]
    )
    html = client.get(url, {"commune": "Gorron"}).content.decode()
    assert "du plus proche au plus éloigné de <strong>Gorron</strong>" in html
    assert html.index("Antenne de Mayenne") < html.index("Antenne de Craon")
    assert "distance inconnue" in html  # the siège has no coordinates
    html = client.get(url, {"commune": "Craon"}).content.decode()
    assert html.index("Antenne de Craon") < html.index("Antenne de Mayenne")
    html = client.get(url, {"commune": "Atlantide"}).content.decode()
    assert "Nous n'avons pas trouvé la commune « Atlantide »" in html
    assert html.index("Antenne de Craon") < html.index("Antenne de Mayenne")  # alphabetical


# ----- load_communes ---------------------------------------------------------------------


def test_the_demo_file_loads_every_commune_with_its_search_name(communes):
    assert Commune.objects.count() == 17
    laval = Commune.objects.get(insee_code="53130")
    assert (laval.name, laval.postcode, laval.latitude, laval.longitude) == (
        "Laval",
        "53000",
        48.0707,
        -0.7734,
    )
    assert Commune.objects.get(insee_code="53062").search_name == "chateau gontier sur mayenne"


def test_loading_again_updates_rather_than_duplicates(communes, tmp_path):
    path = tmp_path / "communes.csv"
    path.write_text(
        "insee_code,name,postcode,latitude,longitude\n53130,Laval,53000,48.07,-0.77\n"
        "53999,Commune-Test,53999,48.1,-0.5\n",
        encoding="utf-8",
    )
    call_command("load_communes", str(path), stdout=StringIO())
    assert Commune.objects.count() == 18
    assert Commune.objects.get(insee_code="53130").latitude == 48.07
    assert Commune.objects.get(insee_code="53999").search_name == "commune test"


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "insee_code;name;postcode;latitude;longitude\n53130;Laval;53000;48.07;-0.77\n"
            "53147;Mayenne;53100;quarante-huit;-0.61\n",
            "ligne 3, colonne 4 (latitude) : « quarante-huit » n'est pas un nombre",
        ),
        (
            "insee_code;name;postcode;latitude;longitude\n53130;Laval;530;48.07;-0.77\n",
            "ligne 2, colonne 3 (postcode)",
        ),
        (
            "insee_code;name;postcode;latitude;longitude\n53130;Laval;53000;148.07;-0.77\n",
            "ligne 2, colonne 4 (latitude) : « 148.07 » doit être compris entre -90 et 90",
        ),
        (
            "insee_code;name;postcode;latitude\n53130;Laval;53000;48.07\n",
            "ligne 1 : colonne manquante : longitude",
        ),
        (
            "insee_code;name;postcode;latitude;longitude\n53130;Laval;53000;48.07\n",
            "ligne 2, colonne 5 (longitude) : valeur manquante",
        ),
        (
            "insee_code;name;postcode;latitude;longitude\n53130;Laval;53000;48.07;-0.77\n"
            "53130;Laval bis;53000;48.07;-0.77\n",
            "le code 53130 figure déjà ligne 2",
        ),
    ],
)
def test_bad_input_names_line_and_column_and_writes_nothing(db, tmp_path, content, message):
    path = tmp_path / "communes.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call_command("load_communes", str(path))
    assert message in str(error.value)
    assert "communes.csv" in str(error.value)
    assert not Commune.objects.exists()


def test_a_file_not_in_utf8_is_refused_in_french(db, tmp_path):
    path = tmp_path / "communes.csv"
    path.write_bytes(
        "insee_code;name;postcode;latitude;longitude\n53097;Évron;53600;48.15;-0.40\n".encode(
            "latin-1"
        )
    )
    with pytest.raises(CommandError, match="ligne 2 : le fichier n'est pas en UTF-8"):
        call_command("load_communes", str(path))
    assert not Commune.objects.exists()


def test_a_missing_file_is_named(db, tmp_path):
    with pytest.raises(CommandError, match="fichier introuvable"):
        call_command("load_communes", str(tmp_path / "absent.csv"))
