"""Server-rendered SVG line charts with their data-table twin.

The same function feeds the pilotage pages and the PDF poster: no JavaScript, the chart is
an image with a text alternative, and the table carries exactly the same figures for
people who cannot see the chart (RGAA: a complex image has a structured alternative).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .measures import Result, format_value

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 36, 16, 40
SHORT_MONTHS = [
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
]


@dataclass
class Chart:
    svg: SafeString
    table: SafeString
    # (label, shown value text, sample) per period, the one source of both renderings
    rows: list


def _short_label(result: Result) -> str:
    if result.period_kind == "month":
        return f"{SHORT_MONTHS[result.start.month - 1]} {result.start:%y}"
    return result.label


def _shown(result: Result, unit: str) -> str:
    if result.value is None:
        return "aucune donnée"
    if not result.significant:
        return f"résultat non significatif (n < {result.min_sample})"
    return format_value(result.value, unit)


def line_chart(
    chart_id: str, title: str, results: list[Result], *, unit: str, target: Decimal | None = None
) -> Chart:
    """An accessible SVG line chart of *results* (a gap where a result is missing or under
    the minimal sample), the target as a dashed line, and the same data as a table."""
    points = [r.value if r.significant else None for r in results]
    known = [v for v in points if v is not None] + ([target] if target is not None else [])
    if unit == "percent":
        low, high = Decimal(0), Decimal(100)
    elif known:
        low, high = min(known), max(known)
        margin = (high - low) / 10 or Decimal(1)
        low, high = max(Decimal(0), low - margin), high + margin
    else:
        low, high = Decimal(0), Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(results) - 1, 1)

    def x(i):
        return round(LEFT + i * step, 1)

    def y(v):
        return round(TOP + plot_h - float((v - low) / (high - low)) * plot_h, 1)

    segments, current = [], []
    for i, value in enumerate(points):
        if value is None:
            if current:
                segments.append(current)
            current = []
        else:
            current.append((x(i), y(value)))
    if current:
        segments.append(current)
    path = " ".join(
        "M" + " L".join(f"{px},{py}" for px, py in segment) for segment in segments if segment
    )
    rows = [(r.label, _shown(r, unit), r.sample) for r in results]
    title_id, desc_id = f"{chart_id}-titre", f"{chart_id}-desc"
    described = ", ".join(f"{label} : {shown}" for label, shown, _ in rows)
    if target is not None:
        described += f". Cible : {format_value(target, unit)}."
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="voix-chart" role="img" '
            'viewBox="0 0 {} {}" width="100%" aria-labelledby="{} {}">'
            '<title id="{}">{}</title><desc id="{}">{}</desc>',
            WIDTH,
            HEIGHT,
            title_id,
            desc_id,
            title_id,
            title,
            desc_id,
            described,
        ),
        # Axes and the two bounds of the scale.
        format_html(
            '<g class="voix-chart__axis" stroke="currentColor" stroke-width="1">'
            '<line x1="{}" y1="{}" x2="{}" y2="{}"/><line x1="{}" y1="{}" x2="{}" y2="{}"/></g>',
            LEFT,
            TOP,
            LEFT,
            TOP + plot_h,
            LEFT,
            TOP + plot_h,
            WIDTH - RIGHT,
            TOP + plot_h,
        ),
        format_html(
            '<g font-size="12" fill="currentColor" text-anchor="end">'
            '<text x="{}" y="{}">{}</text><text x="{}" y="{}">{}</text></g>',
            LEFT - 6,
            TOP + 4,
            format_value(high, unit),
            LEFT - 6,
            TOP + plot_h + 4,
            format_value(low, unit),
        ),
        format_html_join(
            "",
            '<text x="{}" y="{}" font-size="11" fill="currentColor" text-anchor="middle">{}</text>',
            ((x(i), HEIGHT - 12, _short_label(r)) for i, r in enumerate(results)),
        ),
    ]
    if target is not None:
        parts.append(
            format_html(
                '<line class="voix-chart__target" x1="{}" y1="{}" x2="{}" y2="{}" '
                'stroke="currentColor" stroke-width="1.5" stroke-dasharray="6 4"/>'
                '<text x="{}" y="{}" font-size="11" fill="currentColor" text-anchor="end">'
                "cible {}</text>",
                LEFT,
                y(target),
                WIDTH - RIGHT,
                y(target),
                WIDTH - RIGHT,
                y(target) - 4,
                format_value(target, unit),
            )
        )
    if path:
        parts.append(
            format_html(
                '<path class="voix-chart__line" d="{}" fill="none" stroke="#000091" '
                'stroke-width="2"/>',
                path,
            )
        )
    parts.append(
        format_html_join(
            "",
            '<circle class="voix-chart__point" cx="{}" cy="{}" r="4" fill="#000091" '
            'data-value="{}"/>',
            (
                (x(i), y(value), f"{value:.1f}")
                for i, value in enumerate(points)
                if value is not None
            ),
        )
    )
    parts.append(mark_safe("</svg>"))
    svg = mark_safe("".join(parts))
    table = _table(chart_id, title, rows, target, unit)
    return Chart(svg=svg, table=table, rows=rows)


def _table(chart_id, title, rows, target, unit) -> SafeString:
    target_text = format_value(target, unit) if target is not None else "—"
    body = format_html_join(
        "",
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td><td>{}</td></tr>',
        ((label, shown, sample or "—", target_text) for label, shown, sample in rows),
    )
    return format_html(
        '<div class="fr-table fr-table--no-caption-sm" id="{}-table"><table>'
        "<caption>{} — données du graphique</caption>"
        '<thead><tr><th scope="col">Période</th><th scope="col">Résultat</th>'
        '<th scope="col">Effectif</th><th scope="col">Cible</th></tr></thead>'
        "<tbody>{}</tbody></table></div>",
        escape(chart_id),
        title,
        body,
    )
