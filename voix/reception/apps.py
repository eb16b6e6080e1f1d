from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "voix.reception"
    label = "reception"
    verbose_name = "Accueil et file d'attente"

    def ready(self):
        from voix.commitments.measures import register_source

        from .indicators import visits_within_20_minutes

        register_source("reception.wait", visits_within_20_minutes)
