from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "voix.complaints"
    label = "complaints"
    verbose_name = "Réclamations, suggestions et médiation"

    def ready(self):
        from voix.core.models import AUDIT_ACTIONS

        from . import audit, indicators

        AUDIT_ACTIONS.update(audit.ACTIONS)
        indicators.register()
