"""Background jobs of the complaints app (Django Tasks API; run by `manage.py db_worker`):
the messages to the requester."""

from django_tasks import task


@task()
def send_complaint_message(complaint_id: int, kind: str) -> int:
    """Send one message (acknowledgement, answer, mediation) to the requester; returns the
    messages sent. Run twice, it sends nothing more (see notifications)."""
    from . import notifications

    return notifications.send_message(complaint_id, kind)
