from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "voix.core"
    label = "core"
    verbose_name = "Voix — socle"
