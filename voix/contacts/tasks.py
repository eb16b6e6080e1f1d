"""Background jobs of the contacts app (Django Tasks API; run by `manage.py db_worker`)."""

import logging

from django_tasks import task

from .models import ImportRun

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
