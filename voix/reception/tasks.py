"""Background jobs of the reception queue (Django Tasks API)."""

from django_tasks import task

from voix.core.sms import send_sms

from .models import Ticket


@task()
def send_turn_sms(ticket_id: int) -> str:
    """Text the person that their turn is near (the number is kept for the day only)."""
    ticket = Ticket.objects.select_related("queue", "site").filter(pk=ticket_id).first()
    if ticket is None or not ticket.phone:
        return "sans numéro"
    send_sms(
        ticket.phone,
        f"{ticket.site.name} : votre tour approche (ticket {ticket.code}). "
        "Merci de vous présenter dans la salle d'attente.",
    )
    return ticket.code
