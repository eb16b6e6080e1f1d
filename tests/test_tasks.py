"""The Tasks API runs on the database backend, or on Redis, with their worker commands."""

import os

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from voix.core import services
from voix.core.models import Role

# Workers close database connections between jobs, as they should: these tests commit
# for real (transactional_db) instead of running inside a rolled-back transaction.


def test_invitation_is_queued_in_the_database_then_sent_by_the_worker(
    transactional_db, world, settings, mailoutbox, django_capture_on_commit_callbacks
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


def redis_is_up():
    import redis

    try:
        return redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        return False


def test_invitation_goes_through_redis_when_redis_is_the_backend(
    transactional_db, world, settings, mailoutbox, django_capture_on_commit_callbacks
):
    if not redis_is_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis injoignable sur 127.0.0.1:6379 : obligatoire en CI.")
        pytest.skip("Redis injoignable sur 127.0.0.1:6379.")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/15"}}
    # A job left by an earlier run that stopped half-way is not this test's.
    import redis

    redis.Redis.from_url("redis://127.0.0.1:6379/15").flushdb()
    with django_capture_on_commit_callbacks(execute=True):
        services.invite_person(
            None, email="rq@test.localhost", full_name="Rq", organisation=world.caf, role=Role.AGENT
        )
    assert mailoutbox == []
    # SimpleWorker runs the job in this process, so it sees the test's database transaction.
    call_command(
        "rqworker",
        "default",
        burst=True,
        job_class="django_tasks_rq.Job",
        worker_class="rq.worker.SimpleWorker",
    )
    assert [m.to for m in mailoutbox] == [["rq@test.localhost"]]
