from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "voix.appointments"
    label = "appointments"
    verbose_name = "Rendez-vous"

    def ready(self):
        from . import indicators

        indicators.register()
