from django.apps import AppConfig


class ReceptionConfig(AppConfig):
    name = "voix.reception"
    label = "reception"
    verbose_name = "Accueil et file d'attente"
