"""One shape for refused API input, whatever the router: HTTP 422 with
{"detail": "…", "erreurs": [{"champ": "…", "message": "…"}]}, all in French."""

from django.core.exceptions import ValidationError
from ninja import Schema

REFUSED = 422


class ErrorLine(Schema):
    champ: str | None
    message: str


class ErrorOut(Schema):
    detail: str
    erreurs: list[ErrorLine] = []


def error_lines(error: ValidationError, names: dict | None = None, prefix: str = "") -> list:
    """The messages of a Django ValidationError, each with the API name of its field."""
    names = names or {}
    if hasattr(error, "error_dict"):
        return [
            {"champ": prefix + names.get(field, field), "message": message}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"champ": prefix.rstrip(".") or None, "message": m} for m in error.messages]


def refused(lines: list[dict], what: str = "Données refusées") -> dict:
    """The body of a 422 answer: a sentence naming every field, and the lines."""
    text = "; ".join(
        f"{line['champ']} : {line['message']}" if line["champ"] else line["message"]
        for line in lines
    )
    return {"detail": f"{what}, rien n'a été enregistré. {text}", "erreurs": lines}


SCHEMA_MESSAGES = {
    "missing": "champ obligatoire manquant",
    "int_parsing": "un nombre entier est attendu",
    "int_type": "un nombre entier est attendu",
    "float_parsing": "un nombre est attendu",
    "bool_parsing": "vrai ou faux (true / false) est attendu",
    "bool_type": "vrai ou faux (true / false) est attendu",
    "string_type": "un texte est attendu",
    "datetime_parsing": "une date et heure ISO 8601 est attendue (2026-03-02T09:30:00+01:00)",
    "datetime_from_date_parsing": "une date et heure ISO 8601 est attendue",
    "date_parsing": "une date ISO 8601 est attendue (2026-03-02)",
    "list_type": "une liste est attendue",
    "too_long": "trop d'éléments",
    "too_short": "pas assez d'éléments",
    "json_invalid": "le corps de la requête n'est pas un JSON valide",
}


def schema_error_lines(errors: list[dict]) -> list[dict]:
    """django-ninja's (pydantic's) English schema errors, in French."""
    lines = []
    for error in errors:
        # loc starts with where the value was ("body", "payload", "query"…).
        path = [str(part) for part in error.get("loc", ())[1:] if part != "payload"]
        field = ".".join(path) or None
        lines.append(
            {"champ": field, "message": SCHEMA_MESSAGES.get(error.get("type"), "valeur invalide")}
        )
    return lines
