"""Pilotage pages: what each person sees, drill-down, messages, entry and import."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from voix.commitments import measures, services
from voix.commitments.models import Commitment, Framework, Measurement, Notice


def test_dashboard_shows_last_value_target_and_state_in_words(client_for, world):
    html = client_for("manager").get(reverse("commitments:pilotage")).content.decode()
    # December 2025 for the Caf: 85 + 12 % 3 = 85 %, target 80 % → « Atteint ».
    assert "Dernier résultat (décembre 2025)" in html
    assert "85,0 %" in html and "80,0 %" in html
    assert "Atteint" in html
    assert "Autres indicateurs" in html  # the world's indicator has no commitment


def test_site_dashboard_shows_the_site_below_target_as_a_word_not_only_a_colour(client_for, world):
    url = reverse("commitments:pilotage_site", args=[world.site.pk])
    html = client_for("agent").get(url).content.decode()
    # Siège in December 2025: 75 %, under the 80 % target but above the 70 % amber threshold.
    assert "75,0 %" in html
    assert "À surveiller" in html and "fr-badge--warning" in html


def test_indicators_are_grouped_under_their_commitment(client_for, world):
    framework = Framework.objects.create(code="test-sp", name="Référentiel test")
    commitment = Commitment.objects.create(
        framework=framework, number="3", position=3, wording="Nous vous recevons vite."
    )
    world.indicator.commitments.add(commitment)
    html = client_for("qualite").get(reverse("commitments:pilotage")).content.decode()
    assert "Référentiel test — engagement 3" in html
    assert "Autres indicateurs" not in html


def test_result_under_minimal_sample_is_announced_not_shown(client_for, world):
    services.record_measurement(
        world.indicator,
        world.caf,
        period_kind="month",
        period_start=date(2026, 1, 1),
        value=42,
        sample=30,
    )
    html = client_for("manager").get(reverse("commitments:pilotage")).content.decode()
    assert "résultat non significatif (n &lt; 100)" in html
    assert "42,0 %" not in html


def test_quarter_view_aggregates_the_months(client_for, world):
    url = reverse("commitments:pilotage") + "?periode=trimestre"
    html = client_for("manager").get(url).content.decode()
    # 4th quarter 2025 for the Caf: October 86, November 87, December 85 (150 visits each):
    # (129 + 130.5 + 127.5) / 450 = 86.0 %.
    assert "Dernier résultat (4e trimestre 2025)" in html
    assert "86,0 %" in html and "effectif 450" in html


def test_indicator_detail_drills_down_by_site_and_channel(client_for, world):
    services.record_measurement(
        world.indicator,
        world.caf,
        channel="téléphone",
        period_kind="month",
        period_start=date(2025, 12, 1),
        value=64,
        sample=120,
    )
    url = reverse("commitments:pilotage_indicator", args=[world.indicator.pk])
    html = client_for("manager").get(url).content.decode()
    assert "Siège test" in html and "75,0 %" in html
    assert "téléphone" in html and "64,0 %" in html and "Non atteint" in html


def test_partner_sees_only_its_relay(client_for, world):
    services.record_measurement(
        world.indicator,
        world.caf,
        site=world.relay,
        period_kind="month",
        period_start=date(2025, 12, 1),
        value=91,
        sample=110,
    )
    client = client_for("partenaire")
    html = client.get(reverse("commitments:pilotage")).content.decode()
    assert "France Services test" in html and "91,0 %" in html
    assert "85,0 %" not in html  # the Caf's own result
    assert client.get(reverse("commitments:pilotage_site", args=[world.site.pk])).status_code == 404
    url = reverse("commitments:pilotage_indicator", args=[world.indicator.pk])
    assert client.get(url, {"site": world.site.pk}).status_code == 404


def test_outsider_sees_nothing_of_the_caf(client_for, world):
    html = client_for("outsider").get(reverse("commitments:pilotage")).content.decode()
    assert "Aucun indicateur n'est encore mesuré" in html
    assert "Caf test" not in html


def test_notice_can_be_marked_read_by_its_recipient_only(client_for, world):
    notice = Notice.objects.create(user=world.people["qualite"], organisation=world.caf, text="x")
    url = reverse("commitments:pilotage_notice_read", args=[notice.pk])
    assert client_for("admin").post(url).status_code == 404
    assert client_for("qualite").post(url).status_code == 302
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_manual_entry_page_records_a_measurement(client_for, world):
    response = client_for("qualite").post(
        reverse("commitments:pilotage_entry"),
        {
            "indicator": world.indicator.pk,
            "period": "2026-03",
            "numerator": 171,
            "denominator": 200,
        },
    )
    assert response.status_code == 302
    assert Measurement.objects.get(period_start=date(2026, 3, 1), site=None).value == 85.5


def test_manual_entry_page_shows_the_period_error_in_french(client_for, world):
    response = client_for("qualite").post(
        reverse("commitments:pilotage_entry"),
        {"indicator": world.indicator.pk, "period": "mars", "value": 80},
    )
    assert response.status_code == 200
    assert "période impossible : « mars »" in response.content.decode()


def test_rejected_import_shows_the_report_and_offers_it_as_csv(client_for, world):
    client = client_for("qualite")
    upload = SimpleUploadedFile(
        "lot.csv", b"indicateur;periode;valeur\nattente-20-min;2026-01;80\ninconnu;2026-02;80\n"
    )
    html = client.post(reverse("commitments:pilotage_import"), {"file": upload}).content.decode()
    assert "rien n&#x27;a été importé" in html or "rien n'a été importé" in html
    assert "indicateur « inconnu » inconnu" in html
    assert not Measurement.objects.filter(period_start=date(2026, 1, 1)).exists()
    report = client.get(reverse("commitments:pilotage_import"), {"rapport": "csv"}).content.decode(
        "utf-8-sig"
    )
    assert report.splitlines()[1].startswith("lot.csv;3;indicateur;")


def test_accepted_import_redirects_with_counts(client_for, world):
    upload = SimpleUploadedFile("ok.csv", b"indicateur;periode;valeur\nattente-20-min;2026-01;80\n")
    response = client_for("admin").post(
        reverse("commitments:pilotage_import"), {"file": upload}, follow=True
    )
    assert "1 mesure(s) créée(s)" in response.content.decode()
    assert measures.latest_start(world.indicator, world.caf, "month") == date(2026, 1, 1)
