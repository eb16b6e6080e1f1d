"""`manage.py send_survey_invitations`: invite to the satisfaction questionnaire the people
whose appointment was honoured or whose complaint was answered a few hours ago, and send
the invitations left waiting. Run it every hour (cron, systemd timer); running it twice, or
twice at once, invites nobody twice."""

from django.core.management.base import BaseCommand

from voix.surveys import invitations


class Command(BaseCommand):
    help = (
        "Invite à répondre au questionnaire de satisfaction après un rendez-vous honoré ou "
        "une réclamation répondue, et envoie les invitations en attente (à lancer toutes "
        "les heures)."
    )

    def handle(self, *args, **options):
        self.stdout.write(invitations.sweep().summary())
