from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "voix.surveys"
    label = "surveys"
    verbose_name = "Enquêtes de satisfaction"

    def ready(self):
        from . import indicators

        indicators.register()
