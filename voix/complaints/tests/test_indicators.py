"""Indicator sources: answered in time, mean delay, volume by theme, mediation rate."""

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from voix.commitments import measures
from voix.complaints import indicators, services
from voix.complaints.models import AnswerVia, Kind
from voix.complaints.tests.world import public_complaint

PARIS = ZoneInfo("Europe/Paris")
MARCH = (date(2030, 3, 1), date(2030, 4, 1))
MONDAY = datetime(2030, 3, 4, 10, 0, tzinfo=PARIS)


@pytest.fixture
def march(world):
    """Complaints received on Monday 4 March 2030 (deadline: Tuesday 2 April): about w.site,
    answered after 2, 10 and 19 working days, and one never answered; about no site, one
    answered after 4 working days; a suggestion answered (left out of every indicator)."""
    qualite = world.people["qualite"]

    def answered(days, **fields):
        c = public_complaint(world, now=MONDAY, **fields)
        if days is not None:
            services.send_answer(
                qualite, c, text="R.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=days)
            )
        return c

    fast = answered(2)  # Wednesday 6 March
    ten = answered(14)  # Monday 18 March
    for c in (fast, ten):
        services.tag_complaint(qualite, c, theme=world.complaint_theme, root_causes=[])
    answered(25)  # Friday 29 March: 19 working days, still in time
    answered(None)
    answered(4, site=None)  # Friday 8 March
    answered(1, kind=Kind.SUGGESTION)


def by_scope(rows):
    return {(getattr(site, "name", None), label): (n, d) for site, label, n, d, _ in rows}


def test_the_sources_are_registered():
    for key in indicators.SOURCES:
        assert measures.SOURCES[key] is indicators.SOURCES[key]


def test_the_catalogue_lists_an_indicator_for_each_source():
    path = Path(measures.__file__).parent / "data" / "indicators.yaml"
    sources = {entry.get("source") for entry in yaml.safe_load(path.read_text())["indicators"]}
    assert set(indicators.SOURCES) <= sources


def test_answered_in_time_counts_complaints_answered_in_the_period(world, march):
    rows = by_scope(indicators.answer_in_time(world.caf, None, "month", *MARCH))
    assert rows[("Siège test", "")] == (3, 3)
    assert rows[(None, "")] == (4, 4)


def test_a_late_answer_is_not_in_time(world):
    qualite = world.people["qualite"]
    c = public_complaint(world, now=MONDAY)
    services.send_answer(
        qualite, c, text="R.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=30)
    )  # Wednesday 3 April: one day late
    april = (date(2030, 4, 1), date(2030, 5, 1))
    rows = by_scope(indicators.answer_in_time(world.caf, world.site, "month", *april))
    assert rows == {("Siège test", ""): (0, 1)}


def test_the_mean_delay_is_in_working_days_pauses_deducted(world, march):
    rows = by_scope(indicators.answer_delay(world.caf, None, "month", *MARCH))
    assert rows[("Siège test", "")] == (2 + 10 + 19, 3)
    assert rows[(None, "")] == (2 + 10 + 19 + 4, 4)
    qualite = world.people["qualite"]
    paused = public_complaint(world, now=MONDAY)
    services.pause_complaint(qualite, paused, now=MONDAY)
    services.resume_complaint(qualite, paused, now=MONDAY + timedelta(days=7))  # 5 wd
    services.send_answer(
        qualite, paused, text="R.", via=AnswerVia.EMAIL, now=MONDAY + timedelta(days=14)
    )
    rows = by_scope(indicators.answer_delay(world.caf, world.site, "month", *MARCH))
    assert rows[("Siège test", "")] == (2 + 10 + 19 + 5, 4)


def test_the_volume_is_counted_per_theme(world, march):
    rows = indicators.volume_by_theme(world.caf, None, "month", *MARCH)
    scoped = by_scope(rows)
    assert scoped[("Siège test", "")] == (4, None)
    assert scoped[("Siège test", "Délais de paiement")] == (2, None)
    assert scoped[("Siège test", "Sans thème")] == (2, None)
    assert scoped[(None, "")] == (5, None)
    assert all(sample == n for _, _, n, _, sample in rows)


def test_the_mediation_rate_is_mediations_over_answered_complaints(world, march):
    contested = public_complaint(world, now=MONDAY)
    services.send_answer(
        world.people["qualite"], contested, text="R.", via=AnswerVia.EMAIL, now=MONDAY
    )
    services.escalate_to_mediation(None, contested, reason="Je conteste la réponse.", now=MONDAY)
    rows = by_scope(indicators.mediation_rate(world.caf, None, "month", *MARCH))
    assert rows[("Siège test", "")] == (1, 4)
    assert rows[(None, "")] == (1, 5)


def test_a_period_without_complaints_gives_no_rows(world):
    empty = (date(2031, 1, 1), date(2031, 2, 1))
    for source in indicators.SOURCES.values():
        assert source(world.caf, None, "month", *empty) == []
