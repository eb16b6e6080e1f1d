"""Exports of the answers: one row per answer, one column per question, CSV for French
Excel (BOM, semicolons) streamed, XLSX readable by openpyxl; filters and scoping apply."""

import csv
import io
from datetime import datetime

import openpyxl
from django.http import StreamingHttpResponse
from django.urls import reverse

from voix.surveys import services
from voix.surveys.models import QuestionKind


def csv_rows(response):
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=";"))


def test_the_csv_is_streamed_with_a_bom_and_semicolons(world, client_for):
    response = client_for("qualite").get(reverse("surveys:export", args=[world.survey.pk, "csv"]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="enquete-')
    rows = csv_rows(response)
    labels = list(world.survey.questions.order_by("position").values_list("label", flat=True))
    assert rows[0] == ["N°", "Reçue le", "Site", "Canal", *labels]
    assert len(rows) == 1 + 3
    oldest = rows[1]  # oldest first
    assert oldest[2:4] == ["Siège test", "Tablette de l'accueil"]
    assert oldest[4] == "Pas bien"
    assert "Par téléphone, Au guichet" in oldest
    assert oldest[-1] == "Trop d'attente au téléphone."
    datetime.strptime(oldest[1], "%d/%m/%Y %H:%M")


def test_the_xlsx_has_one_row_per_answer_and_numbers_stay_numbers(world, client_for):
    response = client_for("qualite").get(reverse("surveys:export", args=[world.survey.pk, "xlsx"]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Réponses"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:4] == ("N°", "Reçue le", "Site", "Canal")
    overall = header.index(world.survey.questions.get(overall=True).label)
    assert len(rows) == 4
    assert [row[overall] for row in rows[1:]] == [2, 4, 5]  # oldest first, as numbers
    assert all(isinstance(row[1], datetime) for row in rows[1:])


def test_a_formula_typed_in_a_comment_is_neutralised(world, client_for):
    services.submit_response(
        link=world.survey_link,
        answers={"satisfaction": "moyen", "satisfaction_globale": "3", "verbatim": "=1+1"},
        nonce="formule",
    )
    url = reverse("surveys:export", args=[world.survey.pk, "xlsx"])
    book = openpyxl.load_workbook(io.BytesIO(client_for("qualite").get(url).content))
    values = [cell for row in book.active.iter_rows(values_only=True) for cell in row]
    assert "'=1+1" in values
    rows = csv_rows(
        client_for("qualite").get(reverse("surveys:export", args=[world.survey.pk, "csv"]))
    )
    assert rows[-1][-1] == "'=1+1"


def test_exports_follow_the_filters(world, client_for):
    url = reverse("surveys:export", args=[world.survey.pk, "csv"])
    rows = csv_rows(client_for("qualite").get(url, {"canal": "borne"}))
    assert len(rows) == 2


def test_a_question_added_later_is_an_empty_column_for_older_answers(world, client_for):
    services.save_question(None, world.survey, kind=QuestionKind.YES_NO, label="Revenir ?")
    rows = csv_rows(
        client_for("qualite").get(reverse("surveys:export", args=[world.survey.pk, "csv"]))
    )
    assert rows[0][-1] == "Revenir ?"
    assert {row[-1] for row in rows[1:]} == {""}
