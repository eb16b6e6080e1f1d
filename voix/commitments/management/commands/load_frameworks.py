"""Load the shipped référentiels (Services Publics+ 2023, Marianne 2016) and the national
indicator catalogue. Safe to run again: everything is updated in place by code."""

from django.core.management.base import BaseCommand

from voix.commitments.catalogue import load_shipped


class Command(BaseCommand):
    help = "Charge les référentiels livrés et le catalogue national d'indicateurs (rejouable)."

    def handle(self, *args, **options):
        frameworks, indicators = load_shipped()
        for framework in frameworks:
            self.stdout.write(
                f"Référentiel « {framework.name} » : "
                f"{framework.commitments.count()} engagements chargés."
            )
        self.stdout.write(f"Catalogue : {len(indicators)} indicateurs chargés.")
