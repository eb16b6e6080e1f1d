"""`manage.py send_reminders`: send the appointment reminders that are due, retry failed
messages and end expired waitlist entries. Run it every 15 minutes (cron, systemd timer);
several runs at once never send a reminder twice."""

from django.core.management.base import BaseCommand

from voix.appointments import notifications, waitlist
from voix.appointments.tasks import summary


class Command(BaseCommand):
    help = (
        "Envoie les rappels de rendez-vous dus, renvoie les messages en échec et termine "
        "les inscriptions échues sur liste d'attente (à lancer toutes les 15 minutes)."
    )

    def handle(self, *args, **options):
        reminders = notifications.send_due_reminders()
        retried = notifications.retry_failed()
        ended = waitlist.expire()
        self.stdout.write(summary(reminders, retried, ended))
