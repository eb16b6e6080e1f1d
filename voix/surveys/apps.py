from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "voix.surveys"
    label = "surveys"
    verbose_name = "Enquêtes de satisfaction"

    def ready(self):
        from voix.core.models import AUDIT_ACTIONS

        from . import audit, indicators

        AUDIT_ACTIONS.update(audit.ACTIONS)
        indicators.register()
