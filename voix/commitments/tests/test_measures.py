"""Measurements: computation, registry, manual entry, import, below-target alerts."""

from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from voix.commitments import measures, services
from voix.commitments.charts import line_chart
from voix.commitments.models import Indicator, Measurement, Notice, TargetCrossing
from voix.core.models import AuditEvent


@pytest.fixture
def visits(world):
    """A computed indicator fed by a registered source of visit counts."""
    indicator = Indicator.objects.create(
        code="visites-20-min",
        label="Visites servies en 20 minutes",
        definition="Part des visites servies en 20 minutes ou moins.",
        unit="percent",
        direction="higher",
        computation="share_within",
        source="test-visites",
        green_threshold=80,
        amber_threshold=70,
        min_sample=100,
    )
    counts = {date(2026, 1, 1): (171, 200), date(2026, 2, 1): (90, 100)}

    def source(organisation, site, period_kind, start, end):
        if start not in counts:
            return []
        within, total = counts[start]
        return [(None, "", within, total, None), (world.site, "", within - 1, total, None)]

    measures.register_source("test-visites", source)
    yield indicator, counts
    measures.unregister_source("test-visites")


# ----- computation ---------------------------------------------------------------------


def test_share_within_is_a_percentage_rounded_half_up_to_one_decimal():
    assert measures.compute_value("share_within", 171, 200) == Decimal("85.5")
    # 2/3 = 66.666… → 66.7 ; 1/8 = 12.5 exactly stays 12.5
    assert measures.compute_value("ratio", 2, 3) == Decimal("66.7")
    assert measures.compute_value("share_within", 1, 8) == Decimal("12.5")
    # 0.05 rounds up (half-up, not banker's rounding): 1/2000 × 100 = 0.05 → 0.1
    assert measures.compute_value("share_within", 1, 2000) == Decimal("0.1")


def test_mean_is_numerator_over_denominator():
    # 1 250 minutes of waiting for 100 visits: 12.5 minutes on average.
    assert measures.compute_value("mean", 1250, 100) == Decimal("12.5")


def test_zero_denominator_gives_no_value():
    assert measures.compute_value("share_within", 0, 0) is None


# ----- registry ------------------------------------------------------------------------


def test_registry_recompute_stores_the_computed_value_with_sample_from_denominator(world, visits):
    indicator, _ = visits
    report = measures.recompute(indicator, world.caf, "month", [date(2026, 1, 1)])
    assert report.created == 2
    whole = Measurement.objects.get(indicator=indicator, site=None)
    assert (whole.value, whole.sample, whole.provenance) == (Decimal("85.5"), 200, "computed")
    on_site = Measurement.objects.get(indicator=indicator, site=world.site)
    assert on_site.value == Decimal("85.0")  # 170 / 200


def test_registry_recompute_twice_changes_nothing(world, visits):
    indicator, _ = visits
    measures.recompute(indicator, world.caf, "month", [date(2026, 1, 1)])
    stamps = list(Measurement.objects.filter(indicator=indicator).values_list("recorded_at"))
    again = measures.recompute(None, world.caf, "month", [date(2026, 1, 1)])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert stamps == list(
        Measurement.objects.filter(indicator=indicator).values_list("recorded_at")
    )


def test_registry_recompute_is_incremental(world, visits):
    indicator, _ = visits
    measures.recompute(indicator, world.caf, "month", [date(2026, 2, 1)])
    assert set(
        Measurement.objects.filter(indicator=indicator).values_list("period_start", flat=True)
    ) == {date(2026, 2, 1)}


def test_source_returning_a_single_value_is_stored_for_the_asked_scope(world):
    indicator = Indicator.objects.create(
        code="note",
        label="Note",
        definition="d",
        unit="score10",
        direction="higher",
        computation="mean",
        source="test-note",
        green_threshold=8,
        amber_threshold=7,
    )
    measures.register_source("test-note", lambda *args: Decimal("7.85"))
    try:
        measures.recompute(indicator, world.caf, "month", [date(2026, 3, 1)])
    finally:
        measures.unregister_source("test-note")
    assert Measurement.objects.get(indicator=indicator).value == Decimal("7.9")


def test_recompute_command_covers_the_months_since(world, visits):
    indicator, _ = visits
    call_command("recompute_indicators", "--organisation", "caf-test", "--since", "2026-01")
    assert Measurement.objects.filter(indicator=indicator, site=None).count() == 2


# ----- aggregation ---------------------------------------------------------------------


def test_quarter_sums_numerators_and_denominators_of_its_months(world):
    indicator = world.indicator
    for month, (within, total) in {1: (171, 200), 2: (90, 100), 3: (160, 200)}.items():
        services.record_measurement(
            indicator,
            world.caf,
            period_kind="month",
            period_start=date(2026, month, 1),
            value=measures.compute_value("share_within", within, total),
            sample=total,
            numerator=within,
            denominator=total,
        )
    [quarter] = measures.results(indicator, world.caf, "quarter", [date(2026, 1, 1)])
    # 421 / 500 = 84.2 %, not the mean of 85.5, 90.0 and 80.0 (85.2).
    assert (quarter.value, quarter.sample) == (Decimal("84.2"), 500)


def test_year_is_read_from_the_twelve_months_of_the_world(world):
    [year] = measures.results(world.indicator, world.caf, "year", [date(2025, 1, 1)])
    # Months alternate 86, 87, 85 (85 + month % 3): numerators sum to 150 × 1032 / 100.
    assert year.value == Decimal("86.0") and year.sample == 1800


# ----- manual entry --------------------------------------------------------------------


def test_manual_entry_computes_the_value_and_is_audited(world):
    measurement = measures.enter_measurement(
        world.people["qualite"],
        world.indicator,
        world.caf,
        period="mars 2026",
        numerator=171,
        denominator=200,
        site=world.site,
    )
    assert (measurement.value, measurement.sample, measurement.provenance) == (
        Decimal("85.5"),
        200,
        "manual",
    )
    assert AuditEvent.objects.filter(action="mesure.saisie").count() == 1


def test_manual_entry_refuses_a_site_of_another_organisation(world):
    with pytest.raises(ValidationError) as error:
        measures.enter_measurement(
            None, world.indicator, world.caf, period="2026-03", value=80, site=world.other_site
        )
    assert "site" in error.value.message_dict


def test_manual_entry_refuses_an_impossible_period(world):
    with pytest.raises(ValidationError) as error:
        measures.enter_measurement(None, world.indicator, world.caf, period="2026-13", value=80)
    assert "période impossible" in error.value.message_dict["period"][0]


# ----- import --------------------------------------------------------------------------

GOOD = (
    "indicateur;periode;site;canal;valeur;unite;effectif\n"
    "attente-20-min;2026-01;siege;;85,5;%;200\n"
    "attente-20-min;2026-02;;;90;%;150\n"
)


def test_import_of_a_good_file_lands_whole_and_is_audited_once(world):
    result = measures.import_measurements(None, world.caf, GOOD.encode(), "mesures.csv")
    assert result.ok and result.created == 2
    on_site = Measurement.objects.get(period_start=date(2026, 1, 1), site=world.site)
    assert (on_site.value, on_site.sample, on_site.provenance) == (
        Decimal("85.5"),
        200,
        "imported",
    )
    assert AuditEvent.objects.filter(action="mesures.importées").count() == 1


def test_reimporting_the_same_file_changes_nothing(world):
    measures.import_measurements(None, world.caf, GOOD.encode(), "mesures.csv")
    before = list(Measurement.objects.values_list("pk", "value", "sample", "recorded_at"))
    again = measures.import_measurements(None, world.caf, GOOD.encode(), "mesures.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert list(Measurement.objects.values_list("pk", "value", "sample", "recorded_at")) == before


def test_one_bad_line_rejects_the_whole_file_with_exact_lines_and_columns(world):
    content = (
        "indicateur;periode;site;valeur;unite\n"
        "attente-20-min;2026-01;;85;%\n"  # line 2: good
        "inconnu;2026-02;;85;%\n"  # line 3: unknown indicator
        "attente-20-min;2026-13;;85;%\n"  # line 4: impossible period
        "attente-20-min;2026-03;metz;85;%\n"  # line 5: site of another organisation
        "attente-20-min;2026-04;;beaucoup;%\n"  # line 6: not a number
        "attente-20-min;2026-05;;12;minutes\n"  # line 7: wrong unit
        "attente-20-min;2026-06;;88;%\n"  # line 8: good
    )
    count = Measurement.objects.count()
    result = measures.import_measurements(None, world.caf, content.encode(), "lot.csv")
    assert not result.ok
    assert [(e.line, e.column) for e in result.errors] == [
        (3, "indicateur"),
        (4, "période"),
        (5, "site"),
        (6, "valeur"),
        (7, "unité"),
    ]
    assert "indicateur « inconnu » inconnu" in result.errors[0].reason
    assert "aucun site « metz »" in result.errors[2].reason
    assert Measurement.objects.count() == count
    assert not AuditEvent.objects.filter(action="mesures.importées").exists()
    report = result.report_csv().splitlines()
    assert report[0] == "fichier;ligne;colonne;motif"
    assert report[1].startswith("lot.csv;3;indicateur;")


def test_windows_1252_semicolon_file_with_french_dates_imports(world):
    content = (
        "Indicateur;Période;Site;Valeur;Unité;Effectif\r\n"
        "attente-20-min;février 2026;siege;81,5;%;120\r\n"
        "attente-20-min;03/2026;siege;79;%;130\r\n"
        "attente-20-min;août 2026;;90;%;140\r\n"
    ).encode("cp1252")
    result = measures.import_measurements(None, world.caf, content, "export-excel.csv")
    assert result.ok, result.errors
    assert set(
        Measurement.objects.filter(provenance="imported").values_list("period_start", "value")
    ) == {
        (date(2026, 2, 1), Decimal("81.5")),
        (date(2026, 3, 1), Decimal("79.0")),
        (date(2026, 8, 1), Decimal("90.0")),
    }


def test_comma_separated_utf8_file_with_numerator_and_denominator(world):
    content = "indicateur,periode,numerateur,denominateur\nattente-20-min,2026-T1,421,500\n"
    result = measures.import_measurements(None, world.caf, content.encode(), "t1.csv")
    assert result.ok, result.errors
    measurement = Measurement.objects.get(period_kind="quarter")
    assert (measurement.value, measurement.sample) == (Decimal("84.2"), 500)


def test_xlsx_file_imports(world, tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["indicateur", "periode", "site", "valeur", "effectif"])
    sheet.append(["attente-20-min", "2026-04", "siege", 77.5, 140])
    path = tmp_path / "mesures.xlsx"
    book.save(path)
    result = measures.import_measurements(None, world.caf, path.read_bytes(), "mesures.xlsx")
    assert result.ok, result.errors
    assert Measurement.objects.get(period_start=date(2026, 4, 1)).value == Decimal("77.5")


# ----- alerts --------------------------------------------------------------------------


def _month(world, month, value):
    return measures.save_measurement(
        world.indicator,
        world.caf,
        period_kind="month",
        period_start=date(2026, month, 1),
        value=value,
        sample=150,
    )


def test_alert_once_per_crossing(world):
    qualite = world.people["qualite"]
    _month(world, 1, 85)  # above the 80 % target
    assert Notice.objects.count() == 0
    _month(world, 2, 75)  # crosses below: one notice
    _month(world, 3, 74)  # still below: nothing more
    assert Notice.objects.filter(user=qualite).count() == 1
    _month(world, 4, 82)  # back above: resets
    _month(world, 5, 70)  # below again: a second notice
    assert Notice.objects.filter(user=qualite).count() == 2
    # Only quality leads are told.
    assert Notice.objects.exclude(user=qualite).count() == 0


def test_alert_sends_one_email_per_quality_lead_after_commit(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _month(world, 1, 85)
        _month(world, 2, 60)
    assert [message.to for message in mail.outbox] == [["qualite@test.localhost"]]
    assert "sous sa cible" in mail.outbox[0].body
    assert "60,0 %" in mail.outbox[0].body


def test_rewriting_an_older_period_does_not_move_the_alert_state(world):
    _month(world, 3, 85)
    _month(world, 1, 60)  # history rewritten: the current state is still March's
    assert Notice.objects.count() == 0
    assert TargetCrossing.objects.get(site=None).below is False


def test_result_under_the_minimal_sample_does_not_alert(world):
    measures.save_measurement(
        world.indicator,
        world.caf,
        period_kind="month",
        period_start=date(2026, 1, 1),
        value=50,
        sample=99,
    )
    assert Notice.objects.count() == 0


def test_lower_is_better_indicator_alerts_when_above_target(world):
    waiting = Indicator.objects.create(
        code="attente-moyenne",
        label="Attente moyenne",
        definition="d",
        unit="minutes",
        direction="lower",
        computation="mean",
        green_threshold=15,
        amber_threshold=20,
    )
    services.set_target(None, waiting, world.caf, 15, valid_from=date(2026, 1, 1))
    for month, minutes in ((1, 14), (2, 15), (3, 16)):
        measures.save_measurement(
            waiting,
            world.caf,
            period_kind="month",
            period_start=date(2026, month, 1),
            value=minutes,
            sample=10,
        )
    # 14 and 15 meet « 15 minutes at most »; 16 does not.
    assert Notice.objects.count() == 1


# ----- chart ---------------------------------------------------------------------------


def test_chart_points_and_table_carry_the_same_numbers(world):
    starts = [date(2025, m, 1) for m in range(1, 13)]
    series = measures.results(world.indicator, world.caf, "month", starts)
    chart = line_chart("g", "Attente", series, unit="percent", target=Decimal(80))
    svg, table = str(chart.svg), str(chart.table)
    assert 'role="img"' in svg and 'aria-labelledby="g-titre g-desc"' in svg
    assert '<title id="g-titre">Attente</title>' in svg
    assert 'stroke-dasharray="6 4"' in svg  # the target line
    values = [f"{85 + m % 3}.0" for m in range(1, 13)]
    assert [part.split('"')[0] for part in svg.split('data-value="')[1:]] == values
    for value in values:
        assert f"<td>{value.replace('.', ',')} %</td>" in table
    assert table.count("<tr>") == 13  # header + 12 months


def test_chart_leaves_a_gap_for_a_result_under_the_minimal_sample(world):
    services.record_measurement(
        world.indicator,
        world.caf,
        period_kind="month",
        period_start=date(2025, 6, 1),
        value=10,
        sample=40,
    )
    starts = [date(2025, m, 1) for m in range(1, 13)]
    series = measures.results(world.indicator, world.caf, "month", starts)
    chart = line_chart("g", "Attente", series, unit="percent", target=Decimal(80))
    assert str(chart.svg).count("<circle") == 11
    assert str(chart.svg).count("M") >= 2  # the line restarts after the gap
    assert "résultat non significatif (n &lt; 100)" in str(chart.table)


# ----- recomputation in bulk -------------------------------------------------------------

YEAR_2026 = [date(2026, month, 1) for month in range(1, 7)]


@pytest.fixture
def table_source(world):
    """A computed indicator (target 80 %, minimal sample 100) whose source reads a table
    {(period start, site, channel): (within, total) or a single value}, editable by a test."""
    indicator = Indicator.objects.create(
        code="appels-decroches",
        label="Appels décrochés",
        definition="Part des appels décrochés.",
        unit="percent",
        direction="higher",
        computation="share_within",
        source="test-table",
        green_threshold=80,
        amber_threshold=70,
        min_sample=100,
    )
    services.set_target(None, indicator, world.caf, 80, valid_from=date(2025, 1, 1))
    table = {}

    def source(organisation, site, period_kind, start, end):
        return [
            (scope_site, channel, *counts, None)
            for (when, scope_site, channel), counts in table.items()
            if when == start and (site is None or scope_site == site)
        ]

    measures.register_source("test-table", source)
    yield indicator, table
    measures.unregister_source("test-table")


def _fill(world, table, months, *, within=170, total=200):
    for start in months:
        table[(start, None, "")] = (within, total)
        table[(start, world.site, "")] = (within - 10, total)
        table[(start, None, "telephone")] = (within // 2, total // 2)


def _stored(indicator):
    return {
        (m.site_id, m.channel, m.period_start): (
            m.value,
            m.sample,
            m.numerator,
            m.denominator,
            m.provenance,
            m.source_ref,
        )
        for m in Measurement.objects.filter(indicator=indicator)
    }


def test_recompute_of_several_periods_creates_updates_and_keeps_the_right_rows(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026[:4])
    first = measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert (first.created, first.updated, first.unchanged, first.skipped) == (12, 0, 0, 0)
    march = Measurement.objects.get(indicator=indicator, site=world.site, period_start=YEAR_2026[2])
    # March changes on the siège, two new months arrive, one scope measures nothing.
    table[(YEAR_2026[2], world.site, "")] = (150, 200)
    _fill(world, table, YEAR_2026[4:])
    table[(YEAR_2026[5], None, "telephone")] = (0, 0)
    second = measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert (second.created, second.updated, second.unchanged, second.skipped) == (5, 1, 11, 1)
    stored = _stored(indicator)
    assert len(stored) == 17
    assert stored[(world.site.pk, "", YEAR_2026[2])][:4] == (
        Decimal("75.0"),
        200,
        Decimal("150"),
        Decimal("200"),
    )
    rewritten = Measurement.objects.get(pk=march.pk)  # the same row, changed in place
    assert (rewritten.value, rewritten.recorded_at > march.recorded_at) == (Decimal("75.0"), True)
    assert stored[(None, "telephone", YEAR_2026[4])][:2] == (Decimal("85.0"), 100)
    assert (None, "telephone", YEAR_2026[5]) not in stored


def test_recompute_again_writes_nothing(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026)
    measures.recompute(indicator, world.caf, "month", YEAR_2026)
    stamps = dict(Measurement.objects.filter(indicator=indicator).values_list("pk", "recorded_at"))
    with CaptureQueriesContext(connection) as queries:
        again = measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 18)
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert stamps == dict(
        Measurement.objects.filter(indicator=indicator).values_list("pk", "recorded_at")
    )


def test_recompute_alerts_once_for_the_newest_period_below_target(world, table_source):
    indicator, table = table_source
    qualite = world.people["qualite"]
    _fill(world, table, YEAR_2026[:5])  # 85 % for the organisation, 80 % on the siège
    table[(YEAR_2026[1], None, "")] = (100, 200)  # February at 50 %: an older period
    table[(YEAR_2026[5], None, "")] = (140, 200)  # June at 70 %: the newest one
    measures.recompute(indicator, world.caf, "month", YEAR_2026)
    notices = Notice.objects.filter(user=qualite)
    assert [notice.text for notice in notices] == [
        "« Appels décrochés » est passé sous sa cible : 70,0 % pour juin 2026, cible 80,0 %."
    ]
    crossing = TargetCrossing.objects.get(indicator=indicator, site=None, channel="")
    assert (crossing.below, crossing.last_period_start) == (True, YEAR_2026[5])
    # Still below at the next run, and a rewritten older period: no second alert.
    table[(YEAR_2026[0], None, "")] = (60, 200)
    measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert notices.count() == 1


def test_recompute_does_not_alert_for_an_older_period_below_target(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026)
    table[(YEAR_2026[2], None, "")] = (100, 200)  # March at 50 %, June back at 85 %
    measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert Notice.objects.count() == 0
    crossing = TargetCrossing.objects.get(indicator=indicator, site=None, channel="")
    assert (crossing.below, crossing.last_value) == (False, Decimal("85.0"))


def test_recompute_ignores_an_insignificant_newest_period_for_the_alert(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026[:5])
    table[(YEAR_2026[4], None, "")] = (100, 200)  # May at 50 % on 200 answers
    table[(YEAR_2026[5], None, "")] = (99, 99)  # June: 99 answers < 100, not significant
    measures.recompute(indicator, world.caf, "month", YEAR_2026)
    crossing = TargetCrossing.objects.get(indicator=indicator, site=None, channel="")
    assert (crossing.below, crossing.last_period_start) == (True, YEAR_2026[4])
    assert Notice.objects.count() == 1


def test_recompute_refuses_a_site_of_another_organisation_and_writes_nothing(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026[:2])
    table[(YEAR_2026[1], world.other_site, "")] = (10, 20)
    with pytest.raises(ValidationError):
        measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert not Measurement.objects.filter(indicator=indicator).exists()


def _recompute_row_by_row(indicator, organisation, period_kind, starts):
    """The former path, one save_measurement per source row, as the reference."""
    from voix.commitments import periods

    report = measures.RecomputeReport()
    for start in starts:
        start = periods.period_start(period_kind, start)
        end = periods.period_end(period_kind, start)
        result = measures.SOURCES[indicator.source](organisation, None, period_kind, start, end)
        for site, channel, numerator, denominator, sample, value in measures._rows(result, None):
            if (
                value is None
                and measures.compute_value(indicator.computation, numerator, denominator) is None
            ):
                report.count("skipped")
                continue
            _m, outcome = measures.save_measurement(
                indicator,
                organisation,
                period_kind=period_kind,
                period_start=start,
                value=value,
                sample=sample,
                numerator=numerator,
                denominator=denominator,
                site=site,
                channel=channel or "",
                source_ref=f"source:{indicator.source}",
            )
            report.count(outcome)
    return report


def _state(indicator):
    crossings = {
        (c.site_id, c.channel): (c.below, c.last_value, c.last_period_start)
        for c in TargetCrossing.objects.filter(indicator=indicator)
    }
    notices = sorted(Notice.objects.values_list("user_id", "text", "link"))
    return _stored(indicator), crossings, notices


def _reset(indicator):
    Measurement.objects.filter(indicator=indicator).delete()
    TargetCrossing.objects.filter(indicator=indicator).delete()
    Notice.objects.all().delete()


def test_recompute_in_bulk_gives_the_results_of_the_row_by_row_path(world, table_source):
    indicator, table = table_source
    services.set_target(
        None, indicator, world.caf, 75, valid_from=date(2026, 1, 1), site=world.site
    )
    services.set_target(None, indicator, world.caf, 90, valid_from=date(2026, 4, 1))
    _fill(world, table, YEAR_2026, within=173, total=201)  # 86.1 %, 81.1 %, 86.0 %
    table[(YEAR_2026[3], world.site, "")] = (1, 3)  # 33.3 %, under the minimal sample
    table[(YEAR_2026[4], None, "courriel")] = (0, 0)  # nothing measured: skipped
    table[(YEAR_2026[5], world.site, "courriel")] = (149, 200)  # 74.5 %: below 75 on site
    newest_first = list(reversed(YEAR_2026))
    runs = []
    for recompute in (_recompute_row_by_row, measures.recompute):
        _reset(indicator)
        # An older state to start from: the organisation measured once, in 2025.
        measures.save_measurement(
            indicator,
            world.caf,
            period_kind="month",
            period_start=date(2025, 12, 1),
            value=95,
            sample=500,
        )
        first = recompute(indicator, world.caf, "month", newest_first)
        table[(YEAR_2026[2], None, "")] = (120, 200)  # a correction, then a second run
        second = recompute(indicator, world.caf, "month", newest_first)
        table[(YEAR_2026[2], None, "")] = (173, 201)
        runs.append((first, second, _state(indicator)))
    assert runs[0] == runs[1]
    first, second, (stored, crossings, notices) = runs[1]
    assert (first.created, first.skipped, second.updated, second.unchanged) == (19, 1, 1, 18)
    assert crossings[(None, "")] == (True, Decimal("86.1"), YEAR_2026[5])  # target 90 from April
    assert crossings[(world.site.pk, "courriel")][0] is True  # the site's own target, 75
    assert len(notices) == 3


def test_a_source_computing_several_periods_at_once_is_asked_once(world, table_source):
    indicator, table = table_source
    _fill(world, table, YEAR_2026[:3])
    one_by_one = measures.SOURCES["test-table"]
    calls = []

    def many(organisation, site, period_kind, bounds):
        calls.append([start for start, _end in bounds])
        return {
            start: one_by_one(organisation, site, period_kind, start, end) for start, end in bounds
        }

    measures.register_source("test-table", one_by_one, many=many)
    report = measures.recompute(indicator, world.caf, "month", YEAR_2026)
    assert calls == [YEAR_2026]
    assert (report.created, report.unchanged) == (9, 0)
    assert len(_stored(indicator)) == 9
