from django.apps import AppConfig


class FieldReportsConfig(AppConfig):
    name = "voix.field_reports"
    label = "field_reports"
    verbose_name = "Remontées de terrain"

    def ready(self):
        from voix.core.models import AUDIT_ACTIONS

        from . import audit

        AUDIT_ACTIONS.update(audit.ACTIONS)
