"""Results of a questionnaire: the official scoring, the ≥ 100 answers rule, filters by
period, site and channel, the verbatims, and who may read what."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from voix.core import services as core_services
from voix.core.models import Role
from voix.surveys import results, services
from voix.surveys.models import LinkChannel, QuestionKind, Response

GOOD = {"satisfaction": "tres_bien", "satisfaction_globale": "5", "comprehension": "5"}
BAD = {"satisfaction": "pas_bien", "satisfaction_globale": "1", "comprehension": "1"}
NEUTRAL = {"satisfaction": "moyen", "satisfaction_globale": "3"}


NONCES = itertools.count()


def answer(link, answers, count, *, now=None, prefix="r"):
    now = now or timezone.now() - timedelta(hours=1)
    for _ in range(count):
        services.submit_response(
            link=link, answers=answers, nonce=f"{prefix}-{next(NONCES)}", now=now
        )


def whole_year(survey, **extra):
    today = timezone.localdate()
    period, start, end = results.period_bounds("12mois", None, today)
    return results.Selection(period, start, end, **extra)


def figure(summary, key):
    return next(f for f in summary.figures if f.key == key)


# ----- the ≥ 100 answers rule -------------------------------------------------------------


def test_a_figure_under_100_answers_shows_only_its_count(world):
    answer(world.survey_link, GOOD, 96)  # + the world's 3 answers = 99
    rows = results.responses(world.survey, whole_year(world.survey))
    summary = results.summary(rows, results.figure_keys(world.survey))
    satisfaction = figure(summary, "jdma_satisfaction")
    assert satisfaction.sample == 99
    assert not satisfaction.shown
    assert satisfaction.text == "99 réponses — moins de 100 réponses : résultat non affiché"


def test_a_figure_shows_from_the_hundredth_answer(world):
    answer(world.survey_link, GOOD, 97)
    rows = results.responses(world.survey, whole_year(world.survey))
    summary = results.summary(rows, results.figure_keys(world.survey))
    satisfaction = figure(summary, "jdma_satisfaction")
    assert satisfaction.sample == 100 and satisfaction.shown
    # 98 × 10 + 5 (moyen) + 0 (pas bien) over 100 answers
    assert satisfaction.value == Decimal("9.9")
    assert satisfaction.text == "9,9 / 10"


def test_the_rule_counts_the_answers_to_the_figures_own_question(world):
    """Everyone answered the satisfaction question, few looked for help: « aide joignable »
    stays hidden while the satisfaction shows."""
    answer(world.survey_link, GOOD, 120)
    rows = results.responses(world.survey, whole_year(world.survey))
    summary = results.summary(rows, results.figure_keys(world.survey))
    assert figure(summary, "jdma_satisfaction").shown
    reached = figure(summary, "jdma_help_reached")
    assert reached.sample == 2 and not reached.shown


def test_the_results_page_hides_a_small_sites_figures_and_says_why(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    answer(world.survey_link, GOOD, 110)
    answer(relay_link, BAD, 20)
    html = client_for("qualite").get(reverse("surveys:results", args=[world.survey.pk])).content
    html = html.decode()
    assert "moins de 100 réponses : résultat non affiché" in html
    assert "20 rép. — non affiché" in html  # the relay's row in « Par site »


def test_a_distribution_is_hidden_below_100_answers(world):
    rows = results.responses(world.survey, whole_year(world.survey))
    first = results.distributions(world.survey, rows)[0]
    assert first.answered == 3 and not first.shown
    assert first.hidden_text == "3 réponses — moins de 100 réponses : résultat non affiché"


# ----- official scoring ---------------------------------------------------------------------


def test_jdma_satisfaction_is_the_mean_of_0_5_10_and_csat_satisfied_is_4_or_5(world):
    answer(world.survey_link, GOOD, 60)
    answer(world.survey_link, {**BAD, "satisfaction": "moyen", "satisfaction_globale": "3"}, 40)
    answer(world.survey_link, BAD, 17)
    rows = results.responses(world.survey, whole_year(world.survey))
    summary = results.summary(rows, results.figure_keys(world.survey))
    # world: tres_bien/5, moyen/4, pas_bien/2 → 61 × 10 + 41 × 5 + 18 × 0 over 120
    assert figure(summary, "jdma_satisfaction").value == Decimal("6.8")
    # satisfied 4–5: 61 + 1 = 62; dissatisfied 1–2: 17 + 1 = 18 → 51.7 %, net +36.7
    assert figure(summary, "overall_satisfaction").value == Decimal("51.7")
    assert figure(summary, "net_satisfaction").value == Decimal("36.7")


def test_nps_is_promoters_minus_detractors(world):
    survey = world.survey
    services.save_question(None, survey, kind=QuestionKind.NPS, label="Recommanderiez-vous ?")
    code = survey.questions.get(kind=QuestionKind.NPS).code
    for value, count in {"10": 30, "9": 20, "8": 20, "7": 10, "6": 5, "3": 10, "0": 5}.items():
        answer(world.survey_link, {**NEUTRAL, code: value}, count, prefix=value)
    rows = results.responses(survey, whole_year(survey))
    nps = figure(results.summary(rows, results.figure_keys(survey)), "nps")
    assert (nps.sample, nps.value) == (100, Decimal("30.0"))  # 50 % − 20 %
    assert nps.text == "+30,0 points"
    result = next(r for r in results.distributions(survey, rows) if r.question.code == code)
    figures = {f.key: f.value for f in result.figures}
    assert figures == {
        "promoters": Decimal("50.0"),
        "passives": Decimal("30.0"),
        "detractors": Decimal("20.0"),
        "nps": Decimal("30.0"),
    }
    assert [row.count for row in result.rows] == [5, 0, 0, 10, 0, 0, 5, 10, 20, 20, 30]


def test_choices_and_multiple_choices_are_counted_per_option(world):
    survey = world.survey
    services.save_question(
        None, survey, kind=QuestionKind.MULTIPLE, label="Pourquoi ?", choices="A\nB\nC"
    )
    code = survey.questions.get(kind=QuestionKind.MULTIPLE).code
    answer(world.survey_link, {**NEUTRAL, code: ["A", "B"]}, 60, prefix="ab")
    answer(world.survey_link, {**NEUTRAL, code: ["B"]}, 40, prefix="b")
    rows = results.responses(survey, whole_year(survey))
    result = next(r for r in results.distributions(survey, rows) if r.question.code == code)
    assert result.multiple and result.answered == 100
    assert [(row.label, row.count, row.percent) for row in result.rows] == [
        ("A", 60, Decimal("60.0")),
        ("B", 100, Decimal("100.0")),
        ("C", 0, Decimal("0.0")),
    ]


def test_help_reached_counts_those_who_looked_for_help(world):
    tried = {**NEUTRAL, "contact_tried": ["telephone"]}
    answer(world.survey_link, {**tried, "contact_reached": "oui"}, 90, prefix="oui")
    answer(world.survey_link, {**tried, "contact_reached": "non"}, 10, prefix="non")
    answer(world.survey_link, {**NEUTRAL, "contact_tried": ["aucune"]}, 50)
    rows = results.responses(world.survey, whole_year(world.survey))
    reached = figure(results.summary(rows, ["jdma_help_reached"]), "jdma_help_reached")
    # world: one « oui », one « non » → 91 / 102
    assert (reached.sample, reached.value) == (102, Decimal("89.2"))


# ----- periods, sites, channels ---------------------------------------------------------------


def test_the_rolling_12_months_start_11_months_before_this_month():
    assert results.period_bounds("12mois", None, date(2026, 3, 17)) == (
        "12mois",
        date(2025, 4, 1),
        date(2026, 3, 18),
    )
    assert results.parse_period("trimestre-2026-04-01", date(2026, 6, 3)) == (
        "trimestre",
        date(2026, 4, 1),
        date(2026, 7, 1),
    )
    assert results.parse_period("n'importe quoi", date(2026, 6, 3))[0] == "12mois"


def test_a_month_holds_the_answers_of_that_month_in_local_time(world):
    tz = timezone.get_current_timezone()
    # 31 March 23:30 in Paris is 21:30 UTC: a March answer.
    services.submit_response(
        link=world.survey_link,
        answers=GOOD,
        nonce="mars",
        now=datetime(2026, 3, 31, 23, 30, tzinfo=tz),
    )
    services.submit_response(
        link=world.survey_link,
        answers=GOOD,
        nonce="avril",
        now=datetime(2026, 4, 1, 0, 30, tzinfo=tz),
    )
    period, start, end = results.parse_period("mois-2026-03-01", date(2026, 5, 1))
    rows = results.responses(world.survey, results.Selection(period, start, end))
    assert list(rows.values_list("nonce", flat=True)) == ["mars"]


def test_filters_by_site_and_channel(world):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    answer(relay_link, BAD, 4)
    survey = world.survey
    assert results.responses(survey, whole_year(survey, site=world.relay)).count() == 4
    kiosk = results.responses(survey, whole_year(survey, channel=LinkChannel.KIOSK))
    assert kiosk.count() == 1
    groups = {
        g.label: g.answers
        for g in results.by_site(results.responses(survey, whole_year(survey)), [], world.caf)
    }
    assert groups == {"France Services test": 4, "Siège test": 3}


def test_the_results_page_filters_by_the_query_string(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    answer(relay_link, BAD, 4)
    url = reverse("surveys:results", args=[world.survey.pk])
    response = client_for("qualite").get(url, {"site": world.relay.pk})
    assert response.context["summary"].answers == 4
    response = client_for("qualite").get(url, {"canal": "borne"})
    assert response.context["summary"].answers == 1


# ----- verbatims ------------------------------------------------------------------------------


def test_verbatims_filter_by_score_and_text_newest_first(world, client_for):
    url = reverse("surveys:verbatims", args=[world.survey.pk])
    page = client_for("qualite").get(url).context["page"]
    assert [r.verbatim for r in page.object_list] == [
        "Très bon accueil, merci.",
        "Trop d'attente au téléphone.",
    ]
    bad = client_for("qualite").get(url, {"satisfaction": "pas_bien"}).context["page"]
    assert [r.verbatim for r in bad.object_list] == ["Trop d'attente au téléphone."]
    found = client_for("qualite").get(url, {"q": "ACCUEIL"}).context["page"]
    assert [r.verbatim for r in found.object_list] == ["Très bon accueil, merci."]
    overall = client_for("qualite").get(url, {"globale": "2"}).context["page"]
    assert [r.overall for r in overall.object_list] == [2]


def test_verbatims_are_paginated(world, client_for):
    answer(world.survey_link, {**GOOD, "verbatim": "Parfait."}, 25)
    url = reverse("surveys:verbatims", args=[world.survey.pk])
    first = client_for("qualite").get(url).context["page"]
    assert first.paginator.count == 27 and len(first.object_list) == 20
    second = client_for("qualite").get(url, {"page": 2}).context["page"]
    assert len(second.object_list) == 7


# ----- who reads what -------------------------------------------------------------------------


def test_a_manager_narrowed_to_a_site_sees_only_its_answers(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    answer(relay_link, {**BAD, "verbatim": "Relais : trop d'attente."}, 5)
    client = client_for("manager")
    url = reverse("surveys:results", args=[world.survey.pk])
    response = client.get(url)
    assert response.context["summary"].answers == 3
    assert [g.label for g in response.context["by_site"]] == ["Siège test"]
    # Asking for another site is ignored: still only the manager's own site.
    assert client.get(url, {"site": world.relay.pk}).context["summary"].answers == 3
    verbatims = client.get(reverse("surveys:verbatims", args=[world.survey.pk])).content.decode()
    assert "Relais : trop d'attente." not in verbatims
    export = client.get(reverse("surveys:export", args=[world.survey.pk, "csv"]))
    assert b"".join(export.streaming_content).decode().count("\r\n") == 1 + 3


def test_a_manager_of_the_whole_organisation_sees_every_site(world, client_for):
    relay_link = services.ensure_link(None, world.survey, site=world.relay, channel="relais")
    answer(relay_link, BAD, 5)
    boss = core_services.create_person(None, email="chef@test.localhost", full_name="Chef")
    core_services.add_membership(None, boss, world.caf, Role.MANAGER)
    assert results.site_restriction(boss, world.caf) is None
    assert results.site_restriction(world.people["manager"], world.caf) == {world.site.pk}
    client = client_for("anonyme")
    client.force_login(boss)
    response = client.get(reverse("surveys:results", args=[world.survey.pk]))
    assert response.context["summary"].answers == 8


def test_an_outsider_gets_404_on_the_results_verbatims_and_exports(world, client_for):
    client = client_for("outsider")
    for name, args in [
        ("surveys:results", [world.survey.pk]),
        ("surveys:verbatims", [world.survey.pk]),
        ("surveys:export", [world.survey.pk, "csv"]),
        ("surveys:export", [world.survey.pk, "xlsx"]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name


def test_agents_and_partners_do_not_read_results(world, client_for):
    url = reverse("surveys:results", args=[world.survey.pk])
    assert client_for("agent").get(url).status_code == 403
    assert client_for("partenaire").get(url).status_code == 403


def test_an_unknown_export_format_is_404(world, client_for):
    url = reverse("surveys:export", args=[world.survey.pk, "pdf"])
    assert client_for("qualite").get(url).status_code == 404


def test_responses_of_another_organisation_never_count(world):
    rows = results.responses(world.survey, whole_year(world.survey))
    assert set(rows.values_list("organisation_id", flat=True)) == {world.caf.pk}
    assert Response.objects.count() == 3
