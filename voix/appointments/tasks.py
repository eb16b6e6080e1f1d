"""Background jobs of the appointments app (Django Tasks API; run by `manage.py db_worker`):
the messages about an appointment, the reminder sweep and the waitlist rounds."""

from datetime import datetime

from django_tasks import task


@task()
def send_appointment_message(appointment_id: int, kind: str, version: int) -> int:
    """Send one message (confirmation, change, cancellation…) on each channel the person
    gave; returns the messages sent. Run twice, it sends nothing more (see notifications)."""
    from . import notifications

    return notifications.send_message(appointment_id, kind, version)


@task()
def send_reminders() -> str:
    """The reminder sweep (what `manage.py send_reminders` does)."""
    from . import notifications, waitlist

    reminders = notifications.send_due_reminders()
    retried = notifications.retry_failed()
    ended = waitlist.expire()
    return summary(reminders, retried, ended)


@task()
def notify_waitlist(
    reason_id: int, site_id: int, freed_start: str, appointment_id=None, freed_at: str = ""
) -> int:
    """Tell the waitlist that a slot was freed; returns the entries notified."""
    from . import waitlist

    return waitlist.run_round(
        reason_id,
        site_id,
        datetime.fromisoformat(freed_start),
        appointment_id,
        freed_at=datetime.fromisoformat(freed_at) if freed_at else None,
    )


def summary(reminders: int, retried: int, ended: int) -> str:
    return (
        f"{reminders} rappel(s) envoyé(s), {retried} message(s) renvoyé(s) après un échec, "
        f"{ended} inscription(s) sur liste d'attente terminée(s)."
    )
