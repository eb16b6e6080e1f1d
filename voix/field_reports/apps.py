from django.apps import AppConfig


class FieldReportsConfig(AppConfig):
    name = "voix.field_reports"
    label = "field_reports"
    verbose_name = "Remontées de terrain"
