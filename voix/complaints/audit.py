"""Labels of this app's audit actions (voix.core.models.AUDIT_ACTIONS is extended with them)."""

ACTIONS = {
    "réclamation.créée": "Réclamation enregistrée",
    "réclamation.accusée": "Accusé de réception de la réclamation",
    "réclamation.assignée": "Réclamation confiée",
    "réclamation.note_ajoutée": "Note interne ajoutée à la réclamation",
    "réclamation.étiquetée": "Thème et causes de la réclamation",
    "réclamation.mise_en_attente": "Réclamation en attente de pièces",
    "réclamation.reprise": "Réclamation reprise",
    "réclamation.répondue": "Réponse à la réclamation envoyée",
    "réclamation.close": "Réclamation close",
    "réclamation.satisfaction": "Avis de l'usager sur la réponse",
    "réclamation.consultée": "Données personnelles d'une réclamation consultées",
    "réclamation.thème_enregistré": "Thème de réclamation enregistré",
    "réclamation.cause_enregistrée": "Cause de réclamation enregistrée",
    "médiation.saisie": "Médiateur saisi",
    "médiation.prise": "Médiation prise en charge",
    "médiation.décidée": "Décision du médiateur",
}
