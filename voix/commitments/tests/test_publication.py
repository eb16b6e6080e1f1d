"""Publication: aggregation by hand, the snapshot, publish/supersede/withdraw, and that the
page, the poster, the CSV and the JSON all show the same figures — and never a number
that is not significant."""

import csv
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from voix.commitments import poster, services
from voix.commitments import publication as service
from voix.commitments.models import Indicator, Publication
from voix.core.models import AuditEvent

Q1 = date(2025, 1, 1)


@pytest.fixture
def quarter_indicator(world):
    """Three months 120/150, 130/150, 140/150 at the siège: the quarter is 390/450 = 86.7 %."""
    indicator = Indicator.objects.create(
        code="reponse-courriel-5j",
        label="Réponse aux courriels en 5 jours ouvrés",
        definition="Part des courriels qui reçoivent une réponse en 5 jours ouvrés au plus.",
        unit="percent",
        direction="higher",
        computation="share_within",
        green_threshold=90,
        amber_threshold=80,
        min_sample=100,
    )
    services.set_target(None, indicator, world.caf, 85, valid_from=date(2024, 1, 1))
    for month, numerator in ((1, 120), (2, 130), (3, 140)):
        services.record_measurement(
            indicator,
            world.caf,
            site=world.site,
            period_kind="month",
            period_start=date(2025, month, 1),
            value=Decimal(numerator) / 150 * 100,
            sample=150,
            numerator=numerator,
            denominator=150,
        )
    return indicator


@pytest.fixture
def small_relay(world):
    """At the relay only 40 visits: below the minimum of 100, never shown as a number."""
    services.record_measurement(
        world.indicator,
        world.caf,
        site=world.relay,
        period_kind="quarter",
        period_start=Q1,
        value="62.5",
        sample=40,
        numerator=25,
        denominator=40,
    )


def result(publication, indicator, site):
    return publication.results.get(indicator=indicator, site=site)


def test_quarter_is_rebuilt_from_its_months_by_summing_numerators(world, quarter_indicator):
    draft = service.prepare_publication(world.people["qualite"], world.caf, "quarter", Q1)
    row = result(draft, quarter_indicator, world.site)
    assert row.value == Decimal("86.7")  # 390 / 450 = 86.666…
    assert row.sample == 450
    assert row.significant
    assert row.target == Decimal("85")
    assert row.colour == "orange"  # below the green 90, above the amber 80
    assert draft.status == Publication.Status.DRAFT
    assert draft.data_date == date(2025, 3, 31)


def test_world_quarter_of_the_organisation_and_its_site(world):
    # Months 1–3 of 2025 : 86 %, 87 %, 85 % of 150 (organisation) → 387/450 = 86.0 ;
    # at the siège 76 %, 77 %, 75 % → 342/450 = 76.0.
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    assert result(draft, world.indicator, None).value == Decimal("86.0")
    assert result(draft, world.indicator, world.site).value == Decimal("76.0")
    assert result(draft, world.indicator, world.site).colour == "orange"


def test_measurement_of_the_exact_period_wins_over_the_months(world):
    services.record_measurement(
        world.indicator,
        world.caf,
        period_kind="quarter",
        period_start=Q1,
        value="91.25",
        sample=900,
    )
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    row = result(draft, world.indicator, None)
    assert row.value == Decimal("91.3")  # rounded half up
    assert row.sample == 900


def test_rounding_is_half_up():
    assert service.round_half_up(Decimal("86.65")) == Decimal("86.7")
    assert service.round_half_up(Decimal("86.64")) == Decimal("86.6")
    assert service.round_half_up(Decimal("0.05")) == Decimal("0.1")


def test_mean_indicator_is_not_multiplied_by_one_hundred(world):
    wait = Indicator.objects.create(
        code="attente-moyenne",
        label="Attente moyenne",
        definition="Durée moyenne d'attente à l'accueil.",
        unit="minutes",
        direction="lower",
        computation="mean",
        green_threshold=15,
        amber_threshold=25,
        min_sample=10,
    )
    # 1 200 minutes over 100 visits, then 1 500 over 100 : 2 700 / 200 = 13.5 minutes.
    for month, minutes in ((1, 1200), (2, 1500)):
        services.record_measurement(
            wait,
            world.caf,
            period_kind="month",
            period_start=date(2025, month, 1),
            value=minutes / 100,
            sample=100,
            numerator=minutes,
            denominator=100,
        )
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    assert result(draft, wait, None).value == Decimal("13.5")
    assert result(draft, wait, None).colour == "vert"


def test_not_significant_result_keeps_no_value(world, small_relay):
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    row = result(draft, world.indicator, world.relay)
    assert row.significant is False
    assert row.value is None
    assert row.colour == ""
    assert row.sample == 40


def test_nothing_to_publish_is_refused_in_french(world):
    with pytest.raises(ValidationError, match="Aucune mesure pour 1er trimestre 2030"):
        service.prepare_publication(None, world.caf, "quarter", date(2030, 1, 1))
    with pytest.raises(ValidationError, match="mois, d'un trimestre ou d'une année"):
        service.prepare_publication(None, world.caf, "day", date(2025, 1, 1))


def test_publishing_supersedes_the_older_publication_and_keeps_history(world):
    qualite = world.people["qualite"]
    first = service.publish(qualite, service.prepare_publication(qualite, world.caf, "quarter", Q1))
    assert first.status == Publication.Status.PUBLISHED
    assert first.published_by == qualite
    assert first.data_date == date(2025, 3, 31)
    second = service.publish(
        qualite, service.prepare_publication(qualite, world.caf, "quarter", Q1)
    )
    first.refresh_from_db()
    assert first.status == Publication.Status.WITHDRAWN
    assert second.status == Publication.Status.PUBLISHED
    assert Publication.objects.filter(organisation=world.caf).count() == 2
    assert list(service.published(world.caf)) == [second]
    event = AuditEvent.objects.get(action="publication.publiée", object_id=str(second.pk))
    assert event.changes["remplace"] == [first.pk]


def test_only_a_draft_can_be_published_and_only_a_published_one_withdrawn(world):
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    with pytest.raises(ValidationError):
        service.withdraw(None, draft)
    service.publish(None, draft)
    with pytest.raises(ValidationError):
        service.publish(None, draft)
    service.withdraw(None, draft)
    draft.refresh_from_db()
    assert draft.status == Publication.Status.WITHDRAWN
    assert not service.has_published_results(world.caf)


def test_every_publication_action_is_audited_with_a_french_label(world):
    from voix.core.models import AUDIT_ACTIONS

    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    service.publish(None, draft)
    service.withdraw(None, draft)
    actions = list(
        AuditEvent.objects.filter(action__startswith="publication.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["publication.préparée", "publication.publiée", "publication.retirée"]
    assert all(action in AUDIT_ACTIONS for action in actions)


# ----- what the public sees ---------------------------------------------------------------


def test_public_sees_only_published_results(world, client):
    url = reverse("commitments:results_organisation", args=[world.caf.slug])
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    page = client.get(url).content.decode()
    assert "Aucun résultat n'a encore été publié" in page
    assert "86,0" not in page
    csv_text = client.get(reverse("commitments:results_csv", args=[world.caf.slug])).content
    assert csv_text.decode().count("\n") == 1  # the header alone
    service.publish(None, draft)
    page = client.get(url).content.decode()
    assert "86,0 %" in page and "76,0 %" in page
    assert "Part des visites dont l&#x27;attente a duré 20 minutes ou moins." in page
    service.withdraw(None, draft)
    assert "86,0" not in client.get(url).content.decode()


def test_public_pages_link_to_results_only_once_published(world, client):
    organisation_url = reverse("core:organisation_public", args=[world.caf.slug])
    site_url = reverse("core:site_public", args=[world.caf.slug, world.site.slug])
    results_url = reverse("commitments:results_organisation", args=[world.caf.slug])
    site_results_url = reverse("commitments:results_site", args=[world.caf.slug, world.site.slug])
    draft = service.prepare_publication(None, world.caf, "quarter", Q1)
    assert results_url not in client.get(organisation_url).content.decode()
    assert site_results_url not in client.get(site_url).content.decode()
    service.publish(None, draft)
    assert results_url in client.get(organisation_url).content.decode()
    assert site_results_url in client.get(site_url).content.decode()


def test_previous_publications_stay_reachable(world, client):
    q1 = service.publish(None, service.prepare_publication(None, world.caf, "quarter", Q1))
    service.publish(None, service.prepare_publication(None, world.caf, "quarter", date(2025, 4, 1)))
    url = reverse("commitments:results_organisation", args=[world.caf.slug])
    page = client.get(url).content.decode()
    assert "2e trimestre 2025" in page
    assert f"?publication={q1.pk}" in page
    assert "1er trimestre 2025" in client.get(f"{url}?publication={q1.pk}").content.decode()
    draft = service.prepare_publication(None, world.caf, "year", Q1)
    assert client.get(f"{url}?publication={draft.pk}").status_code == 404


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_not_significant_never_shows_a_number(world, client, small_relay):
    service.publish(None, service.prepare_publication(None, world.caf, "quarter", Q1))
    page = client.get(
        reverse("commitments:results_site", args=[world.caf.slug, world.relay.slug])
    ).content.decode()
    assert "résultat non significatif (n &lt; 100)" in page
    assert "62,5" not in page and "62.5" not in page
    pdf = client.get(reverse("commitments:results_poster", args=[world.caf.slug, world.relay.slug]))
    assert pdf["Content-Type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "résultat non significatif (n < 100)" in text
    assert "62,5" not in text
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("commitments:results_csv", args=[world.caf.slug])
                ).content.decode()
            )
        )
    )
    relay_row = next(r for r in rows if r["site"] == world.relay.name)
    assert relay_row["valeur"] == "" and relay_row["significatif"] == "false"
    assert relay_row["etat"] == "résultat non significatif"
    data = client.get(reverse("commitments:results_json", args=[world.caf.slug])).json()
    relay_json = next(r for r in data["resultats"] if r["site"] == world.relay.name)
    assert relay_json["valeur"] is None and relay_json["significatif"] is False


def test_page_poster_and_csv_show_the_same_figures_for_one_quarter(
    world, client, quarter_indicator
):
    service.publish(None, service.prepare_publication(None, world.caf, "quarter", Q1))
    page = client.get(
        reverse("commitments:results_site", args=[world.caf.slug, world.site.slug])
    ).content.decode()
    text = pdf_text(
        client.get(
            reverse("commitments:results_poster", args=[world.caf.slug, world.site.slug])
        ).content
    )
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(
                    reverse("commitments:results_csv", args=[world.caf.slug])
                ).content.decode()
            )
        )
    )
    site_rows = {r["indicateur"]: r for r in rows if r["site"] == world.site.name}
    # Emails 86.7 % (target 85: met) ; waiting 76.0 % (target 80: missed).
    assert site_rows["reponse-courriel-5j"]["valeur"] == "86.7"
    assert site_rows["reponse-courriel-5j"]["etat"] == "objectif atteint"
    assert site_rows["attente-20-min"]["valeur"] == "76.0"
    assert site_rows["attente-20-min"]["etat"] == "objectif non atteint"
    assert site_rows["attente-20-min"]["code_insee"] == "53130"
    assert site_rows["attente-20-min"]["date_donnees"] == "2025-03-31"
    for shown in ("86,7 %", "76,0 %", "85 %", "80 %", "objectif atteint", "objectif non atteint"):
        assert shown.lower() in page.lower(), shown
        assert shown.lower() in text.lower(), shown
    assert "1er trimestre 2025" in page and "1er trimestre 2025" in text
    assert "31 mars 2025" in page and "31 mars 2025" in text
    assert world.caf.name in text and world.site.name in text


def test_poster_of_a_site_without_published_results_is_not_found(world, client):
    url = reverse("commitments:results_poster", args=[world.caf.slug, world.site.slug])
    assert client.get(url).status_code == 404


def test_poster_never_fetches_from_the_network():
    fetcher = poster.local_only_fetcher()
    for url in ("https://example.org/font.woff2", "http://127.0.0.1/x.css", "ftp://a/b"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher.fetch(url)


# ----- open data ------------------------------------------------------------------------


SCHEMA_PATH = "docs/results-table-schema.json"


def _valid(value: str, field: dict, missing: list[str]) -> bool:
    """Does one CSV cell conform to its Table Schema field (the types this file uses)?"""
    constraints = field.get("constraints", {})
    if value in missing:
        return not constraints.get("required", False)
    if "pattern" in constraints and not re.fullmatch(constraints["pattern"], value):
        return False
    if "enum" in constraints and value not in constraints["enum"]:
        return False
    kind = field["type"]
    if kind == "string":
        return True
    if kind == "integer":
        return re.fullmatch(r"-?\d+", value) is not None and int(value) >= constraints.get(
            "minimum", int(value)
        )
    if kind == "number":
        return re.fullmatch(r"-?\d+(\.\d+)?", value) is not None
    if kind == "boolean":
        return value in field["trueValues"] + field["falseValues"]
    if kind == "date":
        return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None and bool(
            date.fromisoformat(value)
        )
    raise AssertionError(f"type non géré par ce test : {kind}")


def test_csv_header_and_values_follow_the_table_schema(world, client, small_relay):
    from django.conf import settings

    schema = json.loads((settings.BASE_DIR / SCHEMA_PATH).read_text())
    service.publish(None, service.prepare_publication(None, world.caf, "quarter", Q1))
    service.publish(None, service.prepare_publication(None, world.caf, "year", Q1))
    response = client.get(reverse("commitments:results_csv", args=[world.caf.slug]))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    content = response.content.decode("utf-8")
    assert not content.startswith("\ufeff")
    reader = csv.reader(io.StringIO(content))
    header = next(reader)
    fields = schema["fields"]
    assert header == [f["name"] for f in fields]
    rows = list(reader)
    # Quarter: organisation, siège, relay ; year: organisation, siège (the relay has only a
    # quarterly figure, no months to build a year from).
    assert len(rows) == 5
    for number, row in enumerate(rows, start=2):
        for value, field in zip(row, fields, strict=True):
            assert _valid(value, field, schema["missingValues"]), (number, field["name"], value)
