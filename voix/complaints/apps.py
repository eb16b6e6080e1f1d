from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "voix.complaints"
    label = "complaints"
    verbose_name = "Réclamations, suggestions et médiation"

    def ready(self):
        from . import indicators

        indicators.register()
