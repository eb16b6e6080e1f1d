"""Indicator sources of the contacts app: rows read from the roll-ups of the hand-worked
example of test_rollups (March 2026)."""

from datetime import date
from decimal import Decimal

import pytest

from voix.commitments import catalogue, measures
from voix.commitments.models import Indicator, Measurement
from voix.contacts import indicators
from voix.contacts.models import Channel, ContactDay

from .test_rollups import build_example

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def example(world):
    return build_example(world)


def rows_of(source, world, site=None):
    """{(site slug or None, channel): (numerator, denominator)}"""
    return {
        (row[0].slug if row[0] else None, row[1]): (row[2], row[3])
        for row in source(world.caf, site, "month", MARCH, APRIL)
    }


def test_every_source_is_registered_with_the_commitments_registry():
    for key, function in indicators.SOURCES.items():
        assert measures.SOURCES[key] is function


def test_answer_in_time_has_rows_per_site_and_for_the_organisation_per_channel(example):
    rows = rows_of(indicators.answer_in_time, example)
    assert rows[(None, "")] == (2, 3)  # A and F in time, B late
    assert rows[("siege", "")] == (2, 3)
    assert rows[(None, Channel.EMAIL)] == (1, 2)
    assert rows[(None, Channel.PHONE)] == (1, 1)
    assert ("siege", Channel.EMAIL) not in rows


def test_email_and_letter_sources_read_their_channel_only(example):
    assert rows_of(indicators.email_answer, example) == {("siege", ""): (1, 2), (None, ""): (1, 2)}
    # Letters were received but none answered: nothing measured, no row.
    assert rows_of(indicators.letter_answer, example) == {}


def test_answer_delay_sums_working_days(example):
    assert rows_of(indicators.answer_delay, example)[(None, Channel.EMAIL)] == (18, 2)


def test_acknowledgement_counts_acknowledgements_due_in_the_period(example):
    rows = rows_of(indicators.acknowledgement, example)
    assert rows[(None, "")] == (1, 4)  # A in time; B late; C and D never sent
    assert rows[(None, Channel.LETTER)] == (0, 2)


def test_stock_age_reads_the_last_day_of_the_period(example):
    rows = rows_of(indicators.stock_age, example)
    # 31 March: E (January) and D (4 March, 19 working days) pending, C is seasonal.
    assert rows[(None, "")] == (0, 2)
    assert rows[(None, Channel.LETTER)] == (0, 1)


def test_stock_age_of_a_running_period_stops_at_today(example, time_machine):
    time_machine.move_to("2026-03-20 18:00 +01:00")
    rows = rows_of(indicators.stock_age, example)
    assert rows[(None, "")] == (2, 3)  # B and D recent, E old


def test_returns_divide_the_returned_by_the_processed(example):
    assert rows_of(indicators.returns, example)[(None, "")] == (1, 3)


def test_call_rates_read_the_call_log_roll_up(example):
    assert rows_of(indicators.calls_agent, example) == {("siege", ""): (1, 2), (None, ""): (1, 2)}
    assert rows_of(indicators.calls_all, example)[(None, "")] == (2, 4)


def test_one_site_asked_gives_only_that_site(example):
    rows = rows_of(indicators.answer_in_time, example, site=example.relay)
    assert rows == {}
    rows = rows_of(indicators.answer_in_time, example, site=example.site)
    assert set(rows) == {("siege", "")}


def test_sources_never_read_raw_contacts(example, django_assert_max_num_queries):
    ContactDay.objects.filter(organisation=example.caf)  # roll-ups exist
    with django_assert_max_num_queries(3):
        indicators.answer_in_time(example.caf, None, "month", MARCH, APRIL)


@pytest.mark.parametrize(
    "code, value",
    [
        ("reponse-dans-delai", Decimal("66.7")),
        ("delai-reponse-courriel", Decimal("50.0")),
        ("accuse-reception-delai", Decimal("25.0")),
        ("anteriorite-solde-15j", Decimal("0.0")),
        ("allers-retours", Decimal("33.3")),
        ("decroche-agent", Decimal("50.0")),
        ("decroche-global", Decimal("50.0")),
        ("delai-moyen-reponse", Decimal("6.0")),
    ],
)
def test_recompute_stores_the_catalogue_indicators_from_the_roll_ups(example, code, value):
    catalogue.load_catalogue()
    indicator = Indicator.objects.get(organisation=None, code=code)
    measures.recompute(indicator, example.caf, "month", [MARCH])
    measurement = Measurement.objects.get(
        indicator=indicator, organisation=example.caf, site=None, channel=""
    )
    assert measurement.value == value
    assert measurement.provenance == "computed"


def test_recomputing_twice_reports_everything_unchanged(example):
    catalogue.load_catalogue()
    indicator = Indicator.objects.get(organisation=None, code="reponse-dans-delai")
    first = measures.recompute(indicator, example.caf, "month", [MARCH])
    again = measures.recompute(indicator, example.caf, "month", [MARCH])
    assert first.created > 0
    assert again.unchanged == first.created and again.created == again.updated == 0
