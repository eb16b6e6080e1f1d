"""The surveys' indicator sources, on a hand-worked month (March 2026: three answers at the
siège, one at the relay), and their measurements through the commitments registry."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from voix.commitments import catalogue, measures
from voix.commitments.models import Indicator, Measurement
from voix.surveys import indicators, services
from voix.surveys.models import LinkChannel, SurveyStatus

PARIS = ZoneInfo("Europe/Paris")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)

ANSWERS = [
    # siège (« accueil »): très bien, clear, reached by phone, good help, very satisfied
    (
        "siege",
        {
            "satisfaction": "tres_bien",
            "comprehension": "5",
            "contact_tried": ["telephone"],
            "contact_reached": "oui",
            "contact_satisfaction": "4",
            "satisfaction_globale": "5",
        },
    ),
    # siège: moyen, no help needed, satisfied
    (
        "siege",
        {
            "satisfaction": "moyen",
            "comprehension": "3",
            "contact_tried": ["aucune"],
            "satisfaction_globale": "4",
        },
    ),
    # siège: pas bien, unclear, could not reach the counter, dissatisfied
    (
        "siege",
        {
            "satisfaction": "pas_bien",
            "comprehension": "1",
            "contact_tried": ["guichet"],
            "contact_reached": "non",
            "satisfaction_globale": "2",
        },
    ),
    # relay: très bien, clear, reached online help, very good help, neutral
    (
        "relay",
        {
            "satisfaction": "tres_bien",
            "comprehension": "4",
            "contact_tried": ["internet"],
            "contact_reached": "oui",
            "contact_satisfaction": "5",
            "satisfaction_globale": "3",
        },
    ),
]


@pytest.fixture
def march(world):
    w = world
    relay_link = services.ensure_link(None, w.survey, site=w.relay, channel=LinkChannel.RELAY)
    links = {"siege": w.survey_link, "relay": relay_link}
    for n, (where, answers) in enumerate(ANSWERS):
        services.submit_response(
            link=links[where],
            answers=answers,
            nonce=f"mars-{n}",
            now=datetime(2026, 3, 2 + n, 10, tzinfo=PARIS),
        )
    # Outside the month (31 March 23:59 UTC is 1 April in Paris), and another organisation.
    services.submit_response(
        link=w.survey_link,
        answers={"satisfaction": "pas_bien", "satisfaction_globale": "1"},
        nonce="avril",
        now=datetime(2026, 3, 31, 23, 59, tzinfo=ZoneInfo("UTC")),
    )
    other = services.create_survey(None, w.other, title="Ailleurs")
    services.set_survey_status(None, other, SurveyStatus.OPEN)
    elsewhere = services.ensure_link(None, other, site=w.other_site, channel=LinkChannel.RECEPTION)
    services.submit_response(
        link=elsewhere,
        answers={"satisfaction": "pas_bien", "satisfaction_globale": "1"},
        nonce="ailleurs",
        now=datetime(2026, 3, 10, 10, tzinfo=PARIS),
    )
    return w


def source(key, w, site=None):
    return measures.SOURCES[key](w.caf, site, "month", MARCH, APRIL)


def test_every_source_is_registered_and_named_in_the_catalogue(db):
    assert set(indicators.SOURCES) <= set(measures.SOURCES)
    catalogue.load_catalogue()
    named = set(
        Indicator.objects.filter(source__startswith="surveys.").values_list("source", flat=True)
    )
    assert named == set(indicators.SOURCES)


def test_overall_satisfaction_counts_4_and_5_per_site_for_the_organisation_and_per_channel(
    march,
):
    w = march
    assert source("surveys.overall_satisfaction", w) == [
        (w.relay, "", 0, 1, 1),
        (w.site, "", 2, 3, 3),
        (None, "", 2, 4, 4),
        (None, "Accueil (affiche, QR code)", 2, 3, 3),
        (None, "Relais partenaire", 0, 1, 1),
    ]


def test_a_site_asked_alone_gets_only_its_row(march):
    w = march
    assert source("surveys.overall_satisfaction", w, site=w.site) == [(w.site, "", 2, 3, 3)]


def test_net_satisfaction_is_plus_100_per_satisfied_minus_100_per_dissatisfied(march):
    rows = source("surveys.net_satisfaction", march)
    organisation = next(row for row in rows if row[0] is None and row[1] == "")
    assert organisation[2:] == (100, 4, 4)  # (2 satisfied − 1 dissatisfied) × 100 over 4


def test_jdma_means_and_help_reached(march):
    w = march

    def whole(key):
        return next(row for row in source(key, w) if row[0] is None and row[1] == "")[2:]

    assert whole("surveys.jdma_satisfaction") == (25, 4, 4)  # 10 + 5 + 0 + 10
    assert whole("surveys.jdma_clarity") == (Decimal("22.5"), 4, 4)  # 10 + 5 + 0 + 7.5
    assert whole("surveys.jdma_help_reached") == (2, 3, 3)  # reached ÷ looked for help
    assert whole("surveys.jdma_help_quality") == (Decimal("17.5"), 2, 2)  # 7.5 + 10


def test_recompute_stores_the_catalogue_indicators(march):
    catalogue.load_catalogue()
    expected = {
        "satisfaction-globale": Decimal("50.0"),
        "satisfaction-nette": Decimal("25.0"),
        "jdma-satisfaction": Decimal("6.3"),
        "jdma-clarte": Decimal("5.6"),
        "jdma-aide-joignable": Decimal("66.7"),
        "jdma-aide-efficace": Decimal("8.8"),
    }
    for code, value in expected.items():
        indicator = Indicator.objects.get(organisation=None, code=code)
        measures.recompute(indicator, march.caf, "month", [MARCH])
        stored = Measurement.objects.get(
            indicator=indicator, organisation=march.caf, site=None, channel=""
        )
        assert (stored.value, stored.sample) == (value, stored.denominator), code
        assert stored.sample < indicator.min_sample  # 4 answers: « non significatif »
    again = measures.recompute(
        Indicator.objects.get(code="satisfaction-globale"), march.caf, "month", [MARCH]
    )
    assert again.created == again.updated == 0


def test_a_month_without_answers_gives_no_row(world):
    assert (
        measures.SOURCES["surveys.jdma_satisfaction"](
            world.caf, None, "month", date(2020, 1, 1), date(2020, 2, 1)
        )
        == []
    )
