"""manage.py create_api_token EMAIL [--nom NOM]: make an API token and print it once."""

import secrets

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from voix.commitments.models import ApiToken
from voix.core.models import User
from voix.core.services import record_event


@transaction.atomic
def create_api_token(actor, user, name: str = "") -> tuple[ApiToken, str]:
    """Create a read-only API token for *user*; return it with the clear key (shown once).

    Only the key's SHA-256 is kept; the token sees what *user* sees (their scope).
    """
    from voix.api import hash_token

    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, token_hash=hash_token(key), prefix=key[:8]
    )
    record_event(actor, "jeton_api.créé", token, changes={"titulaire": user.email, "nom": name})
    return token, key


class Command(BaseCommand):
    help = "Crée un jeton d'API (lecture seule) pour une personne et l'affiche une seule fois."

    def add_arguments(self, parser):
        parser.add_argument("email", help="adresse électronique du titulaire")
        parser.add_argument("--nom", default="", help="nom du jeton (usage prévu)")

    def handle(self, email, nom, **options):
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"Aucun compte pour l'adresse « {email} ».")
        if not user.is_active:
            raise CommandError(f"Le compte « {email} » est désactivé.")
        _token, key = create_api_token(None, user, nom)
        self.stdout.write(key)
        self.stderr.write("Conservez ce jeton : il ne sera plus jamais affiché.")
