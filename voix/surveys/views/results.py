"""Results of a questionnaire, its verbatims and the exports of its answers — for quality
leads, managers and administrators of the organisation; a manager whose membership is
narrowed to a site sees only that site's answers. The ≥ 100 answers rule is applied by
voix.surveys.results; the charts are server-rendered SVG bars with their data table."""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .. import exports, results, scales
from ..forms import ResultsFilterForm, VerbatimFilterForm
from ..models import LinkChannel
from .builder import NAV, READERS, can_edit, reader_required, survey_for

PAGE_SIZE = 20
FILTER_NAMES = ("periode", "site", "canal")


def _selection(request, survey, form_class=ResultsFilterForm):
    """(form, selection): the filters read from the query string, within the reader's
    sites (a filter the reader may not use is ignored)."""
    today = timezone.localdate()
    allowed = results.site_restriction(request.user, survey.organisation)
    sites = survey.organisation.sites.order_by("name")
    if allowed is not None:
        sites = sites.filter(pk__in=allowed)
    form = form_class(request.GET or None, sites=sites, today=today)
    period, start, end = results.parse_period(form.value("periode") or "", today)
    selection = results.Selection(
        period,
        start,
        end,
        site=form.value("site"),
        channel=form.value("canal") or "",
        allowed_sites=allowed,
    )
    return form, selection


def _query(request, names=FILTER_NAMES) -> str:
    query = request.GET.copy()
    for key in list(query):
        if key not in names:
            query.pop(key)
    return query.urlencode()


# ----- bars (SVG) with their data table ------------------------------------------------------

WIDTH, LABEL_W, BAR_H, GAP = 640, 220, 20, 8


@dataclass
class Bars:
    svg: SafeString
    table: SafeString


def bar_chart(chart_id: str, title: str, rows, *, shares: bool = True) -> Bars:
    """Horizontal bars for *rows* [(label, value or None, shown text, count)] — *shares*:
    values are percentages (0–100), else numbers scaled to the largest — and the same rows
    as a table (the chart's text alternative)."""
    values = [value for _label, value, _text, _count in rows if value is not None]
    top = 100.0 if shares else max([float(v) for v in values] + [1.0])
    plot = WIDTH - LABEL_W - 90
    height = len(rows) * (BAR_H + GAP) + GAP
    title_id, desc_id = f"{chart_id}-titre", f"{chart_id}-desc"
    described = " ; ".join(f"{label} : {text}" for label, _value, text, _count in rows)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="voix-chart" role="img" '
            'viewBox="0 0 {} {}" width="100%" aria-labelledby="{} {}">'
            '<title id="{}">{}</title><desc id="{}">{}</desc>',
            WIDTH,
            height,
            title_id,
            desc_id,
            title_id,
            title,
            desc_id,
            described,
        )
    ]
    for index, (label, value, text, _count) in enumerate(rows):
        y = GAP + index * (BAR_H + GAP)
        short = label if len(label) <= 32 else label[:31] + "…"
        width = 0 if value is None else round(plot * float(value) / top, 1)
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="12" fill="currentColor" text-anchor="end">{}'
                "</text>"
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#000091"/>'
                '<text x="{}" y="{}" font-size="12" fill="currentColor">{}</text>',
                LABEL_W - 8,
                y + 14,
                short,
                LABEL_W,
                y,
                width,
                BAR_H,
                LABEL_W + width + 6,
                y + 14,
                text,
            )
        )
    parts.append(mark_safe("</svg>"))
    body = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
        ((label, count, text) for label, _value, text, count in rows),
    )
    table = format_html(
        '<div class="fr-table fr-table--sm" id="{}-table"><table>'
        "<caption>{} — données du graphique</caption>"
        '<thead><tr><th scope="col">Réponse</th><th scope="col">Nombre</th>'
        '<th scope="col">Part</th></tr></thead><tbody>{}</tbody></table></div>',
        chart_id,
        title,
        body,
    )
    return Bars(mark_safe("".join(parts)), table)


def _percent_text(value) -> str:
    return "—" if value is None else f"{results.french_number(value)} %"


def _question_chart(result: results.QuestionResult):
    rows = [(row.label, row.percent, _percent_text(row.percent), row.count) for row in result.rows]
    return bar_chart(f"question-{result.question.pk}", result.question.label, rows)


def _monthly_chart(months):
    rows = [(group.label, group.answers, str(group.answers), group.answers) for group in months]
    # Its data table is the « Résultats par mois » table under it.
    return bar_chart("reponses-par-mois", "Nombre de réponses par mois", rows, shares=False)


# ----- pages ----------------------------------------------------------------------------------


@reader_required
def survey_results(request, pk):
    survey = survey_for(request, pk, READERS)
    form, selection = _selection(request, survey)
    answers = results.responses(survey, selection)
    keys = results.figure_keys(survey)
    questions = []
    for result in results.distributions(survey, answers):
        chart = _question_chart(result) if result.shown and not result.text else None
        questions.append((result, chart))
    months = results.by_month(answers, keys, selection, survey.organisation)
    return render(
        request,
        "surveys/staff/results.html",
        {
            "survey": survey,
            "form": form,
            "selection": selection,
            "summary": results.summary(answers, keys),
            "by_site": results.by_site(answers, keys, survey.organisation)
            if selection.site is None
            else [],
            "by_channel": results.by_channel(answers, keys) if not selection.channel else [],
            "months": months,
            "monthly_chart": _monthly_chart(months),
            "questions": questions,
            "headers": [label for key, label, _u, _k in results.HEADLINE if key in keys],
            "query": _query(request),
            "narrowed": selection.allowed_sites is not None,
            "min_answers": results.MIN_ANSWERS,
            "hidden": results.HIDDEN,
            "editor": can_edit(request.user, survey),
            "nav": NAV,
        },
    )


@reader_required
def survey_verbatims(request, pk):
    survey = survey_for(request, pk, READERS)
    form, selection = _selection(request, survey, VerbatimFilterForm)
    filters = results.VerbatimFilters(
        satisfaction=form.value("satisfaction") or "",
        overall=form.value("globale"),
        search=form.value("q") or "",
    )
    rows = results.verbatims(results.responses(survey, selection), filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    channels = dict(LinkChannel.choices)
    satisfaction_labels = {o.score: o.label for o in scales.SATISFACTION.options}
    for response in page.object_list:
        response.channel_label = channels.get(response.channel, response.channel)
        response.satisfaction_label = satisfaction_labels.get(response.jdma_satisfaction, "")
    return render(
        request,
        "surveys/staff/verbatims.html",
        {
            "survey": survey,
            "form": form,
            "selection": selection,
            "page": page,
            "query": _query(request, (*FILTER_NAMES, "satisfaction", "globale", "q")),
            "narrowed": selection.allowed_sites is not None,
            "nav": NAV,
        },
    )


@reader_required
def survey_export(request, pk, fmt):
    survey = survey_for(request, pk, READERS)
    if fmt not in ("csv", "xlsx"):
        raise Http404("Format inconnu.")
    _form, selection = _selection(request, survey)
    answers = results.responses(survey, selection).select_related(None)
    name = exports.filename(survey, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            exports.csv_stream(survey, answers), content_type="text/csv; charset=utf-8"
        )
    else:
        response = HttpResponse(
            exports.xlsx_bytes(survey, answers),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


urls = [
    path("enquetes/<int:pk>/resultats/", survey_results, name="results"),
    path("enquetes/<int:pk>/verbatims/", survey_verbatims, name="verbatims"),
    path("enquetes/<int:pk>/export.<str:fmt>", survey_export, name="export"),
]
