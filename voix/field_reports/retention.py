"""Retention of the field reports' personal data (found by ``voix.core.retention``).

Assumption (docs/retention.md): a report's free texts — what happened, the suggestion and
the triage messages — may name a user or a colleague, so they are blanked three years after
the report was filed; the rest (theme, relay, urgency, how many users, outcome) stays for
the counts.
"""

from voix.core.retention import register_data_type

from .services import purge_texts

TEXTS_KEY = "remontees_textes"
TEXTS_DAYS = 3 * 365

register_data_type(
    TEXTS_KEY,
    "Textes des remontées de terrain",
    TEXTS_DAYS,
    purge_texts,
    description="Ce qui s'est passé, la suggestion et les messages du tri ; comptés depuis "
    "le dépôt. Le thème, le relais, l'urgence et la suite donnée restent pour les synthèses.",
)
