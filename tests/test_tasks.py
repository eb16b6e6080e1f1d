"""The Tasks API runs on the database backend with its worker command."""

from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from voix.core import services
from voix.core.models import Role


def test_invitation_is_queued_in_the_database_then_sent_by_the_worker(
    world, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_person(
            None,
            email="file@test.localhost",
            full_name="File",
            organisation=world.caf,
            role=Role.AGENT,
        )
    assert mailoutbox == []  # queued, not sent in the request
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", verbosity=0)
    assert [m.to for m in mailoutbox] == [["file@test.localhost"]]
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
