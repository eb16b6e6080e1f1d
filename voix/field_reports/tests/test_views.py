"""The field reports pages: quick form, « mes remontées », triage with confirmation, summary."""

import csv
import io
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from voix.field_reports import services
from voix.field_reports.models import FieldReport, Status

FORM = {
    "description": "Le site affiche une erreur quand on dépose un justificatif.",
    "users_affected": "beaucoup",
    "urgency": "forte",
    "suggestion": "",
}


def test_the_quick_form_files_a_report_without_javascript(world, client_for):
    client = client_for("agent")
    page = client.get(reverse("field_reports:create"))
    html = page.content.decode()
    assert "<script" not in html.split('id="contenu"')[-1].split("</form>")[0]
    assert "<legend" in html  # radio groups have a legend
    response = client.post(
        reverse("field_reports:create"),
        {**FORM, "theme": world.field_theme.pk, "site": world.site.pk},
    )
    report = FieldReport.objects.latest("pk")
    assert response.status_code == 302
    assert response["Location"] == reverse("field_reports:detail", kwargs={"pk": report.pk})
    assert (report.reporter, report.site, report.urgency) == (
        world.people["agent"],
        world.site,
        "forte",
    )


def test_the_quick_form_names_each_missing_field_and_keeps_the_text(world, client_for):
    response = client_for("agent").post(
        reverse("field_reports:create"), {"description": "Un texte déjà saisi ici."}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Choisissez un thème." in html
    assert "Indiquez combien d&#x27;usagers sont concernés." in html
    assert "Un texte déjà saisi ici." in html


def test_a_partner_files_for_its_relay_from_the_form(world, client_for):
    client = client_for("partenaire")
    page = client.get(reverse("field_reports:create")).content.decode()
    assert "France Services test" in page
    assert 'name="site"' not in page
    client.post(reverse("field_reports:create"), {**FORM, "theme": world.field_theme.pk})
    assert FieldReport.objects.latest("pk").site == world.relay


def test_a_partner_lists_only_its_relays_reports(world, client_for):
    html = client_for("partenaire").get(reverse("field_reports:index")).content.decode()
    assert f"Remontée n° {world.relay_report.pk}<" in html
    assert f"Remontée n° {world.field_report.pk}<" not in html


def test_a_reporter_sees_the_outcome_of_their_reports(world, client_for):
    html = client_for("agent").get(reverse("field_reports:index")).content.decode()
    assert "Hors du champ de la relation usager." in html
    assert "En attente de tri" in html


def test_the_reporter_of_a_merged_report_follows_it_to_the_carrier(world, client_for):
    services.merge_report(world.people["qualite"], world.field_report, into=world.relay_report)
    client = client_for("agent")
    detail = client.get(reverse("field_reports:detail", kwargs={"pk": world.field_report.pk}))
    target = reverse("field_reports:detail", kwargs={"pk": world.relay_report.pk})
    assert target in detail.content.decode()
    assert client.get(target).status_code == 200


def test_a_decision_is_confirmed_before_it_is_recorded(world, client_for):
    client = client_for("qualite")
    url = reverse("field_reports:decide", kwargs={"pk": world.field_report.pk})
    data = {"action": "decliner", "note": "Déjà corrigé dans la version de mars."}
    confirm = client.post(url, data)
    assert confirm.status_code == 200
    assert "Oui, décliner" in confirm.content.decode()
    assert FieldReport.objects.get(pk=world.field_report.pk).status == Status.NEW
    done = client.post(url, {**data, "confirme": "oui"})
    assert done.status_code == 302
    report = FieldReport.objects.get(pk=world.field_report.pk)
    assert (report.status, report.decline_reason) == (
        Status.DECLINED,
        "Déjà corrigé dans la version de mars.",
    )


def test_declining_without_a_reason_shows_the_form_again(world, client_for):
    response = client_for("qualite").post(
        reverse("field_reports:decide", kwargs={"pk": world.field_report.pk}),
        {"action": "decliner", "note": "", "confirme": "oui"},
    )
    assert response.status_code == 400
    assert "Indiquez le motif du refus" in response.content.decode()
    assert FieldReport.objects.get(pk=world.field_report.pk).status == Status.NEW


def test_merging_from_the_page_offers_only_open_reports_of_the_organisation(world, client_for):
    client = client_for("qualite")
    html = client.get(
        reverse("field_reports:detail", kwargs={"pk": world.field_report.pk})
    ).content.decode()
    assert f'value="{world.accepted_report.pk}"' in html
    assert f'value="{world.declined_report.pk}"' not in html
    url = reverse("field_reports:decide", kwargs={"pk": world.field_report.pk})
    client.post(url, {"action": "fusionner", "into": world.accepted_report.pk, "confirme": "oui"})
    assert FieldReport.objects.get(pk=world.field_report.pk).merged_into == world.accepted_report


def test_the_triage_list_shows_new_reports_by_default(world, client_for):
    html = client_for("manager").get(reverse("field_reports:triage")).content.decode()
    assert f"Remontée n° {world.field_report.pk}<" in html
    assert f"Remontée n° {world.relay_report.pk}<" in html
    assert f"Remontée n° {world.accepted_report.pk}<" not in html
    every = client_for("manager").get(reverse("field_reports:triage"), {"etat": ""})
    assert f"Remontée n° {world.accepted_report.pk}<" in every.content.decode()


def _rows(response):
    text = b"".join(response.streaming_content if response.streaming else [response.content])
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig")), delimiter=";"))


def test_the_summary_counts_by_theme_and_by_relay(world, client_for):
    client = client_for("qualite")
    html = client.get(reverse("field_reports:summary")).content.decode()
    assert "4 remontées" in html
    assert "dont 1 venue des relais partenaires" in html
    rows = _rows(client.get(reverse("field_reports:export")))
    assert rows[0][:5] == ["regroupement", "organisme", "libelle", "type", "total"]
    relay = next(r for r in rows if r[2] == "France Services test")
    assert (relay[0], relay[3], relay[4]) == ("relais_ou_site", "relais", "1")
    theme = next(r for r in rows if r[0] == "theme" and r[2] == world.field_theme.label)
    assert theme[4:9] == ["2", "1", "1", "0", "0"]


def test_the_summary_filters_by_period(world, client_for):
    FieldReport.objects.filter(pk=world.declined_report.pk).update(
        created_at=timezone.now() - timedelta(days=60)
    )
    start = (timezone.localdate() - timedelta(days=7)).isoformat()
    client = client_for("qualite")
    html = client.get(reverse("field_reports:summary"), {"du": start}).content.decode()
    assert "3 remontées" in html
    rows = _rows(client.get(reverse("field_reports:export"), {"du": start}))
    assert sum(int(r[4]) for r in rows if r[0] == "theme") == 3


def test_a_period_ending_before_it_starts_is_refused(world, client_for):
    html = (
        client_for("qualite")
        .get(reverse("field_reports:summary"), {"du": "2030-02-01", "au": "2030-01-01"})
        .content.decode()
    )
    assert "La date de fin précède la date de début." in html


def test_the_export_neutralises_spreadsheet_formulas(world, client_for):
    services.save_theme(world.people["qualite"], world.caf, label="=HYPERLINK(1)")
    theme = world.caf.field_report_themes.get(label="=HYPERLINK(1)")
    services.file_report(
        world.people["agent"],
        world.caf,
        description="Texte suffisamment long pour passer.",
        theme=theme,
        users_affected="un",
    )
    rows = _rows(client_for("qualite").get(reverse("field_reports:export")))
    assert any(r[2] == "'=HYPERLINK(1)" for r in rows)
