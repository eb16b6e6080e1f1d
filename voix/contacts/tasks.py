"""Background jobs of the contacts app (Django Tasks API; run by `manage.py db_worker`):
file imports and the deadline clocks' notices and sweep."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from .models import ClockNotice, ImportRun

logger = logging.getLogger(__name__)


@task()
def run_import(run_id: int) -> str:
    """Run a recorded file import (the upload page enqueues it); returns the run's state.

    The run's row carries the progress and the outcome; a failure is recorded there too
    (state « échec ») rather than raised, so the page can say what happened.
    """
    from . import imports

    run = ImportRun.objects.select_related("profile__organisation", "user").get(pk=run_id)
    if run.state != ImportRun.State.PENDING:
        return run.state  # already run (a retried job never imports twice)
    try:
        imports.execute_run(run)
    except Exception:
        logger.exception("Import %s en échec", run_id)
        return ImportRun.State.FAILED
    return run.state


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
