"""Exports of a questionnaire's answers: CSV (semicolons, UTF-8 with a BOM, as French Excel
opens it) streamed row by row, and XLSX (openpyxl, write-only).

One row per answer: its number, date, site and channel, then one column per question in
the questionnaire's order, holding what the person chose as they read it (« Très bien »,
« Par téléphone, Sur internet »); CSAT and NPS answers stay numbers. Free text that a
spreadsheet would run as a formula (starting with =, +, −, @) is prefixed with an
apostrophe: the answers come from the public.
"""

import csv
import io
from datetime import datetime

from django.utils import timezone

from . import scales
from .models import LinkChannel, QuestionKind

FIXED_COLUMNS = ["N°", "Reçue le", "Site", "Canal"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_KINDS = (QuestionKind.CSAT, QuestionKind.NPS)
CHUNK = 2000


def safe_text(value):
    """Neutralise a spreadsheet formula in a text cell."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def filename(survey, extension: str) -> str:
    today = timezone.localdate()
    return f"enquete-{survey.pk}-reponses-{today:%Y-%m-%d}.{extension}"


def columns(survey) -> tuple[list[str], list]:
    """The header and the questions, in the questionnaire's order."""
    questions = list(survey.questions.order_by("position", "pk"))
    return FIXED_COLUMNS + [q.label for q in questions], questions


def _cell(question, answers: dict, verbatim: str):
    value = answers.get(question.code)
    if question.kind == QuestionKind.JDMA_VERBATIM and not value:
        value = verbatim
    if value is None or value == "" or value == []:
        return None
    if question.kind in NUMERIC_KINDS:
        try:
            return int(value)
        except (TypeError, ValueError):
            return safe_text(str(value))
    return safe_text(scales.label_of(question, value))


def rows(survey, queryset):
    """Each answer as a list of Python values (datetime local and naive, None for blank)."""
    _header, questions = columns(survey)
    channels = dict(LinkChannel.choices)
    tz = timezone.get_current_timezone()
    values = (
        queryset.order_by("submitted_at", "pk")
        .values_list("pk", "submitted_at", "site__name", "channel", "answers", "verbatim")
        .iterator(chunk_size=CHUNK)
    )
    for pk, submitted_at, site_name, channel, answers, verbatim in values:
        local: datetime = submitted_at.astimezone(tz).replace(tzinfo=None)
        yield [
            pk,
            local,
            site_name or "",
            channels.get(channel, channel),
            *(_cell(q, answers or {}, verbatim) for q in questions),
        ]


class _Line:
    """A file-like object whose write() returns what was written (for csv.writer)."""

    def write(self, value):
        return value


def csv_stream(survey, queryset):
    """The CSV, line by line (the first one starts with the BOM)."""
    writer = csv.writer(_Line(), delimiter=";")
    header, _questions = columns(survey)
    yield "\ufeff" + writer.writerow(header)
    for row in rows(survey, queryset):
        row[1] = row[1].strftime("%d/%m/%Y %H:%M")
        yield writer.writerow(["" if value is None else value for value in row])


def xlsx_bytes(survey, queryset) -> bytes:
    """The XLSX workbook: one sheet « Réponses », dates as dates, scores as numbers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Réponses")
    header, _questions = columns(survey)
    bold = Font(bold=True)
    cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    sheet.freeze_panes = "A2"
    for row in rows(survey, queryset):
        date_cell = WriteOnlyCell(sheet, value=row[1])
        date_cell.number_format = "DD/MM/YYYY HH:MM"
        sheet.append([row[0], date_cell, *row[2:]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
