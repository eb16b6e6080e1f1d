"""Labels of this app's audit actions (voix.core.models.AUDIT_ACTIONS is extended with them)."""

ACTIONS = {
    "enquête.créée": "Questionnaire créé",
    "enquête.modifiée": "Questionnaire modifié",
    "enquête.état_changé": "État du questionnaire changé",
    "enquête.question_ajoutée": "Question ajoutée",
    "enquête.question_modifiée": "Question modifiée",
    "enquête.question_supprimée": "Question supprimée",
    "enquête.question_déplacée": "Question déplacée",
    "enquête.lien_créé": "Lien de diffusion créé",
    "enquête.lien_réactivé": "Lien de diffusion réactivé",
    "enquête.lien_désactivé": "Lien de diffusion désactivé",
    "enquête.réglages_modifiés": "Réglages des enquêtes modifiés",
    "enquête.invitation_créée": "Invitation à répondre créée",
}
