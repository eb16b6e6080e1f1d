"""Background jobs of the deadline clocks (Django Tasks API; run by `manage.py db_worker`)."""

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import ClockNotice


@task()
def send_clock_notices(notice_ids: list[int]) -> int:
    """E-mail each recipient one message listing their new clock notices. Returns e-mails sent.

    The notices were inserted once (ClockNotice is unique), so this runs once per notice.
    """
    notices = (
        ClockNotice.objects.filter(pk__in=notice_ids, recipient__isnull=False)
        .select_related("contact", "recipient")
        .order_by("recipient_id", "due_at")
    )
    by_recipient: dict = {}
    for notice in notices:
        by_recipient.setdefault(notice.recipient, []).append(notice)
    sent = 0
    for recipient, items in by_recipient.items():
        if not recipient.is_active:
            continue
        lines = [
            f"- {n.contact} : {n.get_kind_display().lower()} ({n.get_step_display().lower()}), "
            f"échéance le {timezone.localtime(n.due_at):%d/%m/%Y à %H:%M} — "
            f"{settings.BASE_URL}{reverse('contacts:contact', args=[n.contact_id])}"
            for n in items
        ]
        body = (
            f"Bonjour {recipient.get_short_name()},\n\n"
            "Des contacts qui vous sont confiés arrivent à échéance ou l'ont dépassée :\n\n"
            + "\n".join(lines)
            + "\n\nRetrouvez-les dans « Mes contacts à traiter » : "
            + settings.BASE_URL
            + reverse("contacts:my_worklist")
            + "\n"
        )
        breaches = sum(1 for n in items if n.kind == ClockNotice.Kind.BREACH)
        subject = (
            f"Voix — {breaches} échéance(s) dépassée(s)"
            if breaches
            else f"Voix — {len(items)} échéance(s) proche(s)"
        )
        send_mail(subject, body, None, [recipient.email])
        sent += 1
    return sent


@task()
def sweep_clocks() -> str:
    """Run the clock sweep (what `manage.py run_clock` does)."""
    from .clocks import sweep

    return str(sweep())
