from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "voix.commitments"
    label = "commitments"
    verbose_name = "Engagements et résultats"
