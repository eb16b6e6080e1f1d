"""Background jobs of the surveys app (Django Tasks API; run by `manage.py db_worker`)."""

from django_tasks import task


@task()
def send_survey_invitation(invitation_id: int) -> bool:
    """Send one invitation's message (e-mail or SMS); run twice, it sends nothing more."""
    from . import services

    return services.send_invitation(invitation_id)


@task()
def send_survey_invitations() -> str:
    """The invitation sweep (what `manage.py send_survey_invitations` does)."""
    from . import invitations

    return invitations.sweep().summary()
