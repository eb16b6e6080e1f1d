"""django-survey-and-report's side of benchmarks/surveys_answers.py: its database and its
questionnaire.

Run by the peer's own virtualenv (``.venv/bin/python setup_peer.py``), never by Voix's.
It migrates the database named by PEER_DATABASE_URL with the app's own migrations, creates
a published, anonymous, one-page questionnaire equivalent to Voix's standard one (the JDMA
questions and the overall CSAT question, in the same order, with the same scales), and
prints one JSON line: the version, the page's path and the form fields with the values a
person may send (the load generator picks among them).

The questions, in the survey app's own types:

- « De façon générale, comment ça s'est passé ? » — radio, 3 levels (required);
- clarity — radio, 5 levels;
- where help was sought — select-multiple, the 9 JDMA channels;
- help reached — radio, oui / non;
- help efficiency — radio, 5 levels;
- overall satisfaction (CSAT) — radio, 5 levels (required);
- a free-text comment (verbatim) — text.

The wordings and the labels are Voix's (voix/surveys/scales.py).

The app separates choices with commas: no label below contains one.
"""

import json
import os
import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from survey.models import Question, Survey  # noqa: E402

# Voix's wordings and scales (voix/surveys/scales.py), for an identical page.
SATISFACTION = ["Pas bien", "Moyen", "Très bien"]
CLARITY = ["Pas clair du tout", "Pas très clair", "Moyennement clair", "Clair", "Très clair"]
CHANNELS = [
    "Au guichet",
    "Par téléphone",
    "Par e-mail",
    "Par une messagerie en ligne (chat)",
    "Auprès d'un proche",
    "Auprès d'une association",
    "Sur internet",
    "Autrement",
    "Je n'ai pas eu besoin d'aide",
]
NO_HELP = CHANNELS[-1]
HELP = ["Très mauvaise", "Mauvaise", "Moyenne", "Bonne", "Très bonne"]
CSAT = [
    "Très insatisfait",
    "Plutôt insatisfait",
    "Ni satisfait ni insatisfait",
    "Plutôt satisfait",
    "Très satisfait",
]
RADIO, MULTIPLE, TEXT = Question.RADIO, Question.SELECT_MULTIPLE, Question.TEXT
QUESTIONS = [  # (wording, type, choices, required)
    ("De façon générale, comment ça s'est passé ?", RADIO, SATISFACTION, True),
    ("Les informations et les explications données étaient-elles claires ?", RADIO, CLARITY, False),
    (
        "Avez-vous cherché de l'aide pour votre démarche ? Si oui, comment ?",
        MULTIPLE,
        CHANNELS,
        False,
    ),
    ("Avez-vous réussi à obtenir de l'aide ?", RADIO, ["Oui", "Non"], False),
    ("Comment évaluez-vous l'aide que vous avez obtenue ?", RADIO, HELP, False),
    (
        "Globalement, êtes-vous satisfait du service rendu par Caf de la Mayenne ?",
        RADIO,
        CSAT,
        True,
    ),
    ("Souhaitez-vous nous en dire plus ?", TEXT, None, False),
]
KINDS = {Question.RADIO: "single", Question.SELECT_MULTIPLE: "multiple", Question.TEXT: "text"}


def main():
    call_command("migrate", verbosity=0, interactive=False)
    survey = Survey.objects.create(
        name="Votre avis sur votre démarche",
        description="Quelques questions, moins de deux minutes.",
        is_published=True,
        need_logged_user=False,
        editable_answers=False,
        display_method=Survey.ALL_IN_ONE_PAGE,
        publish_date=timezone.localdate(),
    )
    fields = []
    for order, (text, kind, choices, required) in enumerate(QUESTIONS, start=1):
        question = Question.objects.create(
            survey=survey,
            text=text,
            order=order,
            required=required,
            type=kind,
            choices=",".join(choices) if choices else None,
        )
        offered = question.get_choices() if choices else ()
        fields.append(
            {
                "name": f"question_{question.pk}",
                "kind": KINDS[kind],
                "values": [value for value, _label in offered],
                # « je n'ai pas eu besoin d'aide » is ticked alone (as Voix requires)
                "exclusive": [value for value, label in offered if label == NO_HELP],
                "required": required,
            }
        )
    print(
        json.dumps(
            {
                "version": version("django-survey-and-report"),
                "django": django.get_version(),
                "path": f"/survey/{survey.pk}/",
                "done": "/survey/confirm/",
                "fields": fields,
            }
        )
    )


if __name__ == "__main__":
    main()
